"""Ledger search in SQL: jurisdiction by the site's region, each filter, order, paging, counts by
status, the jurisdiction of writes, and a project's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from conftest import make_entry, make_uscc
from minewatch.domain.ledger.history import field_changes, project_history
from minewatch.domain.ledger.search import (
    ProjectFilters,
    ProjectSort,
    SortOrder,
    find_project,
    iter_projects,
    jurisdiction_problems,
    search_projects,
    status_figures,
)
from minewatch.domain.ledger.service import check_rows, save_entry, submit_entry
from minewatch.errors import InputFileError
from minewatch.reference.ledger import LedgerEntry, ProjectStatus, SiteType

SHIMIAN, HANYUAN, YAAN = "511824", "511823", "511800"


def _hanyuan(n: int, **changes: object) -> LedgerEntry:
    fields: dict[str, object] = {
        "enterprise_uscc": make_uscc(n, HANYUAN),
        "site_address": f"汉源县富林镇{n}号",
        "region_code": HANYUAN,
        "responsible_region_code": HANYUAN,
        "project_name": f"汉源县矿场{n}号",
    }
    return make_entry(n, **{**fields, **changes})


_STATUSES = [ProjectStatus.OPERATING, ProjectStatus.IN_CONSTRUCTION, ProjectStatus.SHUT_DOWN]


def _shimian(n: int) -> LedgerEntry:
    """Six projects of 石棉县: 1 and 4 in construction, 3 and 6 operating, 2 and 5 shut down."""
    return make_entry(
        n,
        status=_STATUSES[n % 3],
        rated_power_kw=None if n == 6 else 10.0 * n,
        site_type=SiteType.DATA_CENTRE if n <= 2 else SiteType.FACTORY,
        grid_account_no=f"ACC-shimian-{n}",
    )


@pytest.fixture
def ledger(session: Session) -> Session:
    for n in range(1, 7):
        save_entry(session, _shimian(n), actor="a")
    save_entry(session, _hanyuan(7), actor="b")  # XM-511823-0001
    # sited in 汉源, answered for by 石棉 (so numbered XM-511824-0007): 汉源's, not 石棉's
    save_entry(session, _hanyuan(8, responsible_region_code=SHIMIAN), actor="b")
    return session


def _codes(session: Session, region: str, **filters: object) -> list[str]:
    rows, total = search_projects(session, ProjectFilters(**filters), region_code=region, limit=100)
    assert total == len(rows)
    return [p.code for p in rows]


def test_a_region_sees_the_projects_sited_in_it_and_below(ledger: Session) -> None:
    assert len(_codes(ledger, SHIMIAN)) == 6
    assert _codes(ledger, HANYUAN) == ["XM-511823-0001", "XM-511824-0007"]
    assert len(_codes(ledger, YAAN)) == 8
    assert len(_codes(ledger, "510000")) == 8
    assert len(_codes(ledger, "000000")) == 8
    assert _codes(ledger, "110000") == []
    assert _codes(ledger, SHIMIAN, region_code=HANYUAN) == []  # a filter cannot widen the scope
    assert _codes(ledger, YAAN, region_code=HANYUAN) == ["XM-511823-0001", "XM-511824-0007"]
    assert find_project(ledger, "XM-511824-0007", region_code=SHIMIAN) is None
    assert find_project(ledger, "XM-511823-0001", region_code=SHIMIAN) is None
    assert find_project(ledger, "XM-511823-0001", region_code=YAAN) is not None


def test_each_filter_narrows_in_sql(ledger: Session) -> None:
    assert len(_codes(ledger, SHIMIAN, statuses=(ProjectStatus.OPERATING,))) == 2
    both = (ProjectStatus.OPERATING, ProjectStatus.SHUT_DOWN)
    assert len(_codes(ledger, SHIMIAN, statuses=both)) == 4
    assert len(_codes(ledger, SHIMIAN, site_type=SiteType.DATA_CENTRE)) == 2
    assert _codes(ledger, SHIMIAN, enterprise=make_uscc(4)) == ["XM-511824-0004"]
    assert _codes(ledger, SHIMIAN, enterprise="鑫源5科技") == ["XM-511824-0005"]
    assert _codes(ledger, SHIMIAN, q="acc-SHIMIAN-3") == ["XM-511824-0003"]  # case aside
    assert _codes(ledger, SHIMIAN, q="美罗镇2号") == ["XM-511824-0002"]
    assert _codes(ledger, SHIMIAN, q="0006") == ["XM-511824-0006"]  # code
    assert _codes(ledger, SHIMIAN, q="_") == []  # LIKE wildcards are literal
    assert _codes(ledger, SHIMIAN, q="\x1f") == _codes(ledger, SHIMIAN)  # control chars dropped
    assert _codes(ledger, SHIMIAN, q="0001美罗") == []  # no match across two fields
    overdue = _codes(ledger, SHIMIAN, exit_overdue_on=date(2022, 1, 1))  # deadline 2021-12-31
    assert overdue == ["XM-511824-0001", "XM-511824-0003", "XM-511824-0004", "XM-511824-0006"]
    assert _codes(ledger, SHIMIAN, exit_overdue_on=date(2021, 12, 31)) == []
    with pytest.raises(ValueError, match="not a GB/T 2260"):
        ProjectFilters(region_code="519999")


def test_order_and_pages(ledger: Session) -> None:
    power = SortOrder.parse("-power")
    assert (power.column, power.descending) == (ProjectSort.POWER, True)
    rows, total = search_projects(ledger, ProjectFilters(), region_code=SHIMIAN, limit=4,
                                  sort=power)  # fmt: skip
    assert total == 6
    assert [p.rated_power_kw for p in rows] == [50.0, 40.0, 30.0, 20.0]
    rest, _ = search_projects(ledger, ProjectFilters(), region_code=SHIMIAN, limit=4, offset=4,
                              sort=power)  # fmt: skip
    assert [p.rated_power_kw for p in rest] == [10.0, None]  # no figure: last either way
    ascending, _ = search_projects(ledger, ProjectFilters(), region_code=SHIMIAN, limit=10,
                                   sort=SortOrder.parse("power"))  # fmt: skip
    assert [p.rated_power_kw for p in ascending][-1] is None
    by_enterprise, _ = search_projects(ledger, ProjectFilters(), region_code=YAAN, limit=10,
                                       sort=SortOrder.parse("-enterprise"))  # fmt: skip
    names = [p.enterprise.name for p in by_enterprise]
    assert names == sorted(names, reverse=True)
    with pytest.raises(ValueError, match="sort by one of"):
        SortOrder.parse("colour")
    everything = [p.code for p in iter_projects(ledger, ProjectFilters(), region_code=SHIMIAN,
                                                 batch=4)]  # fmt: skip
    assert everything == [f"XM-511824-{n:04d}" for n in range(1, 7)]


def test_figures_count_each_status_setting_the_status_filter_aside(ledger: Session) -> None:
    wanted = ProjectFilters(statuses=(ProjectStatus.SHUT_DOWN,), site_type=SiteType.FACTORY)
    figures = status_figures(ledger, wanted, region_code=SHIMIAN)
    # the factories are 3 and 6 (operating), 4 (in construction) and 5 (shut down)
    assert dict(figures.projects) == {
        ProjectStatus.OPERATING: 2,
        ProjectStatus.IN_CONSTRUCTION: 1,
        ProjectStatus.SHUT_DOWN: 1,
    }
    assert (figures.total, figures.active, figures.all_statuses) == (1, 3, 4)
    assert figures.count(ProjectStatus.CLEARED) == 0


def test_writes_must_lie_in_the_writers_region(ledger: Session) -> None:
    mine = make_entry(20)
    elsewhere = _hanyuan(21)
    handed_over = make_entry(22, responsible_region_code=HANYUAN)
    theirs = replace(make_entry(23), project_code="XM-511823-0001")
    unknown_of_mine = replace(make_entry(24), project_code="XM-511824-0999")
    kept = replace(_hanyuan(8, responsible_region_code=SHIMIAN), project_code="XM-511824-0007")
    rows = [mine, elsewhere, handed_over, theirs, unknown_of_mine]
    problems = jurisdiction_problems(ledger, rows, region_code=SHIMIAN)
    assert {(p.index, p.field) for p in problems} == {
        (1, "region_code"),
        (1, "responsible_region_code"),
        (2, "responsible_region_code"),
        (3, "project_code"),
    }
    assert "汉源县矿场" not in " ".join(p.reason for p in problems)
    assert jurisdiction_problems(ledger, rows, region_code=YAAN) == []
    # 汉源 keeps the responsibility the city gave 石棉 for a site of 汉源's
    assert jurisdiction_problems(ledger, [kept], region_code=HANYUAN) == []
    assert jurisdiction_problems(ledger, [replace(kept, responsible_region_code="511825")],
                                 region_code=HANYUAN) != []  # fmt: skip


def test_a_duplicate_of_another_regions_project_is_refused_without_naming_it(
    ledger: Session,
) -> None:
    same_site = replace(_hanyuan(7), region_code=SHIMIAN, responsible_region_code=SHIMIAN)
    problems = check_rows(ledger, [(3, same_site)], within=SHIMIAN)
    assert [(p.row, p.column) for p in problems] == [(3, "project_code")]
    assert "XM-511823" not in problems[0].reason
    assert "XM-511823-0001" in check_rows(ledger, [(3, same_site)], within=YAAN)[0].reason


def test_a_submitted_entry_is_checked_before_anything_is_written(ledger: Session) -> None:
    with pytest.raises(InputFileError) as refused:
        submit_entry(ledger, _hanyuan(30), actor="石棉", within=SHIMIAN, source="api")
    assert {p.column for p in refused.value.problems} == {"region_code", "responsible_region_code"}
    assert find_project(ledger, "XM-511823-0003", region_code=HANYUAN) is None
    outcome = submit_entry(ledger, make_entry(30), actor="石棉", within=SHIMIAN, source="api")
    assert outcome.project_code == "XM-511824-0008"


def test_history_lists_who_changed_what(ledger: Session) -> None:
    save_entry(ledger, replace(_shimian(1), project_code="XM-511824-0001",
                               status=ProjectStatus.CLEARED, notes="拆除完毕"),
               actor="县发改局 李强", reason="现场核查")  # fmt: skip
    events = project_history(ledger, "XM-511824-0001")
    assert [e.action for e in events] == ["update", "create"]
    latest = events[0]
    assert (latest.actor, latest.reason) == ("县发改局 李强", "现场核查")
    assert {(c.field, c.before, c.after) for c in latest.changes} == {
        ("status", "in_construction", "cleared"),
        ("notes", None, "拆除完毕"),
    }
    assert project_history(ledger, "XM-511824-0999") == []
    assert field_changes({"a": None, "b": []}, {"a": "", "b": None}) == ()
