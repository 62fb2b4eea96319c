"""Generated server rooms: every disguise of a miner is caught by the rules that should catch
it, and the ordinary servers — busy, upgraded, containerised, on pool-numbered ports — are not
findings, on seeds the rules were not written against."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minewatch.detect.hosts.rules import report_hits
from minewatch.synth.hosts import DISGUISES, probe_report, server_room

AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
FINDING = ("critical", "high", "medium")
EXPECTED = {
    "plain": {"hosts.process.known_miner", "hosts.file.miner_binary", "hosts.file.miner_config"},
    "renamed": {"hosts.process.stratum_url", "hosts.process.miner_arguments",
                "hosts.persistence.miner_start"},
    "kernel_thread": {"hosts.process.kernel_thread_imitation"},
    "deleted": {"hosts.process.deleted_executable", "hosts.network.pool_port"},
    "gpu": {"hosts.process.stratum_url", "hosts.process.miner_arguments"},
    "service": {"hosts.file.miner_config", "hosts.network.pool_port"},
    "memory": {"hosts.process.memory_executable"},
}  # fmt: skip
"""The rules each disguise must trip (others may trip too)."""


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_every_disguised_miner_is_found_and_no_ordinary_server_is(seed: int) -> None:
    servers = server_room(seed, servers=120, miners=14)
    assert {s.miner for s in servers if s.miner} == set(DISGUISES)
    for server in servers:
        hits = report_hits(probe_report(server, seed, AT))
        findings = {h["rule"] for h in hits if h["level"] in FINDING}
        if server.miner is None:
            assert not findings, f"{server.hostname} ({server.purpose}): {findings}"
        else:
            missing = EXPECTED[server.miner] - findings
            assert not missing, f"{server.hostname} ({server.miner}) not caught by {missing}"
        # after the miner is removed, the server is clean
        cleaned = report_hits(probe_report(server, seed, AT, miner=False))
        assert not [h for h in cleaned if h["level"] in FINDING]


def test_busy_ordinary_servers_are_noted_at_level_low_only() -> None:
    busy = ("hpc", "gpu_training")
    servers = [s for s in server_room(5, servers=200, miners=0) if s.purpose in busy]
    assert servers
    for server in servers:
        hits = report_hits(probe_report(server, 5, AT))
        assert {h["rule"] for h in hits} == {"hosts.load.sustained"}
        assert {h["level"] for h in hits} == {"low"}


def test_the_same_seed_gives_the_same_room() -> None:
    first = server_room(3, servers=30, miners=4)
    assert first == server_room(3, servers=30, miners=4)
    assert probe_report(first[0], 3, AT) == probe_report(first[0], 3, AT)
    assert first != server_room(4, servers=30, miners=4)
