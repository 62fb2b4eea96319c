"""Public reports (notice 1283 clauses 十二 and 十九)

Revision ID: 20261127_02
Revises: 20261127_01
Create Date: 2026-11-27 04:34:00.992187
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_02"
down_revision: str | None = "20261127_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_code", sa.String(length=20), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "12398",
                "12345",
                "letter",
                name="report_channel",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "triaged",
                "linked",
                "closed",
                name="report_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("observed", sa.Text(), nullable=False),
        sa.Column("power_use", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("assigned_region_code", sa.String(length=6), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("contact_ciphertext", sa.Text(), nullable=True),
        sa.Column("contact_key_id", sa.String(length=16), nullable=True),
        sa.Column("public_note", sa.Text(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_public_report_lead_id_lead")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_report")),
        sa.UniqueConstraint("receipt_code", name=op.f("uq_public_report_receipt_code")),
    )
    with op.batch_alter_table("public_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_public_report_assigned_region_code"),
            ["assigned_region_code"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_public_report_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_public_report_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_public_report_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_report_status"))
        batch_op.drop_index(batch_op.f("ix_public_report_region_code"))
        batch_op.drop_index(batch_op.f("ix_public_report_due_at"))
        batch_op.drop_index(batch_op.f("ix_public_report_assigned_region_code"))

    op.drop_table("public_report")
