"""``minewatch probe``: run the host probe here, or write out the single file handed to units."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import output
from minewatch.probe import hostprobe

app = typer.Typer(help="The host probe of the server-room self-inspection (read-only).")


@app.command("run")
def run(
    out: Annotated[
        Path | None, typer.Option(help="Report file (default: standard output).")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option(help="The unit's key: sign the report (HMAC-SHA256).")
    ] = None,
    window: Annotated[float, typer.Option(min=0.0, help="Seconds of CPU measurement.")] = 2.0,
    post: Annotated[
        str | None,
        typer.Option(help="Send the signed report to the platform at this address (unit key)."),
    ] = None,
) -> None:
    """Probe this server and write its JSON report (match it with `minewatch hosts match`)."""
    argv = ["--window", str(window)]
    if out is not None:
        argv += ["--out", str(out)]
    if key_file is not None:
        argv += ["--key-file", str(key_file)]
    if post is not None:
        argv += ["--post", post]
    hostprobe.main(argv)


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="Where to write the probe (one Python file).")],
) -> None:
    """Write the probe as the single file a unit's IT department runs on each server
    (Python 3.8 or newer, standard library only, nothing to install)."""
    shutil.copyfile(hostprobe.__file__, out)
    output.info(f"probe written to {out}: python3 {out.name} --out report.json")
