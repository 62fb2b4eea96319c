"""The generated server room through the capture scan: every mining flow found, with the
wallet and worker it used, and nothing else flagged — on seeds the detector was not built on."""

from __future__ import annotations

from pathlib import Path

import pytest

from minewatch.detect.network.flows import scan_capture
from minewatch.synth.traffic import bulk_capture, server_room_capture


@pytest.mark.parametrize("seed", [3, 41, 977])
def test_server_room_mining_flows_are_found_with_their_evidence(tmp_path: Path, seed: int) -> None:
    capture = tmp_path / "room.pcap"
    truth = server_room_capture(capture, seed=seed, miners=10, others=40)
    verdicts = scan_capture(capture)
    flagged = {
        (v.client_ip, v.client_port, v.server_ip, v.server_port): v for v in verdicts if v.mining
    }
    assert set(flagged) == {(t.client_ip, t.client_port, t.server_ip, t.server_port) for t in truth}
    for flow in truth:
        verdict = flagged[(flow.client_ip, flow.client_port, flow.server_ip, flow.server_port)]
        assert (verdict.wallet, verdict.worker) == (flow.wallet, flow.worker), flow.protocol
    assert len(verdicts) > len(truth) + 40  # the DNS lookups are flows too


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    server_room_capture(first, seed=5)
    server_room_capture(second, seed=5)
    assert first.read_bytes() == second.read_bytes()
    server_room_capture(second, seed=6)
    assert first.read_bytes() != second.read_bytes()


def test_bulk_capture_reaches_the_packet_count(tmp_path: Path) -> None:
    capture = tmp_path / "bulk.pcap"
    written = bulk_capture(capture, 5000, seed=1)
    assert written >= 5000
    verdicts = scan_capture(capture)
    assert sum(v.packets for v in verdicts) == written
    assert sum(v.mining for v in verdicts) >= 10
