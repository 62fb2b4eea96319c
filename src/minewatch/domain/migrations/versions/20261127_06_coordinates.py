"""Coordinates of leads and cases (fusion by site location)

Revision ID: 20261127_06
Revises: 20261127_05
Create Date: 2026-11-27 05:16:19.725781
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_06"
down_revision: str | None = "20261127_05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))

    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mining_case", schema=None) as batch_op:
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")
