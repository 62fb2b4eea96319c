"""Cases, their leads, site checks and measures (notice 1283 clauses 十二-十七)

Revision ID: 20261127_01
Revises: 20261126_01
Create Date: 2026-11-27 04:29:18.786860
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_01"
down_revision: str | None = "20261126_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mining_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "assigned",
                "checked",
                "confirmed",
                "dismissed",
                "measures_ordered",
                "measures_completed",
                "cleared",
                "rechecked",
                name="case_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("assigned_region_code", sa.String(length=6), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("account_no", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("sources", sa.String(length=200), nullable=False),
        sa.Column("est_start_date", sa.Date(), nullable=True),
        sa.Column("est_mining_kw", sa.Float(), nullable=True),
        sa.Column("project_code", sa.String(length=40), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("relapses", sa.Integer(), nullable=False),
        sa.Column("stage_entered_at", UTCDateTime(), nullable=False),
        sa.Column("stage_due_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_mining_case_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mining_case")),
        sa.UniqueConstraint("case_no", name=op.f("uq_mining_case_case_no")),
    )
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mining_case_account_no"), ["account_no"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mining_case_assigned_region_code"),
            ["assigned_region_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_mining_case_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mining_case_stage_due_at"), ["stage_due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mining_case_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_mining_case_uscc"), ["uscc"], unique=False)

    op.create_table(
        "case_lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("matched_on", sa.String(length=100), nullable=False),
        sa.Column("match_score", sa.Float(), nullable=False),
        sa.Column("attached_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mining_case.id"],
            name=op.f("fk_case_lead_case_id_mining_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], name=op.f("fk_case_lead_lead_id_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_lead")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_case_lead_lead_id")),
    )
    op.create_table(
        "case_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "power_cut",
                "surcharge",
                "market_exit",
                "fiscal_stop",
                "finance_stop",
                "closure",
                name="measure_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("clause", sa.String(length=8), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ordered",
                "completed",
                name="measure_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("ordered_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mining_case.id"],
            name=op.f("fk_case_measure_case_id_mining_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_measure")),
    )
    op.create_table(
        "site_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("inspectors", sa.String(length=300), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "mining_found",
                "no_mining",
                "site_closed",
                "no_access",
                name="check_outcome",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("rigs_found", sa.Integer(), nullable=False),
        sa.Column("rigs_json", sa.Text(), nullable=False),
        sa.Column("mining_kw_observed", sa.Float(), nullable=True),
        sa.Column("attachments_json", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recheck", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mining_case.id"],
            name=op.f("fk_site_check_case_id_mining_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_check")),
    )


def downgrade() -> None:
    op.drop_table("site_check")
    op.drop_table("case_measure")
    op.drop_table("case_lead")
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mining_case_uscc"))
        batch_op.drop_index(batch_op.f("ix_mining_case_status"))
        batch_op.drop_index(batch_op.f("ix_mining_case_stage_due_at"))
        batch_op.drop_index(batch_op.f("ix_mining_case_region_code"))
        batch_op.drop_index(batch_op.f("ix_mining_case_assigned_region_code"))
        batch_op.drop_index(batch_op.f("ix_mining_case_account_no"))

    op.drop_table("mining_case")
