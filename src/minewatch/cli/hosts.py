"""``minewatch hosts``: the host rules of the server-room self-inspection (国有单位机房自查)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minewatch.cli import output
from minewatch.detect.hosts.report import host_report
from minewatch.detect.hosts.rules import Severity, load_rules, match_rules, validate_rules
from minewatch.errors import MineWatchError

app = typer.Typer(help="Host rules of the server-room self-inspection: list, validate, match.")

RulePaths = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Rule files or folders (default: the packaged rules)."),
]


@app.command("rules")
def rules(paths: RulePaths = None) -> None:
    """List the rules: id, level, status, title."""
    table = Table(title="host rules", title_justify="left")
    for header in ("id", "level", "status", "kind", "title"):
        table.add_column(header)
    for rule in sorted(load_rules(paths), key=lambda r: r.id):
        table.add_row(rule.id, rule.level, rule.status, rule.detection.kind, rule.title)
    output.show(table)


@app.command("validate")
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rule files or folders (default: packaged).")
    ] = None,
) -> None:
    """Check rule files: every problem with its file, rule and field; exit 1 on an error."""
    issues = validate_rules(paths)
    for issue in issues:
        output.info(str(issue))
    errors = sum(issue.severity is Severity.ERROR for issue in issues)
    if errors:
        raise MineWatchError(f"{errors} error(s) in the host rules")
    output.info(f"host rules valid ({len(issues)} warning(s))")


@app.command("match")
def match(
    report: Annotated[Path, typer.Argument(help="A probe's JSON report.")],
    paths: RulePaths = None,
) -> None:
    """Match the rules on a probe's report: each hit with its level and evidence, as JSON lines."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MineWatchError(f"{report}: not a readable JSON report ({error})") from None
    hits = match_rules(host_report(data), load_rules(paths) if paths else None)
    for hit in hits:
        line = {"rule": hit.rule, "level": hit.level, "title": hit.title, **hit.evidence}
        sys.stdout.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    output.info(f"{report}: {len(hits)} hit(s)")
