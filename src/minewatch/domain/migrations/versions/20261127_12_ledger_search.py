"""Ledger search: trigram index for free text (PostgreSQL), project history, cases by project

Revision ID: 20261127_12
Revises: 20261127_15
Create Date: 2026-11-27 12:00:00

- ``ix_project_search_text``: a pg_trgm GIN index over project code, name, site address and
  grid account number joined as :func:`minewatch.domain.ledger.models.project_search_text`
  writes them, serving ``LIKE '%…%'`` of three characters or more (PostgreSQL only; the
  extension is trusted since PostgreSQL 13, so the database owner may create it).
- ``ix_project_region_code`` is dropped: ``ix_project_region_code_status`` (20261127_11) serves
  the same ranges of site regions, and the figures by status for a region from the index alone.
- ``ix_audit_event_entity_type_entity_id_seq``: one record's history in chain order.
- ``ix_mining_case_project_code``: the cases of a ledger project.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_12"
down_revision: str | None = "20261127_15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TEXT = (
    "(code || '\x1f' || name || '\x1f' || site_address || '\x1f' || coalesce(grid_account_no, ''))"
)


def upgrade() -> None:
    # ix_project_region_code_status (20261127_11) serves the same ranges of site regions
    op.drop_index(op.f("ix_project_region_code"), table_name="project")
    op.create_index(
        op.f("ix_audit_event_entity_type_entity_id_seq"),
        "audit_event",
        ["entity_type", "entity_id", "seq"],
    )
    op.create_index(op.f("ix_mining_case_project_code"), "mining_case", ["project_code"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_project_search_text ON project USING gin ({SEARCH_TEXT} gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_project_search_text")
    op.drop_index(op.f("ix_mining_case_project_code"), table_name="mining_case")
    op.drop_index(op.f("ix_audit_event_entity_type_entity_id_seq"), table_name="audit_event")
    op.create_index(op.f("ix_project_region_code"), "project", ["region_code"])
