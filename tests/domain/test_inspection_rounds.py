"""Inspection rounds: commit before the seed exists, draw from the committed pools, record by the
drawn team only, publish without the teams; every step audited and re-checkable."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import COUNTY, OTHER_COUNTY, PROVINCE, at, make_entry, make_open_case, make_uscc
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.inspections.draw import (
    DrawParameters,
    DrawProblemKind,
    Inspector,
    Target,
)
from minewatch.domain.inspections.models import InspectionOutcome, RoundStatus, TargetSource
from minewatch.domain.inspections.pools import (
    InspectorPool,
    case_targets,
    ledger_targets,
    read_inspector_pool,
    read_target_pool,
)
from minewatch.domain.inspections.results import InspectionError
from minewatch.domain.inspections.rounds import (
    NotOnTeamError,
    RoundError,
    RoundRefusedError,
    commit_round,
    draw_record_of,
    draw_round,
    get_round,
    public_record,
    publish_round,
    record_round_result,
    rounds_within,
    verify_round,
)
from minewatch.domain.ledger.service import save_entry
from minewatch.errors import InputFileError, NotFoundError

TARGETS = [
    Target(f"BZ-{i:03d}", "511824", make_uscc(i), {"name": f"申请单位{i}"}) for i in range(1, 13)
]
AGENCIES = ("发改", "能源监管")
INSPECTORS = InspectorPool.of(
    [Inspector(f"ZF-{i:02d}", f"检查员{i}", "511802", AGENCIES[i % 2]) for i in range(6)],
    {f"ZF-{i:02d}": f"inspector{i}" for i in range(6)},
)
DESCRIPTION = "福彩双色球 第2021115期开奖号码"
SEED = "03 08 15 21 27 33 + 12"


def _commit(session: Session, **changes: object) -> str:
    fields: dict[str, object] = {
        "region_code": "511824",
        "target_source": TargetSource.LIST,
        "targets": TARGETS,
        "inspector_pool": INSPECTORS,
        "parameters": DrawParameters(date(2021, 10, 8), target_count=3),
        "seed_source_description": DESCRIPTION,
        "actor": COUNTY,
        "at": at("2021-10-01"),
    }
    fields.update(changes)
    return commit_round(session, **fields).draw_no  # type: ignore[arg-type]


def test_a_round_goes_from_commitment_to_publication(session: Session) -> None:
    draw_no = _commit(session)
    assert draw_no == "SJ-511824-2021-001"
    rnd = get_round(session, draw_no)
    assert rnd.status is RoundStatus.COMMITTED
    assert verify_round(rnd).ok
    shown = public_record(session, rnd)
    assert shown["commitment"]["seed_source_description"] == DESCRIPTION
    assert shown["draw"] is None
    with pytest.raises(RoundRefusedError, match="not drawn yet"):
        publish_round(session, rnd, actor=COUNTY)

    draw_round(session, rnd, SEED, actor=COUNTY, at=at("2021-10-08"))
    assert rnd.status is RoundStatus.DRAWN
    with pytest.raises(RoundRefusedError, match="already drawn"):
        draw_round(session, rnd, SEED, actor=COUNTY)
    record = draw_record_of(rnd)
    assert record is not None
    assert len(record.picks) == 3
    assert verify_round(rnd).ok
    assert public_record(session, rnd)["draw"] is None  # drawn, not yet published

    first = record.assignments[0]
    member = f"inspector{int(first.inspector_ids[0][-2:])}"
    outsider = next(f"inspector{i}" for i in range(6) if f"ZF-{i:02d}" not in first.inspector_ids)
    with pytest.raises(NotOnTeamError):
        record_round_result(
            session, rnd, target_id=first.target_id, inspected_on=date(2021, 10, 9),
            outcome=InspectionOutcome.COMPLIANT, findings=None, username=outsider, actor="x",
        )  # fmt: skip
    undrawn = next(t.target_id for t in TARGETS if t.target_id not in record.picks)
    with pytest.raises(InspectionError, match="was not drawn"):
        record_round_result(
            session, rnd, target_id=undrawn, inspected_on=date(2021, 10, 9),
            outcome=InspectionOutcome.COMPLIANT, findings=None, username=member, actor="x",
        )  # fmt: skip
    result = record_round_result(
        session, rnd, target_id=first.target_id, inspected_on=date(2021, 10, 9),
        outcome=InspectionOutcome.VIOLATION, findings="现场有矿机", username=member,
        actor="石棉县检查组 赵刚 (inspector0)", at=at("2021-10-09"),
    )  # fmt: skip
    assert sorted(result.inspector_ids.split(",")) == sorted(first.inspector_ids)
    assert result.lead_id is not None

    publish_round(session, rnd, actor=COUNTY, at=at("2021-10-10"))
    shown = public_record(session, rnd)
    assert shown["status"] == "published"
    assert "assignments" not in shown["draw"]
    assert "inspectors" not in shown["draw"]
    assert shown["draw"]["picks"] == list(record.picks)
    assert [r["outcome"] for r in shown["results"]] == ["violation", "pending", "pending"]
    text = repr(shown)
    assert all(i.inspector_id not in text for i in INSPECTORS.inspectors)
    assert "检查员" not in text
    with pytest.raises(RoundRefusedError, match="already published"):
        publish_round(session, rnd, actor=COUNTY)

    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "inspection_round")
    ).all()
    assert actions == ["commit", "draw", "publish"]
    actors = set(session.scalars(select(AuditEvent.actor)))
    assert COUNTY.name in actors
    assert verify_chain(session).ok


def test_commitments_are_refused_outside_the_region_or_beyond_the_pools(session: Session) -> None:
    with pytest.raises(RoundError, match="outside"):
        _commit(session, region_code="511824", actor=OTHER_COUNTY)
    elsewhere = [*TARGETS, Target("BZ-999", "511823", make_uscc(99))]
    with pytest.raises(RoundError, match="1 target"):
        _commit(session, targets=elsewhere)
    with pytest.raises(RoundError, match="only 12"):
        _commit(session, parameters=DrawParameters(date(2021, 10, 8), target_count=13))
    with pytest.raises(RoundError, match="empty"):
        _commit(session, targets=[])
    with pytest.raises(RoundError, match="not a region code"):
        _commit(session, region_code="519999", actor=PROVINCE)
    assert rounds_within(session, "000000") == ([], 0)


def test_a_tampered_pool_is_caught(session: Session) -> None:
    rnd = get_round(session, _commit(session))
    rnd.target_pool_json = rnd.target_pool_json.replace("申请单位1", "申请单位X", 1)
    assert verify_round(rnd).kinds == {DrawProblemKind.TARGET_POOL_CHANGED}
    with pytest.raises(RoundError, match="no longer hashes"):
        draw_round(session, rnd, SEED, actor=COUNTY)

    other = get_round(session, _commit(session))
    draw_round(session, other, SEED, actor=COUNTY)
    assert other.draw is not None
    other.inspector_pool_json = other.inspector_pool_json.replace("检查员1", "检查员Y", 1)
    assert DrawProblemKind.INSPECTOR_POOL_CHANGED in verify_round(other).kinds
    assert not verify_chain(session).ok  # the chain's image of the round disagrees too


def test_rounds_are_listed_within_the_region_newest_first(session: Session) -> None:
    first = _commit(session)
    second = _commit(session, at=at("2021-10-02"))
    assert second == "SJ-511824-2021-002"
    rows, total = rounds_within(session, "511800")
    assert ([r.draw_no for r in rows], total) == ([second, first], 2)
    assert rounds_within(session, "511823") == ([], 0)
    rows, total = rounds_within(session, "510000", limit=1, offset=1)
    assert ([r.draw_no for r in rows], total) == ([first], 2)
    with pytest.raises(NotFoundError):
        get_round(session, "SJ-511824-2021-999")


def test_pools_come_from_the_ledger_the_cases_or_csv(session: Session) -> None:
    save_entry(session, make_entry(1), actor="a")
    save_entry(session, make_entry(2, region_code="511823", responsible_region_code="511823"),
               actor="a")  # fmt: skip
    (target,) = ledger_targets(session, "511824")
    assert target.region_code == "511824"
    assert target.attributes["address"].startswith("四川省雅安市石棉县")
    assert len(ledger_targets(session, "511800")) == 2
    make_open_case(session)
    assert case_targets(session, "511823") == []
    (case,) = case_targets(session, "511824")
    assert case.enterprise_uscc == make_uscc(1)

    pool = read_inspector_pool(
        "\ufeffinspector_id,name,region_code,agency,related_usccs,past_inspections,username\n"
        f"ZF-01,赵刚,511802,发改,{make_uscc(1)},BZ-001:1,zhaogang\n"
        "ZF-02,孙丽,511803,能源监管,,,\n",
        "inspectors.csv",
    )
    assert dict(pool.accounts) == {"ZF-01": "zhaogang", "ZF-02": "ZF-02"}
    assert pool.inspectors[0].past_inspections == {"BZ-001": 1}
    targets = read_target_pool(
        f"target_id,region_code,enterprise_uscc,address\nBZ-1,511824,{make_uscc(3)},美罗镇\n",
        "targets.csv",
    )
    assert targets[0].attributes == {"address": "美罗镇"}
    with pytest.raises(InputFileError, match="row 2"):
        read_target_pool("target_id,region_code,enterprise_uscc\nBZ-1,519999,x\n", "t.csv")
    with pytest.raises(InputFileError, match="missing column"):
        read_inspector_pool("inspector_id,name\nZF-1,赵刚\n", "i.csv")
