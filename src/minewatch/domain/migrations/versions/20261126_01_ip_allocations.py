"""IP address allocations (notice 1283 clause (十九): IP → enterprise → address)

Revision ID: 20261126_01
Revises: 20261123_01
Create Date: 2026-11-26 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261126_01"
down_revision: str | None = "20261123_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ip_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip_range", sa.String(length=100), nullable=False),
        sa.Column("ip_first", sa.String(length=39), nullable=False),
        sa.Column("ip_last", sa.String(length=39), nullable=False),
        sa.Column("first_key", sa.String(length=32), nullable=False),
        sa.Column("last_key", sa.String(length=32), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("isp", sa.String(length=100), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=True),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_allocation")),
    )
    with op.batch_alter_table("ip_allocation", schema=None) as batch_op:
        batch_op.create_index("ix_ip_allocation_keys", ["first_key", "last_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_ip_allocation_uscc"), ["uscc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ip_allocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ip_allocation_uscc"))
        batch_op.drop_index("ix_ip_allocation_keys")
    op.drop_table("ip_allocation")
