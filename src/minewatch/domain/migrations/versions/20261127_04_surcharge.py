"""The surcharge list: accounts, bills, payments (notice 1283 clause 十三)

Revision ID: 20261127_04
Revises: 20261127_02
Create Date: 2026-11-27 04:39:45.438293
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_04"
down_revision: str | None = "20261127_02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surcharge_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_no", sa.String(length=40), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("mining_start_date", sa.Date(), nullable=False),
        sa.Column("listed_at", UTCDateTime(), nullable=False),
        sa.Column("delisted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surcharge_account")),
        sa.UniqueConstraint("account_no", name=op.f("uq_surcharge_account_account_no")),
    )
    with op.batch_alter_table("surcharge_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surcharge_account_case_no"), ["case_no"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_surcharge_account_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "surcharge_bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("metered_wh", sa.BigInteger(), nullable=False),
        sa.Column("surcharged_wh", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("billed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["surcharge_account.id"],
            name=op.f("fk_surcharge_bill_account_id_surcharge_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surcharge_bill")),
    )
    with op.batch_alter_table("surcharge_bill", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surcharge_bill_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "surcharge_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("paid_date", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["surcharge_account.id"],
            name=op.f("fk_surcharge_payment_account_id_surcharge_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surcharge_payment")),
    )
    with op.batch_alter_table("surcharge_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surcharge_payment_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("surcharge_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surcharge_payment_account_id"))

    op.drop_table("surcharge_payment")
    with op.batch_alter_table("surcharge_bill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surcharge_bill_account_id"))

    op.drop_table("surcharge_bill")
    with op.batch_alter_table("surcharge_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surcharge_account_region_code"))
        batch_op.drop_index(batch_op.f("ix_surcharge_account_case_no"))

    op.drop_table("surcharge_account")
