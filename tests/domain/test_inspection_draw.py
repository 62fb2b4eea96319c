"""The double-random draw: reproducible, canonical, verifiable, recusing, stratified, uniform."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from conftest import make_uscc
from minewatch.domain.inspections.draw import (
    SCHEME,
    AgencyRule,
    DrawParameters,
    DrawProblemKind,
    DrawRecord,
    Inspector,
    RecusalReason,
    SeedSource,
    Target,
    UnstaffedReason,
    canonical_json,
    derive_seed,
    draw_commitment,
    draw_inspections,
    hash_stream_words,
    inspector_pool_sha256,
    public_summary,
    target_pool_json,
    target_pool_sha256,
    uniform_index,
    verify_draw,
)

COUNTIES = ("511822", "511823", "511824", "511825")  # 荥经, 汉源, 石棉, 天全 (雅安)
AGENCIES = ("发改", "能源监管", "市场监管")
DRAW_DATE = date(2021, 10, 8)
SOURCE = SeedSource(
    text="03 08 15 21 27 33 + 12",
    description="福彩双色球 第2021115期开奖号码 (2021-10-07 21:15 公布)",
)


def _targets(n: int = 30) -> list[Target]:
    return [
        Target(
            target_id=f"YA-{i:04d}",
            region_code=COUNTIES[i % len(COUNTIES)],
            enterprise_uscc=make_uscc(i, region=COUNTIES[i % len(COUNTIES)]),
            attributes={"applied_capacity_kva": str(400 + 50 * i), "voltage": "10kV"},
        )
        for i in range(n)
    ]


def _inspectors(n: int = 9) -> list[Inspector]:
    return [
        Inspector(
            inspector_id=f"ZF-{i:03d}",
            name=f"检查员{i}",
            region_code=COUNTIES[i % len(COUNTIES)],
            agency=AGENCIES[i % len(AGENCIES)],
        )
        for i in range(n)
    ]


def _params(**changes: object) -> DrawParameters:
    values: dict[str, object] = {"draw_date": DRAW_DATE, "target_count": 6}
    values.update(changes)
    return DrawParameters(**values)  # type: ignore[arg-type]


def _source(k: int) -> SeedSource:
    return SeedSource(text=f"block {k:08d} hash {hashlib.sha256(str(k).encode()).hexdigest()}",
                      description=f"test source {k}")  # fmt: skip


# ── reproducibility and canonical order ─────────────────────────────────────────────────────


def test_same_inputs_give_the_same_draw() -> None:
    first = draw_inspections(_targets(), _inspectors(), _params(), SOURCE)
    second = draw_inspections(_targets(), _inspectors(), _params(), SOURCE)
    assert first == second
    assert first.to_json() == second.to_json()
    assert len(first.picks) == 6
    assert len(set(first.picks)) == 6
    assert [a.target_id for a in first.assignments] == list(first.picks)


def test_reordered_pool_rows_do_not_change_anything() -> None:
    targets, inspectors = _targets(), _inspectors()
    honest = draw_inspections(targets, inspectors, _params(), SOURCE)
    shuffled_targets, shuffled_inspectors = list(targets), list(inspectors)
    random.Random(7).shuffle(shuffled_targets)
    random.Random(8).shuffle(shuffled_inspectors)
    assert [t.target_id for t in shuffled_targets] != [t.target_id for t in targets]
    assert draw_inspections(shuffled_targets, shuffled_inspectors, _params(), SOURCE) == honest
    assert verify_draw(honest, shuffled_targets, shuffled_inspectors).ok


def test_attribute_and_conflict_order_do_not_change_the_hash() -> None:
    row = Target("A", "511824", make_uscc(1), attributes={"b": "2", "a": "1"})
    same = Target("A", "511824", make_uscc(1), attributes={"a": "1", "b": "2"})
    assert target_pool_sha256([row]) == target_pool_sha256([same])
    one = Inspector("I", "张", "511824", "发改", frozenset({make_uscc(1), make_uscc(2)}))
    two = Inspector("I", "张", "511824", "发改", frozenset({make_uscc(2), make_uscc(1)}))
    assert inspector_pool_sha256([one]) == inspector_pool_sha256([two])


def test_a_changed_seed_source_changes_the_seed_and_the_picks() -> None:
    honest = draw_inspections(_targets(), _inspectors(), _params(), SOURCE)
    other = draw_inspections(
        _targets(), _inspectors(), _params(), replace(SOURCE, text="03 08 15 21 27 34 + 12")
    )
    assert other.seed_sha256 != honest.seed_sha256
    assert other.picks != honest.picks
    assert other.target_pool_sha256 == honest.target_pool_sha256


def test_one_changed_pool_row_changes_its_hash_and_the_seed() -> None:
    targets = _targets()
    honest = draw_inspections(targets, _inspectors(), _params(), SOURCE)
    targets[5] = replace(targets[5], attributes={"applied_capacity_kva": "9999", "voltage": "10kV"})
    changed = draw_inspections(targets, _inspectors(), _params(), SOURCE)
    assert changed.target_pool_sha256 != honest.target_pool_sha256
    assert changed.inspector_pool_sha256 == honest.inspector_pool_sha256
    assert changed.seed_sha256 != honest.seed_sha256

    inspectors = _inspectors()
    inspectors[0] = replace(inspectors[0], related_usccs=frozenset({make_uscc(99)}))
    private_change = draw_inspections(_targets(), inspectors, _params(), SOURCE)
    assert private_change.inspector_pool_sha256 != honest.inspector_pool_sha256
    assert private_change.seed_sha256 != honest.seed_sha256


def test_parameters_and_draw_date_are_part_of_the_seed() -> None:
    honest = draw_inspections(_targets(), _inspectors(), _params(), SOURCE)
    later = draw_inspections(
        _targets(), _inspectors(), _params(draw_date=date(2021, 10, 9)), SOURCE
    )
    bigger = draw_inspections(_targets(), _inspectors(), _params(inspectors_per_target=3), SOURCE)
    assert len({honest.seed_sha256, later.seed_sha256, bigger.seed_sha256}) == 3


# ── the published construction ──────────────────────────────────────────────────────────────


def test_pool_serialisation_is_sorted_compact_utf8_json() -> None:
    rows = [Target("B", "511824", make_uscc(2)), Target("A", "511823", make_uscc(1, "511823"))]
    text = target_pool_json(rows)
    assert text.startswith('[{"attributes":{},"enterprise_uscc":"')
    assert " " not in text
    assert [row["target_id"] for row in json.loads(text)] == ["A", "B"]
    assert target_pool_sha256(rows) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_seed_is_sha256_of_the_documented_material() -> None:
    record = draw_inspections(_targets(), _inspectors(), _params(), SOURCE)
    material = (
        '{"inspector_pool_sha256":"' + record.inspector_pool_sha256 + '",'
        '"parameters":{"agency_rule":"prefer_distinct","draw_date":"2021-10-08",'
        '"inspectors_per_target":2,"recent_draws_excluded":3,"recuse_home_county":true,'
        '"region_target_counts":null,"target_count":6,"target_share":null},'
        '"scheme":"minewatch-draw-v1",'
        '"seed_source":{"description":"' + SOURCE.description + '","text":"' + SOURCE.text + '"},'
        '"target_pool_sha256":"' + record.target_pool_sha256 + '"}'
    )
    assert record.seed_sha256 == hashlib.sha256(material.encode("utf-8")).hexdigest()
    assert derive_seed(SOURCE, record.target_pool_sha256, record.inspector_pool_sha256,
                       _params()).hex() == record.seed_sha256  # fmt: skip


def test_stream_is_counter_mode_sha256_in_64_bit_words() -> None:
    seed = bytes(range(32))
    words = hash_stream_words(seed)
    first_five = [next(words) for _ in range(5)]
    block0 = hashlib.sha256(seed + (0).to_bytes(8, "big")).digest()
    block1 = hashlib.sha256(seed + (1).to_bytes(8, "big")).digest()
    assert first_five[:4] == [int.from_bytes(block0[i : i + 8], "big") for i in range(0, 32, 8)]
    assert first_five[4] == int.from_bytes(block1[:8], "big")


def test_uniform_index_rejects_words_that_would_bias_it() -> None:
    # 2**64 mod 3 == 1, so the largest word is the single one rejected for n = 3.
    assert uniform_index(iter([2**64 - 1, 5]), 3) == 2
    assert uniform_index(iter([2**64 - 2]), 3) == (2**64 - 2) % 3
    with pytest.raises(ValueError, match="empty range"):
        uniform_index(iter([1]), 0)


GOLDEN_TARGETS = [
    Target("SQ-2021-001", "511824", "91511824MA0000001X", {"applied_capacity_kva": "800"}),
    Target("SQ-2021-002", "511823", "91511823MA0000002J", {"applied_capacity_kva": "1250"}),
    Target("SQ-2021-003", "511822", "91511822MA00000037"),
    Target("SQ-2021-004", "511824", "91511824MA00000047"),
    Target("SQ-2021-005", "511825", "91511825MA0000005Q", {"备注": "新装"}),
    Target("SQ-2021-006", "511823", "91511823MA0000006Y"),
]
GOLDEN_INSPECTORS = [
    Inspector("ZF-01", "王磊", "511824", "发改", frozenset({"91511823MA0000002J"})),
    Inspector("ZF-02", "李娜", "511823", "能源监管", past_inspections={"SQ-2021-003": 1}),
    Inspector("ZF-03", "张伟", "511822", "市场监管"),
    Inspector("ZF-04", "刘洋", "511825", "发改"),
    Inspector("ZF-05", "陈静", "511826", "能源监管"),
]


def test_golden_draw() -> None:
    """Pins the construction on literal inputs: if this changes, published draws stop verifying."""
    record = draw_inspections(GOLDEN_TARGETS, GOLDEN_INSPECTORS, _params(target_count=4), SOURCE)
    assert record.target_pool_sha256 == GOLDEN["target_pool_sha256"]
    assert record.inspector_pool_sha256 == GOLDEN["inspector_pool_sha256"]
    assert record.seed_sha256 == GOLDEN["seed_sha256"]
    assert list(record.picks) == GOLDEN["picks"]
    assert [list(a.inspector_ids) for a in record.assignments] == GOLDEN["teams"]


GOLDEN: dict[str, object] = {
    "target_pool_sha256": "081651bb3ae79b4437259f79881a8d27778d95fb69f5111be11a97d2183a84e4",
    "inspector_pool_sha256": "937966680786e17a1732bcc88eb5ca591ee12be19a61089aa1dd0028dc992507",
    "seed_sha256": "384931ef04b888b755fd6adb04e80b5965c8fb7ef06c03a10eb3eb5c238a9bb2",
    "picks": ["SQ-2021-001", "SQ-2021-004", "SQ-2021-005", "SQ-2021-003"],
    "teams": [["ZF-02", "ZF-04"], ["ZF-05", "ZF-03"], ["ZF-02", "ZF-01"], ["ZF-01", "ZF-05"]],
}


def test_picks_follow_from_the_published_construction_alone() -> None:
    """An independent few lines, written from the module docstring, give the same picks."""
    record = draw_inspections(GOLDEN_TARGETS, GOLDEN_INSPECTORS, _params(target_count=4), SOURCE)
    rows = sorted(
        ({"target_id": t.target_id, "region_code": t.region_code,
          "enterprise_uscc": t.enterprise_uscc, "attributes": dict(t.attributes)}
         for t in GOLDEN_TARGETS),
        key=lambda row: row["target_id"],
    )  # fmt: skip
    pool_text = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(pool_text.encode()).hexdigest() == record.target_pool_sha256
    seed = bytes.fromhex(record.seed_sha256)

    def words() -> Iterator[int]:
        counter = 0
        while True:
            block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            yield from (int.from_bytes(block[i : i + 8], "big") for i in range(0, 32, 8))
            counter += 1

    stream = words()
    items = [row["target_id"] for row in rows]
    for i in range(4):
        n = len(items) - i
        while (x := next(stream)) >= 2**64 - 2**64 % n:
            pass
        j = i + x % n
        items[i], items[j] = items[j], items[i]
    assert tuple(items[:4]) == record.picks


# ── verification ────────────────────────────────────────────────────────────────────────────


def test_verify_passes_on_an_honest_record() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    result = verify_draw(record, targets, inspectors)
    assert result.ok
    assert result.problems == ()


def test_verify_names_a_tampered_pick() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    outsider = next(t.target_id for t in targets if t.target_id not in record.picks)
    picks = list(record.picks)
    picks[2] = outsider
    result = verify_draw(replace(record, picks=tuple(picks)), targets, inspectors)
    assert not result.ok
    assert result.kinds == {DrawProblemKind.PICK_MISMATCH}
    (problem,) = result.problems
    assert f"pick 3 is {outsider!r}" in problem.detail
    assert record.picks[2] in problem.detail


def test_verify_names_a_tampered_assignment() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    first = record.assignments[0]
    stranger = next(i.inspector_id for i in inspectors if i.inspector_id not in first.inspector_ids)
    forged = replace(first, inspector_ids=(stranger, first.inspector_ids[1]))
    tampered = replace(record, assignments=(forged, *record.assignments[1:]))
    result = verify_draw(tampered, targets, inspectors)
    assert result.kinds == {DrawProblemKind.ASSIGNMENT_MISMATCH}
    assert "assignment 1" in result.problems[0].detail


def test_verify_names_a_target_pool_changed_after_the_draw() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    changed = list(targets)
    changed[3] = replace(changed[3], enterprise_uscc=make_uscc(77, region=changed[3].region_code))
    result = verify_draw(record, changed, inspectors)
    assert DrawProblemKind.TARGET_POOL_CHANGED in result.kinds
    assert DrawProblemKind.INSPECTOR_POOL_CHANGED not in result.kinds
    assert DrawProblemKind.SEED_MISMATCH not in result.kinds

    dropped = verify_draw(record, targets[:-1], inspectors)
    assert DrawProblemKind.TARGET_POOL_CHANGED in dropped.kinds
    assert "29 rows given, 30 recorded" in dropped.problems[0].detail


def test_verify_names_an_inspector_pool_changed_after_the_draw() -> None:
    """Quietly dropping an officer's declared conflict after the draw is seen."""
    targets, inspectors = _targets(), _inspectors()
    inspectors[-1] = replace(inspectors[-1], related_usccs=frozenset({make_uscc(3)}))
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    changed = [*inspectors[:-1], replace(inspectors[-1], related_usccs=frozenset())]
    result = verify_draw(record, targets, changed)
    assert DrawProblemKind.INSPECTOR_POOL_CHANGED in result.kinds
    assert DrawProblemKind.TARGET_POOL_CHANGED not in result.kinds
    assert DrawProblemKind.SEED_MISMATCH not in result.kinds


def test_verify_names_a_tampered_seed_source() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    tampered = replace(record, seed_source=replace(SOURCE, text="03 08 15 21 27 33 + 13"))
    result = verify_draw(tampered, targets, inspectors)
    assert result.kinds == {DrawProblemKind.SEED_MISMATCH}
    assert "seed source" in result.problems[0].detail
    assert "+ 13" in result.problems[0].detail


def test_verify_catches_a_chosen_seed_with_picks_made_to_match() -> None:
    """A drawer who picks a seed and redraws from it cannot pass it off as the published one."""
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    other = draw_inspections(targets, inspectors, _params(), _source(1))
    forged = replace(
        record, seed_sha256=other.seed_sha256, picks=other.picks,
        assignments=other.assignments, recusals=other.recusals,
    )  # fmt: skip
    assert forged.picks != record.picks
    result = verify_draw(forged, targets, inspectors)
    assert result.kinds == {DrawProblemKind.SEED_MISMATCH}
    garbage = verify_draw(replace(record, seed_sha256="not hex"), targets, inspectors)
    assert garbage.kinds == {DrawProblemKind.SEED_MISMATCH}


def test_verify_reports_pools_that_cannot_be_drawn_from_instead_of_raising() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    shrunk = verify_draw(record, targets[:4], inspectors)
    assert shrunk.kinds == {DrawProblemKind.TARGET_POOL_CHANGED, DrawProblemKind.INVALID_POOL}
    doubled = verify_draw(record, [*targets, targets[0]], inspectors)
    assert doubled.kinds == {DrawProblemKind.INVALID_POOL}
    assert "duplicate ids" in doubled.problems[0].detail


def test_verify_names_hidden_recusals() -> None:
    targets, inspectors = _targets(), _inspectors()
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    assert record.recusals
    result = verify_draw(replace(record, recusals=record.recusals[1:]), targets, inspectors)
    assert result.kinds == {DrawProblemKind.RECUSAL_MISMATCH}
    gone = record.recusals[0]
    assert repr((gone.target_id, gone.inspector_id)) in result.problems[0].detail


# ── recusal and staffing ────────────────────────────────────────────────────────────────────


def test_recusal_is_respected_across_many_seeds() -> None:
    targets = _targets(24)
    inspectors = _inspectors(9)
    # ZF-000 is related to the enterprises of every target in 511823 and to two others.
    related = {t.enterprise_uscc for t in targets if t.region_code == "511823"}
    related |= {targets[0].enterprise_uscc, targets[4].enterprise_uscc}
    inspectors[0] = replace(inspectors[0], related_usccs=frozenset(related))
    inspectors[1] = replace(inspectors[1], past_inspections={t.target_id: 2 for t in targets[:12]})
    by_id = {t.target_id: t for t in targets}
    home = {i.inspector_id: i.region_code for i in inspectors}
    assigned_total = 0
    for k in range(150):
        record = draw_inspections(targets, inspectors, _params(target_count=8), _source(k))
        for assignment in record.assignments:
            target = by_id[assignment.target_id]
            assigned_total += len(assignment.inspector_ids)
            if target.enterprise_uscc in related:
                assert "ZF-000" not in assignment.inspector_ids
            if target in targets[:12]:
                assert "ZF-001" not in assignment.inspector_ids
            for inspector_id in assignment.inspector_ids:
                assert home[inspector_id] != target.region_code
        for recusal in record.recusals:
            if recusal.inspector_id == "ZF-000" and (
                by_id[recusal.target_id].enterprise_uscc in related
            ):
                assert RecusalReason.RELATED_ENTERPRISE in recusal.reasons
    assert assigned_total == 150 * 8 * 2  # every pick was staffed: the rules leave enough
    # and ZF-000 is not simply never drawn: the rule is per target.
    assert any(
        "ZF-000" in a.inspector_ids
        for k in range(20)
        for a in draw_inspections(
            targets, inspectors, _params(target_count=8), _source(k)
        ).assignments
    )


def test_recent_inspections_recuse_within_the_window_only() -> None:
    targets = [Target("T1", "511824", make_uscc(1))]
    inspectors = [
        Inspector("A", "甲", "511823", "发改", past_inspections={"T1": 3}),
        Inspector("B", "乙", "511823", "能源监管", past_inspections={"T1": 4}),
        Inspector("C", "丙", "511822", "市场监管"),
    ]
    record = draw_inspections(targets, inspectors, _params(target_count=1), SOURCE)
    assert [(r.inspector_id, r.reasons) for r in record.recusals] == [
        ("A", (RecusalReason.RECENTLY_INSPECTED,))
    ]
    assert set(record.assignments[0].inspector_ids) == {"B", "C"}
    loose = draw_inspections(
        targets, inspectors, _params(target_count=1, recent_draws_excluded=2), SOURCE
    )
    assert loose.recusals == ()


def test_home_county_rule_can_be_turned_off() -> None:
    targets = [Target("T1", "511824", make_uscc(1))]
    inspectors = [
        Inspector("A", "甲", "511824", "发改"),
        Inspector("B", "乙", "511824", "能源监管"),
    ]
    strict = draw_inspections(targets, inspectors, _params(target_count=1), SOURCE)
    assert strict.assignments[0].unstaffed_reason is UnstaffedReason.TOO_FEW_ELIGIBLE
    assert {r.reasons for r in strict.recusals} == {(RecusalReason.HOME_COUNTY,)}
    loose = draw_inspections(
        targets, inspectors, _params(target_count=1, recuse_home_county=False), SOURCE
    )
    assert set(loose.assignments[0].inspector_ids) == {"A", "B"}


def test_a_target_that_cannot_be_staffed_says_so_and_the_rules_hold() -> None:
    targets = _targets(12)
    inspectors = _inspectors(6)
    everyone_related = frozenset({targets[0].enterprise_uscc})
    inspectors = [
        replace(i, related_usccs=everyone_related) if n < 5 else i for n, i in enumerate(inspectors)
    ]
    record = draw_inspections(targets, inspectors, _params(target_count=12), SOURCE)
    (blocked,) = [a for a in record.assignments if a.target_id == targets[0].target_id]
    assert not blocked.staffed
    assert blocked.inspector_ids == ()
    assert blocked.unstaffed_reason is UnstaffedReason.TOO_FEW_ELIGIBLE
    assert blocked.eligible_count <= 1
    assert blocked in record.unstaffed
    assert verify_draw(record, targets, inspectors).ok


def test_agencies_are_mixed_when_possible_and_required_when_asked() -> None:
    targets, inspectors = _targets(), _inspectors(9)
    agency = {i.inspector_id: i.agency for i in inspectors}
    for k in range(40):
        record = draw_inspections(targets, inspectors, _params(), _source(k))
        for a in record.assignments:
            assert len({agency[i] for i in a.inspector_ids}) == len(a.inspector_ids)
    one_agency = [replace(i, agency="发改") for i in inspectors]
    preferred = draw_inspections(targets, one_agency, _params(), SOURCE)
    assert all(len(a.inspector_ids) == 2 for a in preferred.assignments)
    required = draw_inspections(
        targets, one_agency, _params(agency_rule=AgencyRule.REQUIRE_DISTINCT), SOURCE
    )
    assert {a.unstaffed_reason for a in required.assignments} == {UnstaffedReason.TOO_FEW_AGENCIES}


# ── stratification and shares ───────────────────────────────────────────────────────────────


def test_stratified_counts_per_region_are_honoured() -> None:
    targets = _targets(40)
    region = {t.target_id: t.region_code for t in targets}
    wanted = {"511822": 3, "511824": 5, "511825": 1}
    for k in range(30):
        record = draw_inspections(
            targets, _inspectors(), _params(target_count=None, region_target_counts=wanted),
            _source(k),
        )  # fmt: skip
        counts = Counter(region[p] for p in record.picks)
        assert counts == Counter(wanted)
        assert len(set(record.picks)) == 9
        # regions in ascending code order
        assert [region[p] for p in record.picks] == sorted(region[p] for p in record.picks)
    with pytest.raises(ValueError, match="region 511823 but the target pool holds only 10"):
        draw_inspections(
            targets, _inspectors(),
            _params(target_count=None, region_target_counts={"511823": 11}), SOURCE,
        )  # fmt: skip


def test_a_share_is_read_as_a_decimal_and_rounded_up() -> None:
    assert 0.07 * 100 > 7  # in binary floating point, so a naive ceiling would draw 8
    record = draw_inspections(
        _targets(100), _inspectors(), _params(target_count=None, target_share=0.07), SOURCE
    )
    assert len(record.picks) == 7
    small = draw_inspections(
        _targets(30), _inspectors(), _params(target_count=None, target_share=0.05), SOURCE
    )
    assert len(small.picks) == 2  # 1.5 rounded up
    everything = draw_inspections(
        _targets(30), _inspectors(), _params(target_count=None, target_share=1.0), SOURCE
    )
    assert sorted(everything.picks) == sorted(t.target_id for t in _targets(30))


# ── uniformity ──────────────────────────────────────────────────────────────────────────────


def _chi_square(counts: Counter[str], categories: list[str], total: int) -> float:
    expected = total / len(categories)
    return sum((counts[c] - expected) ** 2 / expected for c in categories)


def test_picks_are_roughly_uniform_over_many_seeds() -> None:
    targets = _targets(20)
    ids = [t.target_id for t in targets]
    inspectors = _inspectors(4)
    first_picks: Counter[str] = Counter()
    all_picks: Counter[str] = Counter()
    draws = 1500
    for k in range(draws):
        record = draw_inspections(
            targets, inspectors, _params(target_count=4, inspectors_per_target=1), _source(k)
        )
        first_picks[record.picks[0]] += 1
        all_picks.update(record.picks)
    # 19 degrees of freedom: mean 19, sd ≈ 6.2; 60 is more than six sd out, and the seeds are
    # fixed, so this never flakes, yet a bias of a few per cent on any target would exceed it.
    assert _chi_square(first_picks, ids, draws) < 60
    assert _chi_square(all_picks, ids, 4 * draws) < 60
    assert set(first_picks) == set(ids)


def test_a_biased_draw_would_fail_the_uniformity_bound() -> None:
    """The bound is not vacuous: targets 0-9 twice as likely as 10-19 exceed it."""
    ids = [f"T{i}" for i in range(20)]
    rng = random.Random(1)
    biased = Counter(rng.choices(ids, weights=[2] * 10 + [1] * 10, k=1500))
    assert _chi_square(biased, ids, 1500) > 60


def test_uniform_index_is_uniform_on_a_small_range() -> None:
    words = hash_stream_words(hashlib.sha256(b"uniform").digest())
    counts = Counter(uniform_index(words, 7) for _ in range(14000))
    assert sorted(counts) == list(range(7))
    assert _chi_square(Counter({str(k): v for k, v in counts.items()}),
                       [str(k) for k in range(7)], 14000) < 35  # fmt: skip


# ── serialisation and publication ───────────────────────────────────────────────────────────


def test_json_round_trip() -> None:
    targets = _targets(12)
    inspectors = [replace(i, related_usccs=frozenset({targets[0].enterprise_uscc}))
                  if n < 5 else i for n, i in enumerate(_inspectors(6))]  # fmt: skip
    for params in (
        _params(target_count=12),
        _params(target_count=None, target_share=0.25, agency_rule=AgencyRule.ANY),
        _params(target_count=None, region_target_counts={"511822": 2, "511825": 1}),
    ):
        record = draw_inspections(targets, inspectors, params, SOURCE)
        text = record.to_json()
        back = DrawRecord.from_json(text)
        assert back == record
        assert back.to_json() == text
        assert verify_draw(back, targets, inspectors).ok
    assert any(not a.staffed for a in DrawRecord.from_json(
        draw_inspections(targets, inspectors, _params(target_count=12), SOURCE).to_json()
    ).assignments)  # fmt: skip


def test_from_json_refuses_incomplete_or_foreign_records() -> None:
    data = json.loads(draw_inspections(_targets(), _inspectors(), _params(), SOURCE).to_json())
    del data["seed_sha256"]
    with pytest.raises(ValueError, match="missing field 'seed_sha256'"):
        DrawRecord.from_json(json.dumps(data))
    data["seed_sha256"] = "0" * 64
    data["scheme"] = "other-v9"
    with pytest.raises(ValueError, match="unknown draw scheme"):
        DrawRecord.from_json(json.dumps(data))
    with pytest.raises(ValueError, match="JSON object"):
        DrawRecord.from_json("[]")


def test_public_summary_leaves_out_conflict_data_and_keeps_the_hashes() -> None:
    targets = _targets()
    inspectors = _inspectors()
    inspectors[0] = replace(
        inspectors[0], related_usccs=frozenset({targets[1].enterprise_uscc}),
        past_inspections={targets[2].target_id: 1},
    )  # fmt: skip
    record = draw_inspections(targets, inspectors, _params(target_count=30), SOURCE)
    summary = public_summary(record, targets, inspectors)
    text = canonical_json(summary)
    assert "related_usccs" not in text
    assert "past_inspections" not in text
    assert "reasons" not in text
    assert summary["target_pool_sha256"] == record.target_pool_sha256
    assert summary["inspector_pool_sha256"] == record.inspector_pool_sha256
    assert summary["seed_sha256"] == record.seed_sha256
    assert summary["inspectors"][0] == {
        "inspector_id": "ZF-000", "name": "检查员0", "region_code": "511822", "agency": "发改",
    }  # fmt: skip
    # Anyone can recompute the target pool's hash, hence the seed and the picks, from it.
    published_targets = [Target(**row) for row in summary["target_pool"]]
    assert target_pool_sha256(published_targets) == record.target_pool_sha256
    recused = {a["target_id"]: a["recused_count"] for a in summary["assignments"]}
    assert recused[targets[1].target_id] >= 1
    assert sum(recused.values()) == len(record.recusals)
    with pytest.raises(ValueError, match="not the one this draw was made from"):
        public_summary(record, targets[:-1], inspectors)


def test_commitment_published_before_the_draw_matches_the_record() -> None:
    targets, inspectors = _targets(), _inspectors()
    commitment = draw_commitment(targets, inspectors, _params(), SOURCE.description)
    record = draw_inspections(targets, inspectors, _params(), SOURCE)
    assert commitment["target_pool_sha256"] == record.target_pool_sha256
    assert commitment["inspector_pool_sha256"] == record.inspector_pool_sha256
    assert commitment["parameters"] == record.parameters.to_json_object()
    assert commitment["scheme"] == SCHEME
    assert "检查员0" not in canonical_json(commitment)


# ── bad input ───────────────────────────────────────────────────────────────────────────────


def test_duplicate_ids_are_refused() -> None:
    targets = _targets()
    with pytest.raises(ValueError, match="target pool has duplicate ids: 'YA-0003'"):
        draw_inspections([*targets, targets[3]], _inspectors(), _params(), SOURCE)
    inspectors = _inspectors()
    with pytest.raises(ValueError, match="inspector pool has duplicate ids: 'ZF-001'"):
        draw_inspections(targets, [*inspectors, replace(inspectors[1], name="别人")], _params(),
                         SOURCE)  # fmt: skip


def test_asking_for_more_than_the_pool_holds_is_refused() -> None:
    with pytest.raises(ValueError, match="asked for 31 targets but the target pool holds only 30"):
        draw_inspections(_targets(30), _inspectors(), _params(target_count=31), SOURCE)
    with pytest.raises(ValueError, match="inspectors_per_target is 10 but the inspector pool"):
        draw_inspections(_targets(), _inspectors(9), _params(inspectors_per_target=10), SOURCE)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_an_empty_seed_source_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="seed source text is empty"):
        SeedSource(text=text, description="福彩双色球")
    with pytest.raises(ValueError, match="description"):
        SeedSource(text="1 2 3", description=" ")


def test_bad_parameters_and_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        DrawParameters(draw_date=DRAW_DATE)
    with pytest.raises(ValueError, match="exactly one of"):
        DrawParameters(draw_date=DRAW_DATE, target_count=2, target_share=0.1)
    with pytest.raises(ValueError, match="target_share must be in"):
        DrawParameters(draw_date=DRAW_DATE, target_share=1.5)
    with pytest.raises(ValueError, match="target_count must be a whole number"):
        DrawParameters(draw_date=DRAW_DATE, target_count=0)
    with pytest.raises(ValueError, match="not a GB/T 2260"):
        DrawParameters(draw_date=DRAW_DATE, region_target_counts={"519999": 1})
    with pytest.raises(ValueError, match="not a valid unified social credit code"):
        Target("T1", "511824", "91511824MA0000000X")
    with pytest.raises(ValueError, match="region code '5118' is not 6 digits"):
        Inspector("I1", "张", "5118", "发改")
    with pytest.raises(ValueError, match="draws ago"):
        Inspector("I1", "张", "511824", "发改", past_inspections={"T1": 0})
    with pytest.raises(ValueError, match="target id is empty"):
        Target(" ", "511824", make_uscc(1))
