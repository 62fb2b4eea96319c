"""Inspection results: only for drawn targets, only from the drawn team; a violation is a lead."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import at, make_uscc
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import fuse_leads
from minewatch.domain.inspections.draw import (
    DrawParameters,
    Inspector,
    SeedSource,
    Target,
    draw_inspections,
)
from minewatch.domain.inspections.models import InspectionDraw, InspectionOutcome
from minewatch.domain.inspections.results import (
    InspectionError,
    ResultData,
    get_draw,
    published_results,
    record_result,
    store_draw,
)

TARGETS = [
    Target(f"BZ-{i:03d}", "511824", make_uscc(i),
           {"name": f"申请单位{i}", "address": f"四川省雅安市石棉县美罗镇建设路{i}号"})
    for i in range(1, 21)
]  # fmt: skip
INSPECTORS = [
    Inspector(f"ZF-{i:02d}", f"检查员{i}", "511802", ("发改", "能源监管")[i % 2]) for i in range(8)
]
SOURCE = SeedSource("03 08 15 21 27 33 + 12", "福彩双色球 第2021115期")


def _stored(session: Session) -> tuple[InspectionDraw, list[str], dict[str, tuple[str, ...]]]:
    record = draw_inspections(
        TARGETS, INSPECTORS, DrawParameters(date(2021, 10, 8), target_count=4), SOURCE
    )
    draw = store_draw(session, record, TARGETS, INSPECTORS, actor="省能源局", at=at("2021-10-08"))
    teams = {a.target_id: a.inspector_ids for a in record.assignments}
    return draw, list(record.picks), teams


def test_results_are_recorded_for_drawn_targets_by_their_team(session: Session) -> None:
    draw, picks, teams = _stored(session)
    assert get_draw(session, draw.seed_sha256[:12]) is draw
    first, second = picks[0], picks[1]
    record_result(session, draw, TARGETS, ResultData(first, date(2021, 10, 12), teams[first],
                  InspectionOutcome.COMPLIANT), actor="检查组", at=at("2021-10-12"))  # fmt: skip
    record_result(session, draw, TARGETS, ResultData(second, date(2021, 10, 13), teams[second],
                  InspectionOutcome.VIOLATION, "申请用途为加工，现场为矿机"), actor="检查组",
                  at=at("2021-10-13"))  # fmt: skip
    published = published_results(session, draw)
    assert [r["target_id"] for r in published] == picks
    assert [r["outcome"] for r in published] == ["compliant", "violation", "pending", "pending"]
    assert all("inspector" not in key for row in published for key in row)
    fuse_leads(session, actor="省能源局", at=at("2021-10-13"))
    case = session.scalars(select(Case)).one()
    assert case.sources == "inspection"
    assert case.confidence == pytest.approx(0.95)
    assert verify_chain(session).ok


def test_results_that_the_draw_does_not_allow_are_refused(session: Session) -> None:
    draw, picks, teams = _stored(session)
    undrawn = next(t.target_id for t in TARGETS if t.target_id not in picks)
    others = tuple(i.inspector_id for i in INSPECTORS if i.inspector_id not in teams[picks[0]])
    cases = [
        (ResultData(undrawn, date(2021, 10, 12), ("ZF-00",), InspectionOutcome.COMPLIANT),
         "was not drawn"),
        (ResultData(picks[0], date(2021, 10, 12), others[:2], InspectionOutcome.COMPLIANT),
         "was drawn for"),
        (ResultData(picks[0], date(2021, 10, 1), teams[picks[0]], InspectionOutcome.COMPLIANT),
         "before the draw"),
    ]  # fmt: skip
    for data, message in cases:
        with pytest.raises(InspectionError, match=message):
            record_result(session, draw, TARGETS, data, actor="x")
    ok = ResultData(picks[0], date(2021, 10, 12), teams[picks[0]], InspectionOutcome.REFUSED)
    record_result(session, draw, TARGETS, ok, actor="x")
    with pytest.raises(InspectionError, match="already has its result"):
        record_result(session, draw, TARGETS, ok, actor="x")


def test_a_draw_that_does_not_check_out_is_not_stored(session: Session) -> None:
    record = draw_inspections(
        TARGETS, INSPECTORS, DrawParameters(date(2021, 10, 8), target_count=4), SOURCE
    )
    changed = [*TARGETS[:-1], Target("BZ-020", "511824", make_uscc(99))]
    with pytest.raises(InspectionError, match="target_pool_changed"):
        store_draw(session, record, changed, INSPECTORS, actor="x")
