"""foundation: enterprises, ledger, audit chain

Revision ID: 20261122_01
Revises: (none)
Create Date: 2026-11-22 15:38:26.417170
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minewatch.domain.db import UTCDateTime

revision: str = "20261122_01"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    audit_head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("hash", sa.String),
    )
    # The chain starts from a fixed genesis hash; seq 0 means no event yet.
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_representative", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("state_owned", sa.Boolean(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "data_centre_operator",
                "mining_operator",
                "power_plant",
                "isp",
                "park",
                "state_owned_unit",
                "other",
                name="enterprise_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprise_uscc")),
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("site_address", sa.String(length=300), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column(
            "site_type",
            sa.Enum(
                "industrial_park",
                "big_data_park",
                "data_centre",
                "factory",
                "residence",
                "state_owned_server_room",
                "other",
                name="site_type",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "in_construction",
                "operating",
                "shut_down",
                "cleared",
                name="project_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("machine_count", sa.Integer(), nullable=True),
        sa.Column("hashrate", sa.Double(), nullable=True),
        sa.Column(
            "hashrate_unit",
            sa.Enum(
                "H/s",
                "KH/s",
                "MH/s",
                "GH/s",
                "TH/s",
                "PH/s",
                "EH/s",
                "Sol/s",
                "KSol/s",
                name="hashrate_unit",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("rated_power_kw", sa.Double(), nullable=True),
        sa.Column("monthly_energy_kwh", sa.Double(), nullable=True),
        sa.Column("planned_production_date", sa.Date(), nullable=True),
        sa.Column(
            "supply_kind",
            sa.Enum(
                "grid",
                "self_owned_plant",
                "plant_direct_line",
                name="supply_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("grid_account_no", sa.String(length=40), nullable=True),
        sa.Column("supply_line", sa.String(length=200), nullable=True),
        sa.Column("supply_plant", sa.String(length=200), nullable=True),
        sa.Column(
            "discovered_by",
            sa.Enum(
                "electricity_analysis",
                "network_monitoring",
                "public_report",
                "inspection",
                "self_report",
                name="discovery",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("responsible_region_code", sa.String(length=6), nullable=False),
        sa.Column("responsible_official", sa.String(length=200), nullable=True),
        sa.Column("exit_deadline", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_project_enterprise_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("code", name=op.f("uq_project_code")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_grid_account_no"), ["grid_account_no"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_project_region_code"), ["region_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_project_responsible_region_code"),
            ["responsible_region_code"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_project_status"), ["status"], unique=False)

    op.create_table(
        "project_machine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_machine_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_machine")),
        sa.UniqueConstraint(
            "project_id", "model", name=op.f("uq_project_machine_project_id_model")
        ),
    )


def downgrade() -> None:
    op.drop_table("project_machine")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_status"))
        batch_op.drop_index(batch_op.f("ix_project_responsible_region_code"))
        batch_op.drop_index(batch_op.f("ix_project_region_code"))
        batch_op.drop_index(batch_op.f("ix_project_grid_account_no"))
        batch_op.drop_index(batch_op.f("ix_project_enterprise_id"))

    op.drop_table("project")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_region_code"))

    op.drop_table("enterprise")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
