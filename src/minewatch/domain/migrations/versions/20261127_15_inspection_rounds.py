"""Inspection rounds: a double-random draw from its commitment to its publication

Revision ID: 20261127_15
Revises: 20261127_14
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_15"
down_revision: str | None = "20261127_14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_no", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "committed",
                "drawn",
                "published",
                name="inspection_round_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "target_source",
            sa.Enum(
                "ledger",
                "cases",
                "list",
                name="inspection_target_source",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("draw_date", sa.Date(), nullable=False),
        sa.Column("commitment_json", sa.Text(), nullable=False),
        sa.Column("target_pool_json", sa.Text(), nullable=False),
        sa.Column("inspector_pool_json", sa.Text(), nullable=False),
        sa.Column("accounts_json", sa.Text(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column("committed_by", sa.String(length=200), nullable=False),
        sa.Column("committed_at", UTCDateTime(), nullable=False),
        sa.Column("drawn_at", UTCDateTime(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["inspection_draw.id"],
            name=op.f("fk_inspection_round_draw_id_inspection_draw"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_round")),
        sa.UniqueConstraint("draw_id", name=op.f("uq_inspection_round_draw_id")),
        sa.UniqueConstraint("draw_no", name=op.f("uq_inspection_round_draw_no")),
    )
    op.create_index(
        op.f("ix_inspection_round_region_code"), "inspection_round", ["region_code"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_round_status"), "inspection_round", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inspection_round_status"), table_name="inspection_round")
    op.drop_index(op.f("ix_inspection_round_region_code"), table_name="inspection_round")
    op.drop_table("inspection_round")
