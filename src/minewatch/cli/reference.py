"""``minewatch regions`` and ``minewatch enterprise``: look-ups in the packaged reference data."""

from __future__ import annotations

from typing import Annotated

import typer

from minewatch.cli import output
from minewatch.errors import MineWatchError
from minewatch.reference import credit_code, regions

regions_app = typer.Typer(help="GB/T 2260 administrative divisions (packaged).")
enterprise_app = typer.Typer(help="Enterprises and their unified social credit codes.")


@regions_app.command("lookup")
def lookup(query: Annotated[str, typer.Argument(help="A 6-digit code or a Chinese name.")]) -> None:
    """Find a region by code (current or retired) or by name."""
    if query.isdigit():
        region = regions.find(query)
        if region is not None:
            output.info(f"{region.code} {region.full_name} ({region.level.value})")
            return
        succession = regions.succession(query)
        if succession is None:
            raise MineWatchError(f"{query} is not a GB/T 2260 code")
        output.info(str(regions.UnknownRegionError(query)))
        return
    matches = regions.find_by_name(query)
    if not matches:
        raise MineWatchError(f"no region named {query}")
    for region in matches:
        output.info(f"{region.code} {region.full_name} ({region.level.value})")


@enterprise_app.command("check-code")
def check_code(codes: Annotated[list[str], typer.Argument(help="Credit codes to check.")]) -> None:
    """Check unified social credit codes (GB 32100-2015); exits 1 if any is invalid."""
    bad = 0
    for code in codes:
        try:
            normal = credit_code.validate(code)
        except MineWatchError as error:
            bad += 1
            output.info(f"{code}: invalid: {error}")
            continue
        region = regions.find(credit_code.region_code_of(normal))
        where = region.full_name if region else credit_code.region_code_of(normal)
        output.info(f"{normal}: valid (registered in {where})")
    if bad:
        raise typer.Exit(1)
