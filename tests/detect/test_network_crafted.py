"""Crafted conversations through the whole capture path (nfstream, the payload plugin, the
verdict): Stratum in the clear and mid-session, Stratum over TLS to a pool's name, the Stratum
V2 handshake shape, and ordinary traffic that must stay clean."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from minewatch.detect.network.flows import scan_capture
from minewatch.synth.traffic import Conversation, client_hello, tls_record, write_pcap

MINER = ("10.1.2.3", 51000)
POOL = ("203.0.113.7", 3333)


def _line(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_stratum_in_the_clear_oriented_from_the_syn(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL)
    talk.send(0, _line({"id": 1, "method": "mining.subscribe", "params": ["bmminer/2.0.0"]}))
    talk.send(1, _line({"id": 1, "result": [[["mining.notify", "ae"]], "0800", 4], "error": None}))
    talk.send(0, _line({"id": 2, "method": "mining.authorize", "params": ["farm7.s19-041", "x"]}))
    (verdict,) = scan_capture(write_pcap(tmp_path / "clear.pcap", [talk.close()]))
    assert verdict.mining
    assert (verdict.client_ip, verdict.client_port, verdict.server_port) == (*MINER, 3333)
    assert (verdict.agent, verdict.wallet, verdict.worker) == ("bmminer/2.0.0", "farm7", "s19-041")
    assert verdict.reason.startswith("network.stratum.subscribe")


def test_capture_starting_mid_session_is_turned_round_by_the_messages(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL, handshake=False)
    talk.send(1, _line({"id": None, "method": "mining.notify", "params": ["1f", "00", True]}))
    talk.send(0, _line({"id": 9, "method": "mining.submit",
                        "params": ["farm7.s19-041", "1f", "00", "61", "ab"]}))  # fmt: skip
    (verdict,) = scan_capture(write_pcap(tmp_path / "mid.pcap", [talk]))
    assert verdict.mining
    assert (verdict.client_ip, verdict.server_ip) == (MINER[0], POOL[0])


def test_stratum_over_tls_to_a_pool_name(tmp_path: Path) -> None:
    session = Conversation(MINER, ("198.51.100.9", 14433))
    session.send(0, client_hello("eu1.nanopool.org"))
    session.send(1, b"\x16\x03\x03" + b"\x00\x40" + bytes(64))
    for _ in range(12):  # the encrypted submits and jobs of a working session
        session.send(0, tls_record(180)).send(1, tls_record(420))
    attempt = Conversation((MINER[0], 51002), ("198.51.100.9", 14433))
    attempt.send(0, client_hello("eu1.nanopool.org")).close()
    verdicts = scan_capture(write_pcap(tmp_path / "tls.pcap", [session.close(), attempt]))
    by_port = {v.client_port: v for v in verdicts}
    assert by_port[MINER[1]].mining
    assert by_port[MINER[1]].pool_host == "nanopool.org"
    assert "network.pool_host" in by_port[MINER[1]].reason
    assert not by_port[51002].mining  # a handshake alone is intent, recorded, not flagged
    assert by_port[51002].pool_host == "nanopool.org"


@pytest.mark.parametrize("inspect", ["file", "plugin"])
def test_stratum_v2_handshake_shape_towards_a_pool_port(tmp_path: Path, inspect: str) -> None:
    first = b"\x01" + os.urandom(63)
    talk = Conversation(MINER, ("203.0.113.8", 3336)).send(0, first).send(1, os.urandom(234))
    for _ in range(5):  # the encrypted SetupConnection, then shares and jobs
        talk.send(0, os.urandom(120)).send(1, os.urandom(200))
    elsewhere = Conversation((MINER[0], 51003), ("203.0.113.8", 40001)).send(0, first)
    web_port = Conversation((MINER[0], 51004), ("203.0.113.8", 8080)).send(0, first)
    capture = write_pcap(tmp_path / "v2.pcap", [talk, elsewhere, web_port])
    by_port = {v.server_port: v for v in scan_capture(capture, inspect=inspect)}
    assert by_port[3336].mining
    assert by_port[3336].reason.startswith("network.stratum2.handshake_shape")
    assert not by_port[40001].mining
    assert not by_port[8080].mining, "a pool port that web servers use too is no evidence"


def test_ordinary_json_rpc_and_web_traffic_stay_clean(tmp_path: Path) -> None:
    api = Conversation(("10.1.2.4", 52000), ("192.0.2.10", 443))
    api.send(
        0,
        b"POST /api_jsonrpc.php HTTP/1.1\r\nHost: zabbix\r\n\r\n"
        + _line({"jsonrpc": "2.0", "method": "user.login", "params": {"user": "Admin"}, "id": 1}),
    )
    web = Conversation(("10.1.2.4", 52001), ("192.0.2.11", 80))
    web.send(0, b"GET /pool/mining.subscribe HTTP/1.1\r\nHost: example.org\r\n\r\n")
    verdicts = scan_capture(write_pcap(tmp_path / "clean.pcap", [api.close(), web.close()]))
    assert len(verdicts) == 2
    assert not any(v.mining for v in verdicts)


def test_a_browser_on_a_pool_web_site_is_a_visit_not_mining(tmp_path: Path) -> None:
    # The same long TLS session as a miner's, but the client offers HTTP by ALPN: a browser
    # on the pool's dashboard. And a page of the pool's site read in the clear.
    browser = Conversation((MINER[0], 51010), ("198.51.100.9", 443))
    browser.send(0, client_hello("www.f2pool.com", alpn=("h2", "http/1.1")))
    browser.send(1, b"\x16\x03\x03" + b"\x00\x40" + bytes(64))
    for _ in range(12):
        browser.send(0, tls_record(120)).send(1, tls_record(1400))
    page = Conversation((MINER[0], 51011), ("198.51.100.9", 80))
    page.send(0, b"GET /account/0x52bc44d5 HTTP/1.1\r\nHost: eth.2miners.com\r\n\r\n")
    for _ in range(8):
        page.send(1, bytes(1400))
    verdicts = scan_capture(write_pcap(tmp_path / "web.pcap", [browser.close(), page.close()]))
    assert len(verdicts) == 2
    for verdict in verdicts:
        assert not verdict.mining, verdict.reason
        assert verdict.reason.startswith("network.pool_website")
        assert verdict.pool_host in ("f2pool.com", "2miners.com")
