"""Stored server inventories: a unit's import replaces its servers, all or nothing, audited;
an address held by another unit is refused; a server is found by its internal address."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from minewatch.domain.assets.models import AssetMac, ServerAsset
from minewatch.domain.assets.service import asset_at, assets_table, assets_with_mac, import_assets
from minewatch.domain.audit.service import verify_chain
from minewatch.errors import InputFileError
from minewatch.ingest.assets import read_assets

HEADER = "资产编号,所属单位,使用部门,机房,机柜,IP地址,MAC地址,责任人,GPU数量\n"


def _inventory(tmp_path: Path, body: str, name: str = "assets.csv") -> object:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return read_assets(path)


def test_import_replaces_a_units_inventory_and_is_audited(session: Session, tmp_path: Path) -> None:
    first = _inventory(
        tmp_path,
        "A-1,某大学,计算机学院,信息楼,R1,10.8.1.21 10.8.1.22,aa:bb:cc:00:11:22,张三,4\n"
        "A-2,某大学,图书馆,信息楼,R2,10.8.2.5,,李四,\n"
        "B-1,某研究所,机房组,主楼,K3,10.9.0.7,,王五,8\n",
    )
    summary = import_assets(session, first, source="assets.csv", actor="信息中心")  # type: ignore[arg-type]
    assert (summary.units, summary.added, summary.removed, summary.total) == (2, 3, 0, 3)
    found = asset_at(session, "10.8.1.22")
    assert found is not None
    assert (found.unit, found.asset_id, found.department, found.owner) == (
        "某大学", "A-1", "计算机学院", "张三"
    )  # fmt: skip
    # The university's new inventory: A-2 is gone, A-3 is new; the institute is untouched.
    second = _inventory(
        tmp_path, "A-1,某大学,计算机学院,信息楼,R1,10.8.1.21,,张三,4\nA-3,某大学,,,,10.8.3.1,,,\n",
        name="assets2.csv",
    )  # fmt: skip
    again = import_assets(session, second, source="assets2.csv", actor="信息中心")  # type: ignore[arg-type]
    assert (again.units, again.added, again.removed, again.total) == (1, 2, 2, 2)
    stored = assets_table(session).to_pylist()
    assert [(r["unit"], r["asset_id"]) for r in stored] == [
        ("某大学", "A-1"), ("某大学", "A-3"), ("某研究所", "B-1")
    ]  # fmt: skip
    assert asset_at(session, "10.8.1.22") is None
    assert asset_at(session, "10.8.2.5") is None
    assert verify_chain(session).ok
    # A server edited outside MineWatch is found.
    session.execute(update(ServerAsset).where(ServerAsset.asset_id == "B-1").values(rack="K9"))
    report = verify_chain(session)
    assert any("server_assets 某研究所 was changed outside MineWatch" in p.detail
               for p in report.problems)  # fmt: skip


def test_a_public_address_or_mac_held_by_another_unit_is_refused(
    session: Session, tmp_path: Path
) -> None:
    import_assets(
        session, _inventory(tmp_path, "B-1,某研究所,,,,202.115.0.7,aa:bb:cc:00:00:01,,\n"),  # type: ignore[arg-type]
        source="a.csv", actor="信息中心",
    )  # fmt: skip
    clash = _inventory(
        tmp_path, "A-1,某大学,,,,10.8.0.1,aa:bb:cc:00:00:01,,\nA-2,某大学,,,,202.115.0.7,,,\n",
        name="b.csv",
    )  # fmt: skip
    with pytest.raises(InputFileError) as caught:
        import_assets(session, clash, source="b.csv", actor="信息中心")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "row 2, column 'macs': aa:bb:cc:00:00:01 is held by 某研究所 B-1" in message
    assert "row 3, column 'ips': 202.115.0.7 is held by 某研究所 B-1" in message
    assert [r["asset_id"] for r in assets_table(session).to_pylist()] == ["B-1"]


def test_a_private_address_may_repeat_across_units(session: Session, tmp_path: Path) -> None:
    for name, unit in (("a.csv", "某研究所"), ("b.csv", "某大学")):
        import_assets(
            session, _inventory(tmp_path, f"S-1,{unit},,,,10.9.0.7,,,\n", name=name),  # type: ignore[arg-type]
            source=name, actor="信息中心",
        )  # fmt: skip
    assert asset_at(session, "10.9.0.7") is None  # two units: which one is not known
    found = asset_at(session, "10.9.0.7", unit="某大学")
    assert found is not None
    assert found.unit == "某大学"


def test_a_mac_row_changed_outside_minewatch_is_found(session: Session, tmp_path: Path) -> None:
    import_assets(
        session, _inventory(tmp_path, "A-1,某大学,,,,10.8.1.21,aa:bb:cc:00:11:22,,\n"),  # type: ignore[arg-type]
        source="assets.csv", actor="信息中心",
    )  # fmt: skip
    assert [a.asset_id for a in assets_with_mac(session, "aa:bb:cc:00:11:22")] == ["A-1"]
    assert verify_chain(session).ok
    session.execute(update(AssetMac).values(mac="aa:bb:cc:00:11:99"))
    assert assets_with_mac(session, "aa:bb:cc:00:11:22") == []
    assert any("server_assets 某大学 was changed outside MineWatch" in p.detail
               for p in verify_chain(session).problems)  # fmt: skip
