"""Double-random inspections: stored draws and their results

Revision ID: 20261127_05
Revises: 20261127_03
Create Date: 2026-11-27 05:13:39.706780
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_05"
down_revision: str | None = "20261127_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed_sha256", sa.String(length=64), nullable=False),
        sa.Column("draw_date", sa.Date(), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("stored_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draw")),
        sa.UniqueConstraint("seed_sha256", name=op.f("uq_inspection_draw_seed_sha256")),
    )
    op.create_table(
        "inspection_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector_ids", sa.String(length=300), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "compliant",
                "violation",
                "not_found",
                "refused",
                name="inspection_outcome",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["inspection_draw.id"],
            name=op.f("fk_inspection_result_draw_id_inspection_draw"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_inspection_result_lead_id_lead")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_result")),
        sa.UniqueConstraint(
            "draw_id", "target_id", name=op.f("uq_inspection_result_draw_id_target_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("inspection_result")
    op.drop_table("inspection_draw")
