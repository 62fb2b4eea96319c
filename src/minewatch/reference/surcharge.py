"""Differential electricity surcharge rates (差别电价) on crypto-mining accounts.

Notice 1283 clause （十三） 实行差别电价 puts mining projects under the differential-price policy
at the rate of the 淘汰类 (to-be-eliminated) industries: 加价标准为每千瓦时 0.30 元, and a province
may raise it (地方可根据实际情况进一步提高加价标准). The packaged table
``data/mining-surcharge-rates.csv`` holds the national rate from the notice's date (2021-09-03)
and two provincial example rates (Sichuan 2.00, Inner Mongolia 1.00 yuan/kWh) whose ``source``
says they must be confirmed against the provincial notice before anyone is billed with them.

A deployment passes its own table with :func:`load_table`: either instead of the packaged one
(:attr:`TableMode.REPLACE`) or on top of it (:attr:`TableMode.EXTEND`, where the deployment's rows
for a region take the place of every packaged row for that region).

Columns (one header row, UTF-8, optional BOM):

``region_code``
    GB/T 2260 code of the province, prefecture or county the rate applies to; ``000000`` is the
    whole country.
``rate_yuan_per_kwh``
    Surcharge added to the tariff [yuan/kWh], a decimal ≥ 0 (read exactly, never as a float).
``valid_from_date``, ``valid_to_date``
    First and last day (inclusive, ISO ``YYYY-MM-DD``) the rate is in force; an empty
    ``valid_to_date`` leaves it open.
``source``
    Where the rate comes from (the notice and clause); required.

Two rows for one region may not be in force on the same day. Every problem of a file is reported
at once, each with its row (1 is the header) and column; nothing is loaded from a file that has
any (:class:`~minewatch.errors.InputFileError`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path

from minewatch.errors import InputFileError, InputProblem
from minewatch.reference import regions

__all__ = [
    "COLUMNS",
    "NATIONAL",
    "PACKAGED_NAME",
    "SurchargeRate",
    "SurchargeRateTable",
    "TableMode",
    "load_table",
    "packaged_table",
    "parse_table",
    "read_table",
]

NATIONAL = regions.NATIONAL
"""Region code of a rate that applies to the whole country."""

PACKAGED_NAME = "mining-surcharge-rates.csv"
"""File name of the packaged table inside ``minewatch/reference/data``."""

COLUMNS = ("region_code", "rate_yuan_per_kwh", "valid_from_date", "valid_to_date", "source")
"""The columns a rate table must have (others are ignored)."""


@dataclass(frozen=True)
class SurchargeRate:
    """One row of a rate table: a region's surcharge over a span of days."""

    region_code: str
    """GB/T 2260 code; ``000000`` for the whole country."""
    rate_yuan_per_kwh: Decimal
    """Surcharge on top of the tariff [yuan/kWh]."""
    valid_from_date: date
    """First day in force (inclusive)."""
    valid_to_date: date | None
    """Last day in force (inclusive); ``None`` while open-ended."""
    source: str
    """The document (and clause) the rate comes from."""
    origin: str = ""
    """The file and row it was read from, e.g. ``rates.csv row 3``."""

    def covers(self, day: date) -> bool:
        """True when the rate is in force on ``day``."""
        return self.valid_from_date <= day and (
            self.valid_to_date is None or day <= self.valid_to_date
        )


class TableMode(StrEnum):
    """How a deployment's table combines with the packaged one."""

    REPLACE = "replace"
    """Only the deployment's rows are used."""
    EXTEND = "extend"
    """The packaged rows, except for regions the deployment's table names, plus its rows."""


@dataclass(frozen=True)
class SurchargeRateTable:
    """A validated set of rates: no two rows of one region are in force on the same day."""

    rates: tuple[SurchargeRate, ...]
    origin: str
    """Where the table came from (file names, and how they were combined)."""

    def for_region(self, region_code: str) -> tuple[SurchargeRate, ...]:
        """The rows of exactly ``region_code`` (not of regions above it), earliest first."""
        return tuple(
            sorted(
                (r for r in self.rates if r.region_code == region_code),
                key=lambda r: r.valid_from_date,
            )
        )

    def in_force(self, region_code: str, day: date) -> SurchargeRate | None:
        """The row of exactly ``region_code`` in force on ``day``, or ``None``."""
        for rate in self.rates:
            if rate.region_code == region_code and rate.covers(day):
                return rate
        return None

    @property
    def region_codes(self) -> frozenset[str]:
        """The regions that have at least one row."""
        return frozenset(r.region_code for r in self.rates)


def _parse_rate(text: str) -> tuple[Decimal | None, str | None]:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"{text!r} is not a decimal number of yuan per kWh"
    if not value.is_finite():
        return None, f"{text!r} is not a finite number"
    if value < 0:
        return None, f"{text} is negative; a surcharge rate is ≥ 0 yuan/kWh"
    return value, None


def _parse_date(text: str) -> tuple[date | None, str | None]:
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, f"{text!r} is not a date like 2021-09-03"


def _collector(problems: list[InputProblem], row: int) -> Callable[[str, str], None]:
    def bad(column: str, reason: str) -> None:
        problems.append(InputProblem(row, column, reason))

    return bad


def parse_table(text: str, name: str) -> SurchargeRateTable:
    """Read and validate a rate table from CSV ``text``; ``name`` is used in messages.

    Raises
    ------
    InputFileError
        Listing every problem with its row (the header is row 1) and column; nothing is
        returned when there is any.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InputFileError(name, [InputProblem(None, None, "the file is empty")])
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            name, [InputProblem(1, c, "required column is missing") for c in missing]
        )
    index = {c: header.index(c) for c in COLUMNS}
    problems: list[InputProblem] = []
    rates: list[tuple[int, SurchargeRate]] = []
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                InputProblem(
                    row_number, None, f"has {len(cells)} cells, the header has {len(header)}"
                )
            )
            continue
        cell = {c: cells[i].strip() for c, i in index.items()}
        row_problems: list[InputProblem] = []
        bad = _collector(row_problems, row_number)
        code = cell["region_code"]
        if code != NATIONAL and not regions.is_valid_code(code, include_retired=False):
            if regions.is_valid_code(code):
                bad("region_code", f"{code!r} is a retired GB/T 2260 code")
            else:
                bad("region_code", f"{code!r} is not a GB/T 2260 code (000000 for national)")
        rate, why = _parse_rate(cell["rate_yuan_per_kwh"])
        if why:
            bad("rate_yuan_per_kwh", why)
        valid_from, why = _parse_date(cell["valid_from_date"])
        if why:
            bad("valid_from_date", why)
        valid_to: date | None = None
        if cell["valid_to_date"]:
            valid_to, why = _parse_date(cell["valid_to_date"])
            if why:
                bad("valid_to_date", why)
        if valid_from is not None and valid_to is not None and valid_to < valid_from:
            bad("valid_to_date", f"{valid_to} is before valid_from_date {valid_from}")
        if not cell["source"]:
            bad("source", "is empty; say which notice (and clause) the rate comes from")
        problems.extend(row_problems)
        if row_problems or rate is None or valid_from is None:
            continue
        rates.append(
            (
                row_number,
                SurchargeRate(
                    region_code=code,
                    rate_yuan_per_kwh=rate,
                    valid_from_date=valid_from,
                    valid_to_date=valid_to,
                    source=cell["source"],
                    origin=f"{name} row {row_number}",
                ),
            )
        )
    problems.extend(_overlaps(rates))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputFileError(name, problems)
    return SurchargeRateTable(tuple(r for _, r in rates), origin=name)


def _overlaps(rates: Iterable[tuple[int, SurchargeRate]]) -> list[InputProblem]:
    """One problem per row whose validity overlaps an earlier-starting row of the same region."""
    by_region: dict[str, list[tuple[int, SurchargeRate]]] = {}
    for row, rate in rates:
        by_region.setdefault(rate.region_code, []).append((row, rate))
    problems: list[InputProblem] = []
    for rows in by_region.values():
        rows.sort(key=lambda item: (item[1].valid_from_date, item[0]))
        # The earlier row that reaches furthest: any later row starting on or before its end
        # overlaps it.
        reach: tuple[int, SurchargeRate] | None = None
        for row_b, b in rows:
            if reach is not None:
                row_a, a = reach
                if a.valid_to_date is None or b.valid_from_date <= a.valid_to_date:
                    until = "open-ended" if a.valid_to_date is None else f"to {a.valid_to_date}"
                    problems.append(
                        InputProblem(
                            row_b,
                            "valid_from_date",
                            f"region {b.region_code} from {b.valid_from_date} overlaps row "
                            f"{row_a} (from {a.valid_from_date}, {until}); a region has one rate "
                            "a day",
                        )
                    )
            if reach is None or _reaches_beyond(b, reach[1]):
                reach = (row_b, b)
    return problems


def _reaches_beyond(a: SurchargeRate, b: SurchargeRate) -> bool:
    if b.valid_to_date is None:
        return False
    return a.valid_to_date is None or a.valid_to_date > b.valid_to_date


def read_table(path: Path | str) -> SurchargeRateTable:
    """Read and validate a deployment's rate table (see the module docstring for its columns).

    Raises
    ------
    InputFileError
        When the file cannot be read or any row is wrong (each problem names row and column).
    """
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(path, [InputProblem(None, None, f"cannot be read: {error}")]) from None
    return parse_table(text, str(path))


@cache
def packaged_table() -> SurchargeRateTable:
    """The packaged table (national rate of notice 1283 and the provincial examples)."""
    data = resources.files("minewatch.reference").joinpath(f"data/{PACKAGED_NAME}")
    return parse_table(data.read_text("utf-8"), PACKAGED_NAME)


def load_table(
    path: Path | str | None = None, mode: TableMode = TableMode.EXTEND
) -> SurchargeRateTable:
    """The table to bill with: the packaged one, or a deployment's combined with it.

    Parameters
    ----------
    path
        A deployment's own table; ``None`` gives the packaged table.
    mode
        :attr:`TableMode.REPLACE` uses only the deployment's rows (it must then hold every rate
        needed, national included). :attr:`TableMode.EXTEND` keeps the packaged rows of every
        region the deployment's table does not name, so a deployment that lists Sichuan (510000)
        replaces the packaged Sichuan example entirely and keeps the national rate.
    """
    packaged = packaged_table()
    if path is None:
        return packaged
    own = read_table(path)
    if mode is TableMode.REPLACE:
        return own
    named = own.region_codes
    kept = tuple(r for r in packaged.rates if r.region_code not in named)
    return SurchargeRateTable(kept + own.rates, origin=f"{own.origin} over {packaged.origin}")
