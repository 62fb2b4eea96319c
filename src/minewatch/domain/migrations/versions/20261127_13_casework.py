"""Indexes for the case page and lists: a case's leads and checks, cases and leads by score

(A case's measures are indexed by 20261127_14, cases by opening time by 20261127_11, a record's
audit events by 20261127_12.)

Revision ID: 20261127_13
Revises: 20261127_12
Create Date: 2026-11-27 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_13"
down_revision: str | None = "20261127_12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BY_CASE = ("case_lead", "site_check")


def upgrade() -> None:
    for table in _BY_CASE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mining_case_confidence"), ["confidence"])
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_score"), ["score"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_score"))
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mining_case_confidence"))
    for table in reversed(_BY_CASE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_case_id"))
