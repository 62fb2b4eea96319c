"""Server inventories of state-owned units (资产台账)

Revision ID: 20261128_01
Revises: 20261127_13
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261128_01"
down_revision: str | None = "20261127_13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("asset_id", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("room", sa.String(length=200), nullable=True),
        sa.Column("rack", sa.String(length=100), nullable=True),
        sa.Column("hostname", sa.String(length=200), nullable=True),
        sa.Column("ips_json", sa.Text(), nullable=False),
        sa.Column("macs_json", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("cpu_count", sa.Integer(), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit", "asset_id", name="uq_server_asset_unit_asset"),
    )
    op.create_index("ix_server_asset_unit", "server_asset", ["unit"])
    op.create_table(
        "asset_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=39), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["server_asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_asset_address_asset_id", "asset_address", ["asset_id"])
    op.create_index("ix_asset_address_ip", "asset_address", ["ip"])


def downgrade() -> None:
    op.drop_index("ix_asset_address_ip", table_name="asset_address")
    op.drop_index("ix_asset_address_asset_id", table_name="asset_address")
    op.drop_table("asset_address")
    op.drop_index("ix_server_asset_unit", table_name="server_asset")
    op.drop_table("server_asset")
