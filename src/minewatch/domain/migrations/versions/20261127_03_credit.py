"""Credit commitments and credit records (notice 1283 clause （九）)

Revision ID: 20261127_03
Revises: 20261127_04
Create Date: 2026-11-27 04:39:35.611027

Written after 20261127_02; it follows 20261127_04 (surcharge), which reached main first, so that
a database already at 20261127_04 still receives these tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261127_03"
down_revision: str | None = "20261127_04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "data_centre_operator",
                name="commitment_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("signatory", sa.String(length=100), nullable=False),
        sa.Column("document_name", sa.String(length=200), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_force",
                "withdrawn",
                "breached",
                name="commitment_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("withdrawn_date", sa.Date(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_commitment_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_commitment")),
    )
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_commitment_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_commitment_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_commitment_uscc"), ["uscc"], unique=False)

    op.create_table(
        "credit_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_no", sa.String(length=60), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("mining_start_date", sa.Date(), nullable=False),
        sa.Column("site_address", sa.String(length=300), nullable=True),
        sa.Column("rigs_found", sa.Integer(), nullable=False),
        sa.Column("rigs_json", sa.Text(), nullable=False),
        sa.Column("power_kw", sa.Float(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("measure", sa.String(length=100), nullable=False),
        sa.Column("restriction", sa.Text(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("publicity_until", sa.Date(), nullable=False),
        sa.Column("authority_region_code", sa.String(length=6), nullable=False),
        sa.Column("authority_name", sa.String(length=200), nullable=False),
        sa.Column("authority_uscc", sa.String(length=18), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "published",
                "corrected",
                "revoked",
                name="credit_record_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["credit_commitment.id"],
            name=op.f("fk_credit_record_commitment_id_credit_commitment"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_record_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_record")),
        sa.UniqueConstraint("case_no", name=op.f("uq_credit_record_case_no")),
        sa.UniqueConstraint("record_no", name=op.f("uq_credit_record_record_no")),
    )
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_record_authority_region_code"),
            ["authority_region_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_credit_record_commitment_id"), ["commitment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_record_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_record_uscc"), ["uscc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_record_uscc"))
        batch_op.drop_index(batch_op.f("ix_credit_record_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_credit_record_commitment_id"))
        batch_op.drop_index(batch_op.f("ix_credit_record_authority_region_code"))

    op.drop_table("credit_record")
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_commitment_uscc"))
        batch_op.drop_index(batch_op.f("ix_credit_commitment_status"))
        batch_op.drop_index(batch_op.f("ix_credit_commitment_enterprise_id"))

    op.drop_table("credit_commitment")
