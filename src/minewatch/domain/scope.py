"""Jurisdiction as SQL: the rows of a region and below, written so an index can serve them.

GB/T 2260 codes nest by digits — a province is ``PP0000``, a prefecture ``PPCC00``, a county
``PPCCDD`` — so "in 510000 and below" is the code range ``510000``…``519999`` and "in 511800 and
below" is ``511800``…``511899``. A range (not ``LIKE``) uses a plain B-tree index on every
backend and collation. Every list, search, export and count a user can reach goes through
:func:`within`; the per-record check is :meth:`minewatch.domain.cases.service.Actor.covers`,
which agrees with it for every code in the table.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from minewatch.reference import regions


def code_range(region_code: str) -> tuple[str, str] | None:
    """The inclusive code range of a region and everything below it (``None``: the nation)."""
    code = region_code.strip()
    if code == regions.NATIONAL:
        return None
    if code.endswith("0000"):
        return code[:2] + "0000", code[:2] + "9999"
    if code.endswith("00"):
        return code[:4] + "00", code[:4] + "99"
    return code, code


def within(
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None] | ColumnElement[str],
    region_code: str,
) -> ColumnElement[bool]:
    """``column`` lies in ``region_code`` or below (a NULL region lies only in the nation)."""
    span = code_range(region_code)
    if span is None:
        return true()
    low, high = span
    if low == high:
        return column == low
    return column.between(low, high)


def answering_within(
    assigned: InstrumentedAttribute[str | None],
    site: InstrumentedAttribute[str | None],
    region_code: str,
) -> ColumnElement[bool]:
    """The record's answering region — the assigned one, else the site's — lies in the region.

    Spelled as two index-friendly branches instead of ``COALESCE(assigned, site)``.
    """
    if code_range(region_code) is None:
        return true()
    return or_(
        and_(assigned.is_not(None), within(assigned, region_code)),
        and_(assigned.is_(None), site.is_not(None), within(site, region_code)),
    )


def nothing() -> ColumnElement[bool]:
    """A filter that keeps no row (an actor with no region at all)."""
    return false()
