"""The compiled capture pass (``detect/network/capture.py``): the same verdicts as the nfstream
plugin on every capture of the corpus and on one server room written every way a capture can
be written; clear errors for broken files; bounded memory."""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minewatch.detect.network.capture import link_types, needs_rewriting, read_first_payloads
from minewatch.detect.network.flows import FlowVerdict, scan_capture, scan_captures
from minewatch.errors import MineWatchError
from minewatch.synth.traffic import (
    Conversation,
    Datagrams,
    Encoding,
    LinkType,
    ipv6_of,
    json_line,
    server_room_capture,
    write_pcap,
)

CORPUS = Path(
    os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "data")
)
PCAPS = CORPUS / "pcaps"
SEED = 4_242
MINER = ("10.1.2.3", 51000)
POOL = ("203.0.113.7", 3333)


def _rows(
    verdicts: list[FlowVerdict], addresses: dict[str, str] | None = None, encoded: bool = False
) -> list[str]:
    """The verdicts as sorted, comparable rows: addresses mapped back when given; without
    ``bytes`` when compared ``encoded`` otherwise (a flow's bytes count its link headers)."""
    rows = []
    for verdict in verdicts:
        row = asdict(verdict)
        if addresses:
            row["client_ip"] = addresses[row["client_ip"]]
            row["server_ip"] = addresses[row["server_ip"]]
        if encoded:
            row.pop("bytes")
        rows.append(repr(sorted(row.items())))
    return sorted(rows)


@pytest.mark.skipif(
    not (PCAPS / "labels-mining-flows.csv").is_file(),
    reason=f"the shared capture corpus is not at {PCAPS} (set MINEWATCH_CORPUS)",
)
def test_the_file_pass_and_the_plugin_agree_on_every_capture_of_the_corpus() -> None:
    captures = sorted((PCAPS / "mining").iterdir()) + sorted((PCAPS / "negative").iterdir())
    assert len(captures) == 48
    for capture in captures:
        by_file = scan_capture(capture, inspect="file")
        by_plugin = scan_capture(capture, inspect="plugin")
        assert _rows(by_file) == _rows(by_plugin), capture.name


ENCODINGS = {
    "pcap, nanoseconds, big-endian": Encoding(nanoseconds=True, big_endian=True),
    "802.1Q tag": Encoding(vlans=(7,)),
    "stacked tags (QinQ)": Encoding(vlans=(100, 7)),
    "raw IP (101)": Encoding(links=(LinkType.RAW,)),
    "raw IP (12)": Encoding(links=(LinkType.RAW_12,)),
    "raw IP (14)": Encoding(links=(LinkType.RAW_14,)),
    "raw IPv4 (228)": Encoding(links=(LinkType.IPV4,)),
    "raw IPv6 (229)": Encoding(links=(LinkType.IPV6,), ipv6=True),
    "Linux cooked": Encoding(links=(LinkType.LINUX_SLL,)),
    "Linux cooked v2": Encoding(links=(LinkType.LINUX_SLL2,)),
    "BSD loopback": Encoding(links=(LinkType.NULL,)),
    "OpenBSD loopback": Encoding(links=(LinkType.LOOP,)),
    "pcapng": Encoding(pcapng=True),
    "pcapng, big-endian, nanoseconds": Encoding(pcapng=True, big_endian=True, nanoseconds=True),
    "pcapng, three interfaces": Encoding(
        pcapng=True, links=(LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.RAW)
    ),
    "pcapng, obsolete packet blocks": Encoding(pcapng=True, blocks="pb"),
    "pcapng, if_tsoffset": Encoding(pcapng=True, nanoseconds=True, tsoffset_s=1_600_000_000),
    "IPv6": Encoding(ipv6=True),
    "IPv6 with options, pcapng, two links": Encoding(
        pcapng=True, ipv6=True, ipv6_options=True, links=(LinkType.LINUX_SLL2, LinkType.NULL)
    ),
}


@pytest.fixture(scope="module")
def server_room(tmp_path_factory: pytest.TempPathFactory) -> list[FlowVerdict]:
    path = tmp_path_factory.mktemp("room") / "room.pcap"
    truth = server_room_capture(path, SEED, miners=10, others=30)
    verdicts = scan_capture(path)
    flagged = {
        (v.client_ip, v.client_port, v.server_ip, v.server_port) for v in verdicts if v.mining
    }
    assert flagged == {(t.client_ip, t.client_port, t.server_ip, t.server_port) for t in truth}
    return verdicts


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_every_encoding_gives_the_same_verdicts(
    name: str, server_room: list[FlowVerdict], tmp_path: Path
) -> None:
    encoding = ENCODINGS[name]
    path = tmp_path / ("room.pcapng" if encoding.pcapng else "room.pcap")
    truth = server_room_capture(path, SEED, miners=10, others=30, encoding=encoding)
    assert link_types(path) == [int(link) for link in encoding.links]
    by_file = scan_capture(path, inspect="file")
    by_plugin = scan_capture(path, inspect="plugin")
    assert _rows(by_file) == _rows(by_plugin)
    addresses = None
    if encoding.ipv6:
        ends = {v.client_ip for v in server_room} | {v.server_ip for v in server_room}
        addresses = {ipv6_of(ip): ip for ip in ends}
        assert {t.client_ip for t in truth} <= set(addresses)
    assert _rows(by_file, addresses, encoded=True) == _rows(server_room, encoded=True)


def test_simple_packet_blocks_have_no_time_but_the_same_findings(
    server_room: list[FlowVerdict], tmp_path: Path
) -> None:
    path = tmp_path / "room.pcapng"
    server_room_capture(
        path, SEED, miners=10, others=30, encoding=Encoding(pcapng=True, blocks="spb")
    )
    by_file = scan_capture(path, inspect="file")
    assert _rows(by_file) == _rows(scan_capture(path, inspect="plugin"))

    def timeless(verdicts: list[FlowVerdict]) -> list[tuple[object, ...]]:
        return sorted(
            (v.client_ip, v.client_port, v.server_port, v.mining, v.reason, v.wallet)
            for v in verdicts
        )

    assert timeless(by_file) == timeless(server_room)


def test_only_unusual_links_are_written_again(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL).send(0, b"x" * 64).close()
    plain = write_pcap(tmp_path / "plain.pcap", [talk])
    cooked2 = write_pcap(tmp_path / "sll2.pcap", [talk], Encoding(links=(LinkType.LINUX_SLL2,)))
    mixed = write_pcap(
        tmp_path / "mixed.pcapng",
        [talk, Conversation(("10.1.2.4", 51001), POOL).close()],
        Encoding(pcapng=True, links=(LinkType.ETHERNET, LinkType.RAW)),
    )
    assert [needs_rewriting(link_types(path)) for path in (plain, cooked2, mixed)] == [
        False,
        True,
        True,
    ]


def test_a_link_the_pass_does_not_read_is_inspected_by_the_plugin(tmp_path: Path) -> None:
    """PPP in HDLC-like framing (50): nfstream reads it, the pass does not, the plugin does."""
    talk = Conversation(MINER, POOL)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer"]}))
    ethernet = write_pcap(tmp_path / "ether.pcap", [talk.close()])
    data = bytearray(ethernet.read_bytes())
    out, at = bytearray(data[:24]), 24
    struct.pack_into("<I", out, 20, 50)
    while at < len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        frame = b"\xff\x03\x00\x21" + data[at + 16 + 14 : at + 16 + caplen]
        out += struct.pack("<IIII", *struct.unpack_from("<II", data, at), len(frame), len(frame))
        out += frame
        at += 16 + caplen
    path = tmp_path / "ppp.pcap"
    path.write_bytes(bytes(out))
    assert read_first_payloads(path, 600, 86_400) == {}
    (verdict,) = scan_capture(path)
    assert verdict.mining
    assert verdict.reason.startswith("network.stratum.subscribe")


def test_first_payloads_are_bounded_and_the_syn_side_is_kept(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["x"]}))
    for _ in range(20):  # far more than is kept, each bigger than what is kept of a side
        talk.send(0, b"a" * 1400).send(1, b"b" * 1400)
    path = write_pcap(tmp_path / "long.pcap", [talk.close()])
    ((key, first),) = read_first_payloads(path, 600, 86_400).items()
    assert key[:4] == (MINER[0], MINER[1], POOL[0], POOL[1])
    assert first.syn_from == 0
    assert first.payloads[0].startswith(b'{"id":1,"method":"mining.subscribe"')
    assert len(first.payloads[0]) == len(first.payloads[1]) == 4096
    assert first.payloads[1] == b"b" * 4096


def test_payloads_stop_after_eight_packets_per_side(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL)
    for index in range(12):
        talk.send(0, bytes([65 + index]) * 10)
    path = write_pcap(tmp_path / "many.pcap", [talk.close()])
    (first,) = read_first_payloads(path, 600, 86_400).values()
    assert first.payloads[0] == b"".join(bytes([65 + i]) * 10 for i in range(8))
    assert first.payloads[1] == b""


def test_a_tuple_silent_past_the_idle_timeout_is_two_flows(tmp_path: Path) -> None:
    first = Conversation(MINER, POOL).send(0, json_line({"id": 1, "method": "mining.subscribe"}))
    later = Conversation(MINER, POOL, start=first.packets[-1][0] + 900, handshake=False)
    later.send(1, json_line({"id": None, "method": "mining.notify", "params": ["1f"]}))
    path = write_pcap(tmp_path / "twice.pcap", [first, later])
    found = read_first_payloads(path, 600, 86_400)
    assert len(found) == 2
    by_file = scan_capture(path, inspect="file")
    assert len(by_file) == 2
    assert _rows(by_file) == _rows(scan_capture(path, inspect="plugin"))
    assert all(v.mining for v in by_file)


# --- broken files ------------------------------------------------------------------------------


@pytest.fixture
def good_capture(tmp_path: Path) -> Path:
    talk = Conversation(MINER, POOL)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer"]}))
    return write_pcap(tmp_path / "good.pcap", [talk.close()])


def test_a_file_that_is_no_capture_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_text("date,kwh\n2021-11-15,12\n")
    with pytest.raises(
        MineWatchError,
        match=r"notes\.pcap: not a readable pcap or pcapng capture \(unknown magic number at "
        r"byte offset 0\)",
    ):
        scan_capture(path)
    with pytest.raises(MineWatchError, match=r"notes\.pcap"):
        scan_captures([path])


def test_a_truncated_file_header_is_an_error(good_capture: Path, tmp_path: Path) -> None:
    path = tmp_path / "short.pcap"
    path.write_bytes(good_capture.read_bytes()[:20])
    with pytest.raises(
        MineWatchError, match=r"short\.pcap: .*\(truncated pcap file header at byte offset 20\)"
    ):
        scan_capture(path)


def test_an_impossible_record_length_names_the_packet(good_capture: Path, tmp_path: Path) -> None:
    data = bytearray(good_capture.read_bytes())
    first = 24 + 16 + struct.unpack_from("<I", data, 24 + 8)[0]  # the second record
    struct.pack_into("<I", data, first + 8, 0x7FFFFFFF)
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(data))
    with pytest.raises(MineWatchError, match=rf"byte offset {first} \(packet 2\)"):
        scan_capture(path)


def test_a_pcapng_block_running_past_the_end_is_an_error(tmp_path: Path) -> None:
    talk = Conversation(MINER, POOL).send(0, b"hello\n").close()
    data = bytearray(write_pcap(tmp_path / "a.pcapng", [talk], Encoding(pcapng=True)).read_bytes())
    shb = struct.unpack_from("<I", data, 4)[0]
    struct.pack_into("<I", data, shb + 4, len(data) * 2)  # the interface block's length
    path = tmp_path / "broken.pcapng"
    path.write_bytes(bytes(data))
    with pytest.raises(MineWatchError, match=rf"broken\.pcapng: .*past the end.*offset {shb}"):
        scan_capture(path)
    struct.pack_into("<I", data, shb + 4, 28)  # shorter than it is: its two lengths disagree
    path.write_bytes(bytes(data))
    with pytest.raises(MineWatchError, match=rf"lengths disagree at byte offset {shb}"):
        scan_capture(path)


@pytest.mark.parametrize("pcapng", [False, True])
def test_a_cut_off_last_packet_is_skipped_with_a_warning(
    pcapng: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    talk = Conversation(MINER, POOL)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer"]}))
    whole = write_pcap(tmp_path / "whole", [talk.close()], Encoding(pcapng=pcapng))
    data = whole.read_bytes()
    path = tmp_path / "cut"
    path.write_bytes(data[:-10])
    with caplog.at_level(logging.WARNING):
        (verdict,) = scan_capture(path)
    assert "cut short" in caplog.text
    assert verdict.mining
    assert verdict.packets == len(talk.packets) - 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_captures_never_crash_the_pass(tmp_path: Path, data: st.DataObject) -> None:
    """Any cut or any changed bytes: a result or a MineWatchError, never a crash."""
    talk = Conversation(MINER, POOL)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer"]}))
    talk.send(1, b"x" * 300)
    pcapng = data.draw(st.booleans())
    raw = bytearray(
        write_pcap(tmp_path / "base", [talk.close()], Encoding(pcapng=pcapng)).read_bytes()
    )
    for _ in range(data.draw(st.integers(0, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path / "damaged"
    path.write_bytes(bytes(raw))
    try:
        read_first_payloads(path, 600, 86_400)
    except MineWatchError as error:
        message = str(error)
    else:
        message = "read: damaged"
    assert "damaged" in message


def test_a_tuple_reused_within_the_idle_timeout_stays_one_flow(tmp_path: Path) -> None:
    """nfstream does not split a flow on a new SYN, so neither does the pass: the second
    session's bytes follow the first's, as the plugin sees them."""
    first = Conversation(MINER, POOL).send(0, b"first session\n").close()
    again = Conversation(MINER, POOL, start=first.packets[-1][0] + 5)
    again.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer"]}))
    path = write_pcap(tmp_path / "reused.pcap", [first, again.close()])
    (conversation,) = read_first_payloads(path, 600, 86_400).values()
    assert conversation.payloads[0].startswith(b"first session\n{")
    (verdict,) = scan_capture(path, inspect="file")
    assert _rows([verdict]) == _rows(scan_capture(path, inspect="plugin"))
    assert verdict.mining


def test_a_conversation_between_ipv6_addresses(tmp_path: Path) -> None:
    miner, pool = ("2001:db8:1::23", 51000), ("2001:db8:ffff::7", 3333)
    talk = Conversation(miner, pool)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11"]}))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["farm9.r2", "x"]}))
    talk.close()
    for encoding in (Encoding(), Encoding(links=(LinkType.LINUX_SLL2,), ipv6_options=True)):
        path = write_pcap(tmp_path / "v6.pcap", [talk], encoding)
        (verdict,) = scan_capture(path, inspect="file")
        assert (verdict.client_ip, verdict.server_ip, verdict.server_port) == (
            miner[0],
            pool[0],
            3333,
        )
        assert (verdict.mining, verdict.wallet, verdict.worker) == (True, "farm9", "r2")
        assert _rows([verdict]) == _rows(scan_capture(path, inspect="plugin"))


@pytest.mark.parametrize("snaplen", [96, 128, 200])
def test_a_snap_length_cuts_the_payload_not_its_start(tmp_path: Path, snaplen: int) -> None:
    # Mirror ports often capture the first bytes of each packet only (tcpdump -s 128): the
    # payload kept must still start where the TCP header ends.
    talk = Conversation(("10.1.2.3", 51000), ("203.0.113.7", 3333))
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11"]}))
    talk.send(1, json_line({"id": None, "method": "mining.notify", "params": ["1f" * 300]}))
    capture = write_pcap(tmp_path / "cut.pcap", [talk.close()], Encoding(snaplen=snaplen))
    for inspect in ("file", "plugin"):
        (verdict,) = scan_capture(capture, inspect=inspect)
        assert verdict.mining, inspect
        assert verdict.method == "mining.subscribe"
        assert (verdict.client_port, verdict.server_port) == (51000, 3333)


def test_a_miner_inside_a_gtp_tunnel_is_still_read(tmp_path: Path) -> None:
    # A mobile core's capture: the phone's packets ride GTP-U (UDP 2152) between the base
    # station and the gateway. nfstream decodes the tunnel; the file pass does not, so the
    # plugin reads such a capture.
    talk = Conversation(("10.45.0.7", 40500), ("203.0.113.7", 3333))
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["xmrig/6.16"]}))
    talk.send(1, json_line({"id": 1, "result": [[["mining.notify", "ae"]], "08", 4]}))
    tunnel = Datagrams(("192.0.2.1", 2152), ("192.0.2.2", 2152))
    tunnel.packets = [(when, _in_gtp(frame)) for when, frame in talk.close().packets]
    capture = write_pcap(tmp_path / "gtp.pcap", [tunnel])
    (verdict,) = scan_capture(capture)
    assert verdict.mining
    assert (verdict.client_ip, verdict.server_port) == ("10.45.0.7", 3333)
    assert verdict.agent == "xmrig/6.16"


def _in_gtp(frame: bytes) -> bytes:
    inner = frame[14:]
    gtp = struct.pack("!BBHI", 0x30, 0xFF, len(inner), 0x1234) + inner
    udp = struct.pack("!HHHH", 2152, 2152, 8 + len(gtp), 0) + gtp
    outer = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
        bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]),
    )  # fmt: skip
    return frame[:14] + outer + udp
