"""Server-room self-inspection: unit keys, probe reports, actions; leads and cases on servers;
servers' MAC addresses indexed (filled from the inventories already stored)

Revision ID: 20261128_02
Revises: 20261128_01
Create Date: 2026-11-28 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261128_02"
down_revision: str | None = "20261128_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset_mac",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["server_asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_asset_mac_asset_id", "asset_mac", ["asset_id"])
    op.create_index("ix_asset_mac_mac", "asset_mac", ["mac"])
    op.execute(
        "INSERT INTO asset_mac (asset_id, mac) SELECT a.id, j.value FROM server_asset a, "
        "json_each(a.macs_json) j"
        if op.get_bind().dialect.name == "sqlite"
        else "INSERT INTO asset_mac (asset_id, mac) SELECT a.id, j.value FROM server_asset a, "
        "json_array_elements_text(a.macs_json::json) j"
    )
    op.create_table(
        "unit_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("supervisor", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id"),
    )
    op.create_index("ix_unit_key_unit", "unit_key", ["unit"])
    op.create_table(
        "host_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("asset_id", sa.String(length=100), nullable=True),
        sa.Column("matched_by", sa.String(length=20), nullable=True),
        sa.Column("hostname", sa.String(length=200), nullable=False),
        sa.Column("collected_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("clean", sa.Boolean(), nullable=False),
        sa.Column("hits_json", sa.Text(), nullable=False),
        sa.Column("processes", sa.Integer(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_sha256"),
    )
    op.create_index("ix_host_check_unit_asset", "host_check", ["unit", "asset_id"])
    op.create_table(
        "host_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("asset_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_host_action_unit_asset", "host_action", ["unit", "asset_id"])
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asset_key", sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f("ix_lead_asset_key"), ["asset_key"])
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asset_key", sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f("ix_mining_case_asset_key"), ["asset_key"])


def downgrade() -> None:
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mining_case_asset_key"))
        batch_op.drop_column("asset_key")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_asset_key"))
        batch_op.drop_column("asset_key")
    op.drop_index("ix_host_action_unit_asset", table_name="host_action")
    op.drop_table("host_action")
    op.drop_index("ix_host_check_unit_asset", table_name="host_check")
    op.drop_table("host_check")
    op.drop_index("ix_unit_key_unit", table_name="unit_key")
    op.drop_table("unit_key")
    op.drop_index("ix_asset_mac_mac", table_name="asset_mac")
    op.drop_index("ix_asset_mac_asset_id", table_name="asset_mac")
    op.drop_table("asset_mac")
