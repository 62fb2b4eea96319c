"""Dashboard indexes: projects by region and status, cases by opening time

Revision ID: 20261127_11
Revises: 20261127_08
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_11"
down_revision: str | None = "20261127_08"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_project_region_code_status"),
        "project",
        ["region_code", "status"],
        postgresql_include=["rated_power_kw"],
    )
    op.create_index(op.f("ix_mining_case_opened_at"), "mining_case", ["opened_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mining_case_opened_at"), table_name="mining_case")
    op.drop_index(op.f("ix_project_region_code_status"), table_name="project")
