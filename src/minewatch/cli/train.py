"""``minewatch train``: retrain a packaged model on MineWatch's own generator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import output

app = typer.Typer(help="Retrain the packaged models (offline, on synthetic provinces only).")


@app.command("meters")
def meters(
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the model (default: the package's own file)."),
    ] = None,
    meters_per_province: Annotated[
        int, typer.Option("--meters", min=1000, help="Meters per training province.")
    ] = 10_000,
) -> None:
    """Train the meter model on generated provinces with varied physics; pick its threshold
    on held-out provinces."""
    from minewatch.detect.meters.model import PACKAGED_MODEL_PATH, save_model
    from minewatch.engine import training

    target = out or PACKAGED_MODEL_PATH
    model = training.train(n_meters=meters_per_province, log=output.info)
    save_model(model, target)
    output.info(f"wrote {target}")
