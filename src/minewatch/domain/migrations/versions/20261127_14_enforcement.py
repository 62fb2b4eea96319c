"""Indexes for the measures list: a case's measures, and measures by due date

Revision ID: 20261127_14
Revises: 20261127_11
Create Date: 2026-11-27 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_14"
down_revision: str | None = "20261127_11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_measure_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_measure_due_date"), ["due_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_measure_due_date"))
        batch_op.drop_index(batch_op.f("ix_case_measure_case_id"))
