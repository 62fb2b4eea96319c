"""``minewatch audit``: the tamper-evident history."""

from __future__ import annotations

from typing import Annotated

import typer

from minewatch.cli import context, output

# Registering the audited entity types is a side effect of importing their services.
from minewatch.domain.accounts import service as _accounts  # noqa: F401
from minewatch.domain.allocations import service as _allocations  # noqa: F401
from minewatch.domain.apikeys import service as _apikeys  # noqa: F401
from minewatch.domain.assets import service as _assets  # noqa: F401
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases import service as _cases  # noqa: F401
from minewatch.domain.credit import service as _credit  # noqa: F401
from minewatch.domain.db import session_scope
from minewatch.domain.enterprises import service as _enterprises  # noqa: F401
from minewatch.domain.inspections import results as _inspections  # noqa: F401
from minewatch.domain.inspections import rounds as _rounds  # noqa: F401
from minewatch.domain.leads import service as _leads  # noqa: F401
from minewatch.domain.ledger import service as _ledger  # noqa: F401
from minewatch.domain.measures import service as _measures  # noqa: F401
from minewatch.domain.reports import service as _reports  # noqa: F401
from minewatch.domain.selfcheck import keys as _unit_keys  # noqa: F401
from minewatch.domain.selfcheck import service as _selfcheck  # noqa: F401

app = typer.Typer(help="The audit chain of every change.")


@app.command("verify")
def verify(
    no_state: Annotated[
        bool, typer.Option("--chain-only", help="Check the chain but not the tables against it.")
    ] = False,
) -> None:
    """Check every event's hash and link, and every record against its last event.

    Exits 0 when intact, 1 naming each edited, deleted or out-of-band-changed record otherwise.
    """
    with session_scope(context.engine()) as session:
        report = verify_chain(session, check_state=not no_state)
    for line in output.audit_lines(report):
        output.info(line)
    if not report.ok:
        raise typer.Exit(1)
