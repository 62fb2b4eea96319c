"""The real captures of the shared corpus: every labelled mining flow found with the right
client and server, and not one flow flagged in the captures that carry no mining."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from minewatch.detect.network.flows import scan_capture

CORPUS = Path(
    os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "data")
)
PCAPS = CORPUS / "pcaps"

pytestmark = pytest.mark.skipif(
    not (PCAPS / "labels-mining-flows.csv").is_file(),
    reason=f"the shared capture corpus is not at {PCAPS} (set MINEWATCH_CORPUS)",
)

Ends = tuple[str, int, str, int]


def _labels() -> dict[str, set[Ends]]:
    wanted: dict[str, set[Ends]] = {}
    with (PCAPS / "labels-mining-flows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ends = (row["client_ip"], int(row["client_port"]), row["server_ip"],
                    int(row["server_port"]))  # fmt: skip
            wanted.setdefault(row["file"], set()).add(ends)
    return wanted


def test_every_labelled_mining_flow_is_found_client_to_server() -> None:
    wanted = _labels()
    found_total = 0
    for capture in sorted((PCAPS / "mining").iterdir()):
        flagged = {
            (v.client_ip, v.client_port, v.server_ip, v.server_port)
            for v in scan_capture(capture)
            if v.mining
        }
        expected = wanted.get(capture.name, set())
        assert expected - flagged == set(), capture.name
        assert flagged - expected == set(), capture.name
        found_total += len(expected)
    assert found_total == sum(len(flows) for flows in wanted.values()) == 491


def test_no_flow_is_flagged_in_captures_without_mining() -> None:
    for capture in sorted((PCAPS / "negative").iterdir()):
        flagged = [v for v in scan_capture(capture) if v.mining]
        assert flagged == [], (capture.name, [(v.server_ip, v.reason) for v in flagged[:3]])
