"""The ledger's coded values, machines and the JSON image the audit chain records."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import make_entry
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
    entry_from_json,
    entry_to_json,
    format_machines,
    label,
    parse_coded,
    parse_hashrate,
    parse_hashrate_unit,
    parse_machines,
)
from minewatch.settings import Locale


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("在运", ProjectStatus.OPERATING),
        (" 在建 ", ProjectStatus.IN_CONSTRUCTION),
        ("operating", ProjectStatus.OPERATING),
        ("Shut Down", ProjectStatus.SHUT_DOWN),
        ("已停产", ProjectStatus.SHUT_DOWN),
        ("cleared", ProjectStatus.CLEARED),
    ],
)
def test_status_spellings(text: str, expected: ProjectStatus) -> None:
    assert parse_coded(ProjectStatus, text) is expected


def test_unknown_label_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="在建、在运、已关停、已清理"):
        parse_coded(ProjectStatus, "挖矿中")
    with pytest.raises(ValueError, match="不明"):
        parse_coded(SiteType, "不明")


def test_an_alias_of_another_vocabulary_is_not_accepted() -> None:
    with pytest.raises(ValueError, match="举报"):
        parse_coded(ProjectStatus, "举报")


@pytest.mark.parametrize(
    "enum_cls", [ProjectStatus, SiteType, SupplyKind, DiscoveryMethod, HashrateUnit]
)
def test_every_label_reads_back(enum_cls: type) -> None:
    if enum_cls is HashrateUnit:
        for unit in HashrateUnit:
            assert parse_hashrate_unit(unit.value) is unit
        return
    for member in enum_cls:
        assert parse_coded(enum_cls, label(member, Locale.ZH_CN)) is member
        assert parse_coded(enum_cls, label(member, Locale.EN)) is member


@pytest.mark.parametrize(
    ("text", "unit"),
    [("TH/s", HashrateUnit.THS), ("th", HashrateUnit.THS), ("PH／s", HashrateUnit.PHS),
     ("MH/s", HashrateUnit.MHS), ("ksol/s", HashrateUnit.KSOLS), ("EH", HashrateUnit.EHS)],
)  # fmt: skip
def test_hashrate_units(text: str, unit: HashrateUnit) -> None:
    assert parse_hashrate_unit(text) is unit


def test_bad_hashrate_unit() -> None:
    with pytest.raises(ValueError, match="hash-rate unit"):
        parse_hashrate_unit("kW")


def test_hashrate_in_hashes_per_second() -> None:
    entry = make_entry(1, hashrate=2.5, hashrate_unit=HashrateUnit.PHS)
    assert entry.hashrate_hs == pytest.approx(2.5e15)
    assert make_entry(1, hashrate=None, hashrate_unit=None).hashrate_hs is None


def test_machines_parse_in_the_ways_offices_write_them() -> None:
    parsed = parse_machines("Antminer S19 Pro×200；Whatsminer M30S x 50、 Antminer S9*10台\n")
    assert parsed == (
        MachineCount("Antminer S19 Pro", 200),
        MachineCount("Whatsminer M30S", 50),
        MachineCount("Antminer S9", 10),
    )
    assert parse_machines("") == ()
    assert parse_machines("S9×1；S9×2") == (MachineCount("S9", 3),)
    with pytest.raises(ValueError, match="model×count"):
        parse_machines("Antminer S19 Pro")
    with pytest.raises(ValueError, match="positive"):
        parse_machines("S9×0")


_model = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="×xX*＊;；,，、\n\r"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda s: bool(s) and not s[-1].isdigit() and "台" not in s)
)


@given(st.dictionaries(_model, st.integers(1, 100_000), max_size=5))
def test_machines_round_trip(models: dict[str, int]) -> None:
    machines = tuple(MachineCount(m, c) for m, c in models.items())
    assert parse_machines(format_machines(machines)) == machines


def test_total_machines_prefers_the_declared_count() -> None:
    assert make_entry(1).total_machines == 120
    assert make_entry(1, machine_count=None).total_machines == 120
    assert make_entry(1, machines=(), machine_count=None).total_machines == 0


def test_json_image_round_trips() -> None:
    entry = make_entry(
        3, project_code="XM-511824-0003", planned_production_date=date(2022, 1, 1),
        status=ProjectStatus.IN_CONSTRUCTION, longitude=None, latitude=None, notes="备注",
    )  # fmt: skip
    image = entry_to_json(entry)
    assert image["status"] == "in_construction"
    assert image["planned_production_date"] == "2022-01-01"
    assert image["machines"] == [["Antminer S19 Pro", 100], ["Whatsminer M30S", 20]]
    assert entry_from_json(image) == entry


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [("12 PH/s", 12.0, HashrateUnit.PHS), ("12PH", 12.0, HashrateUnit.PHS),
     ("95 TH/s", 95.0, HashrateUnit.THS), ("３.5 GH/s", 3.5, HashrateUnit.GHS),
     ("420 KSol/s", 420.0, HashrateUnit.KSOLS)],
)  # fmt: skip
def test_hashrate_with_its_unit(text: str, value: float, unit: HashrateUnit) -> None:
    assert parse_hashrate(text) == (value, unit)


@pytest.mark.parametrize("text", ["12", "PH/s", "12 parsecs", ""])
def test_hashrate_without_a_number_or_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="hash"):
        parse_hashrate(text)
