"""Officials follow their units' self-inspection on the web: the list of units in their region
with their figures, and a unit's servers; a unit elsewhere does not exist for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from minewatch.detect.hosts.rules import report_hits
from minewatch.domain.accounts.service import create_user
from minewatch.domain.assets.service import import_assets
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.domain.selfcheck.keys import issue_unit_key
from minewatch.domain.selfcheck.service import receive_report
from minewatch.ingest.assets import read_assets
from minewatch.probe import hostprobe
from minewatch.settings import Settings
from minewatch.synth.hosts import INVENTORY_HEADER, inventory_rows, probe_report, server_room
from minewatch.web.app import create_app
from web.webclient import PASSWORD, light_password_hashes, sign_in

UNIT = "雅安某学院"


def _unit(engine: Engine, tmp_path: Path) -> None:
    servers = server_room(21, servers=12, miners=2)
    path = tmp_path / "assets.csv"
    rows = [",".join(INVENTORY_HEADER), *(",".join(r) for r in inventory_rows(servers, UNIT))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    at = datetime.now(UTC) - timedelta(days=1)
    with session_scope(engine) as session:
        import_assets(session, read_assets(path), source=path, actor="信息中心")
        token = issue_unit_key(session, UNIT, region_code="511802", supervisor="四川省教育厅",
                               actor="信息中心").token  # fmt: skip
        key_id, key = hostprobe.signing_key(token.encode())
        for server in servers[:10]:
            report = hostprobe.sign(probe_report(server, 21, at), key, key_id)
            receive_report(session, report, report_hits(report), actor="信息中心", at=at)
        for name, role, region in (("yaan", Role.CITY, "511800"), ("chengdu", Role.CITY, "510100"),
                                   ("admin", Role.ADMIN, "510000")):  # fmt: skip
            create_user(session, name, PASSWORD, display_name=name, role=role, region_code=region,
                        actor="admin")  # fmt: skip


def test_officials_see_their_units_and_a_units_servers(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    light_password_hashes(monkeypatch)
    _unit(engine, tmp_path)
    client = TestClient(create_app(Settings(), engine=engine))
    assert sign_in(client, "yaan").status_code == 303
    listing = client.get("/selfcheck")
    assert listing.status_code == 200
    assert UNIT in listing.text
    assert "四川省教育厅" in listing.text
    unit = client.get(f"/selfcheck/units/{UNIT}")
    assert unit.status_code == 200
    page = unit.text
    assert page.count("<tr>") == 1 + 12  # header and one row per server
    assert "有发现待处置" in page
    assert "未检查" in page
    assert "MW511802" in page  # the miners' cases are linked
    english = client.get(f"/selfcheck/units/{UNIT}?lang=en").text
    assert "Finding open" in english
    assert "Not checked" in english

    assert sign_in(client, "chengdu").status_code == 303
    assert UNIT not in client.get("/selfcheck").text
    assert client.get(f"/selfcheck/units/{UNIT}").status_code == 404
    assert client.get("/selfcheck/units/没有的单位").status_code == 404
    assert sign_in(client, "admin").status_code == 303
    assert client.get("/selfcheck").status_code == 403
