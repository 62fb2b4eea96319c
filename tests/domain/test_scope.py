"""Jurisdiction in SQL agrees with the per-record check for every code in the table."""

from __future__ import annotations

import pytest
from sqlalchemy import column, select, table
from sqlalchemy.engine import Engine

from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.scope import code_range, within
from minewatch.reference import regions


def test_code_ranges_follow_the_levels_of_the_code() -> None:
    assert code_range("000000") is None
    assert code_range("510000") == ("510000", "519999")
    assert code_range("511800") == ("511800", "511899")
    assert code_range("511824") == ("511824", "511824")


@pytest.mark.parametrize("region", ["510000", "511800", "511824", "429000", "110000"])
def test_sql_filter_keeps_exactly_what_the_actor_covers(engine: Engine, region: str) -> None:
    codes = [r.code for r in regions.all_regions()] + ["999999"]
    places = table("places", column("code"))
    actor = Actor("x", Role.COUNTY, region)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TEMPORARY TABLE places (code VARCHAR(6))")
        connection.execute(places.insert(), [{"code": c} for c in codes])
        kept = set(connection.scalars(select(places.c.code).where(within(places.c.code, region))))
        connection.exec_driver_sql("DROP TABLE places")  # the pooled connection lives on
    assert kept == {c for c in codes if actor.covers(c)}
    assert kept
