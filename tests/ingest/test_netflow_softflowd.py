"""End to end with Debian's softflowd: each mining capture of the corpus replayed as NetFlow v5,
v9 and IPFIX into the collector over loopback, and into nfcapd for the nfdump reader; the
labelled mining flows must come out with the packets and bytes tshark counts.

softflowd counts a packet's bytes from the IP header on as captured, Ethernet padding included
(a 40-byte ACK received in a 60-byte frame counts 46), so the expected bytes are the frame length
less the Ethernet (and VLAN) header, not the IP total length.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from minewatch.cli.app import run
from minewatch.ingest.collector import bind_udp, collect
from minewatch.ingest.flow_records import FlowRecordWriter, read_flow_records
from minewatch.ingest.nfdump import read_nfdump

CORPUS = Path(
    os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "data")
)
PCAPS = CORPUS / "pcaps"
MINING = sorted((PCAPS / "mining").glob("*.pcap*")) if (PCAPS / "mining").is_dir() else []

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not MINING, reason=f"the shared capture corpus is not at {PCAPS}"),
    pytest.mark.skipif(
        shutil.which("softflowd") is None or shutil.which("tshark") is None,
        reason="softflowd and tshark are not installed (apt-get install softflowd tshark; "
        ".ci/run installs them)",
    ),
]
needs_nfcapd = pytest.mark.skipif(
    shutil.which("nfcapd") is None or shutil.which("nfdump") is None,
    reason="nfcapd/nfdump are not installed (apt-get install nfdump; .ci/run installs it)",
)

Ends = tuple[str, int, str, int]


def _labels() -> dict[str, list[Ends]]:
    wanted: dict[str, list[Ends]] = defaultdict(list)
    with (PCAPS / "labels-mining-flows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            wanted[row["file"]].append(
                (
                    row["client_ip"],
                    int(row["client_port"]),
                    row["server_ip"],
                    int(row["server_port"]),
                )
            )
    return wanted


def _tshark_counts(capture: Path) -> dict[Ends, list[int]]:
    """Packets and bytes (from the IP header on, as captured) per TCP direction."""
    fields = ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"]
    fields += ["ip.len", "ipv6.plen", "frame.len", "frame.protocols"]
    command = ["tshark", "-r", str(capture), "-Y", "tcp", "-T", "fields"]
    for name in fields:
        command += ["-e", name]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    counts: dict[Ends, list[int]] = defaultdict(lambda: [0, 0])
    for line in text.splitlines():
        s4, s6, sport, d4, d6, dport, ip_len, ip6_len, frame_len, protocols = line.split("\t")
        ends = (s4 or s6, int(sport), d4 or d6, int(dport))
        if protocols.startswith("eth:"):
            link = 14 + 4 * protocols.split(":ip")[0].count("vlan")
            size = int(frame_len) - link
        else:
            size = int(ip_len.split(",")[0]) if ip_len else int(ip6_len) + 40
        counts[ends][0] += 1
        counts[ends][1] += size
    return counts


def _softflowd(capture: Path, port: int, version: int, workdir: Path, biflow: bool = False) -> None:
    """softflowd replays ``capture`` (``-a``: flow times from the capture; ``-b``: IPFIX
    biflows, RFC 5103) and exits."""
    export = ["-n", f"127.0.0.1:{port}", "-v", str(version), *(["-b"] if biflow else [])]
    foreground = ["-d", "-c", "none", "-p", str(workdir / f"softflowd-{port}.pid")]
    subprocess.run(
        ["softflowd", "-a", "-r", str(capture), *export, *foreground],
        capture_output=True,
        check=True,
        timeout=120,
    )


def _collected(capture: Path, version: int, workdir: Path, biflow: bool = False) -> pa.Table:
    sock = bind_udp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    out = workdir / f"{capture.stem}-v{version}.parquet"
    stop = threading.Event()
    done: list[object] = []
    writer = FlowRecordWriter(out)
    worker = threading.Thread(
        target=lambda: done.append(collect(sock, writer, stop=stop, flush_s=0.2))
    )
    worker.start()
    try:
        _softflowd(capture, port, version, workdir, biflow)
        time.sleep(0.5)  # the last datagrams are on the socket
    finally:
        stop.set()
        worker.join()
        sock.close()
    return read_flow_records(out)


def _sums(table: pa.Table) -> dict[Ends, list[int]]:
    sums: dict[Ends, list[int]] = defaultdict(lambda: [0, 0])
    for row in table.to_pylist():
        ends = (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"])
        sums[ends][0] += row["packets"]
        sums[ends][1] += row["bytes"]
    return sums


def _check(capture: Path, table: pa.Table, expected: dict[Ends, list[int]]) -> int:
    got = _sums(table)
    labelled = _labels()[capture.name]
    for client_ip, client_port, server_ip, server_port in labelled:
        upstream = (client_ip, client_port, server_ip, server_port)
        downstream = (server_ip, server_port, client_ip, client_port)
        assert got.get(upstream) == expected[upstream], (capture.name, upstream)
        assert got.get(downstream) == expected[downstream], (capture.name, downstream)
    return len(labelled)


@pytest.mark.parametrize(("version", "biflow"), [(5, False), (9, False), (10, False), (10, True)])
def test_softflowd_exports_of_every_mining_capture_match_the_packets(
    tmp_path: Path, version: int, biflow: bool
) -> None:
    checked = 0
    for capture in MINING:
        table = _collected(capture, version, tmp_path, biflow)
        assert table.num_rows > 0, capture.name
        assert table.column("version").unique().to_pylist() == [version]
        assert table.column("first_seen").null_count == 0
        checked += _check(capture, table, _tshark_counts(capture))
    assert checked == 491


def test_flow_times_match_the_capture(tmp_path: Path) -> None:
    capture = PCAPS / "mining" / "zeek-bitcoin-mining.pcap"
    text = subprocess.run(
        ["tshark", "-r", str(capture), "-T", "fields", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    first_packet_ms = round(float(text[0]) * 1000)
    for version, tolerance_ms in ((5, 1), (10, 1), (9, 1000)):  # a v9 header has whole seconds
        table = _collected(capture, version, tmp_path)
        earliest = min(v.timestamp() * 1000 for v in table.column("first_seen").to_pylist())
        assert abs(earliest - first_packet_ms) <= tolerance_ms, version


@needs_nfcapd
def test_nfcapd_files_of_softflowd_exports_read_back_the_same(tmp_path: Path) -> None:
    capture = PCAPS / "mining" / "nesfit-cgminer.s0.pcapng"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = tmp_path / "nfcapd"
    store.mkdir()
    daemon = subprocess.Popen(
        ["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", str(store), "-t", "3600"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        _softflowd(capture, port, 9, tmp_path)
        time.sleep(0.5)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=20)
    (stored,) = [p for p in store.glob("nfcapd.*") if ".current." not in p.name]
    table = read_nfdump(stored)
    assert table.schema.names[:4] == ["exporter", "version", "observation_domain", "src_ip"]
    assert table.column("first_seen").null_count == 0
    assert _check(capture, table, _tshark_counts(capture)) == 17
    out = tmp_path / "findings.csv"
    assert run(["scan", "flows", str(stored), "--out", str(out), "--all"]) == 0
    assert out.read_text(encoding="utf-8-sig").count("\n") > 17
