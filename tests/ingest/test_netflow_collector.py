"""The collector over loopback (crafted datagrams), the flow-record files it writes, and the
``minewatch collect netflow`` command stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from minewatch.errors import InputFileError, MineWatchError
from minewatch.ingest.collector import CollectSummary, bind_udp, collect, parse_listen
from minewatch.ingest.flow_records import FlowRecordWriter, read_flow_records
from minewatch.synth.netflow import Flow, v5_datagram

T0 = 1_637_000_000_000
FLOWS = [
    Flow("10.1.2.3", "203.0.113.7", 51000 + i, 3333, 12, 1500, T0, T0 + 59_000) for i in range(30)
]


def _run(
    out: Path, datagrams: list[bytes], **options: object
) -> tuple[CollectSummary, threading.Event]:
    sock = bind_udp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = threading.Event()
    result: list[CollectSummary] = []
    writer = FlowRecordWriter(out)
    worker = threading.Thread(
        target=lambda: result.append(
            collect(sock, writer, stop=stop, flush_s=0.1, **options)  # type: ignore[arg-type]
        )
    )
    worker.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for data in datagrams:
            sender.sendto(data, ("127.0.0.1", port))
    deadline = time.monotonic() + 5
    while worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
        if not options:
            time.sleep(0.3)
            stop.set()
    stop.set()
    worker.join()
    sock.close()
    return result[0], stop


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_collected_records_are_written_whole_in_each_format(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"flows{suffix}"
    datagrams = [v5_datagram(FLOWS, T0 + 60_000), b"junk", v5_datagram(FLOWS[:5], T0 + 60_000)]
    summary, _ = _run(out, datagrams)
    assert summary.written == 35
    assert summary.stats.malformed == 1
    assert any("malformed datagrams 1" in line for line in summary.lines())
    table = read_flow_records(out)
    assert table.num_rows == 35
    assert table.column("dst_port").to_pylist() == [3333] * 35
    assert table.column("first_seen")[0].as_py().timestamp() * 1000 == T0
    assert not list(tmp_path.glob(".*.part"))


def test_collector_stops_at_max_flows(tmp_path: Path) -> None:
    out = tmp_path / "flows.parquet"
    summary, _ = _run(out, [v5_datagram(FLOWS, T0 + 60_000)] * 3, max_flows=40)
    assert summary.stopped_by == "max-flows"
    assert pq.read_table(out).num_rows == 40


def test_collector_stops_after_its_duration(tmp_path: Path) -> None:
    out = tmp_path / "flows.parquet"
    summary, _ = _run(out, [], duration_s=0.3)
    assert summary.stopped_by == "duration"
    assert pq.read_table(out).num_rows == 0


def test_listen_address_is_checked() -> None:
    assert parse_listen("127.0.0.1:2055") == ("127.0.0.1", 2055)
    assert parse_listen("[::1]:9995") == ("::1", 9995)
    for bad in ("2055", "host:", "host:70000", ":2055"):
        with pytest.raises(MineWatchError):
            parse_listen(bad)


def test_reading_flow_records_names_row_and_column(tmp_path: Path) -> None:
    out = tmp_path / "flows.csv"
    _run(out, [v5_datagram(FLOWS[:3], T0 + 60_000)])
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index('"packets"')] = "many"
    lines[2] = ",".join(cells)
    out.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputFileError) as error:
        read_flow_records(out)
    assert "row 3, column 'packets'" in str(error.value)
    jsonl = tmp_path / "flows.jsonl"
    jsonl.write_text(json.dumps({"src_ip": "10.0.0.1"}) + "\n")
    with pytest.raises(InputFileError, match="column 'dst_ip': required column is missing"):
        read_flow_records(jsonl)
    good = read_flow_records(_written(tmp_path, FLOWS[:2]))
    rows = good.to_pylist()
    rows[1]["dst_ip"] = "10.0.0.999"
    rows[0]["src_ip"] = None
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(InputFileError) as error:
        read_flow_records(broken)
    assert "row 1, column 'src_ip': is empty" in str(error.value)
    assert "row 2, column 'dst_ip': '10.0.0.999' is not an IP address" in str(error.value)


def _written(folder: Path, flows: list[Flow]) -> Path:
    out = folder / "written.parquet"
    _run(out, [v5_datagram(flows, T0 + 60_000)])
    return out


def test_collector_rotates_its_files(tmp_path: Path) -> None:
    names = iter(range(100))
    sock = bind_udp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = threading.Event()

    def next_writer() -> FlowRecordWriter:
        return FlowRecordWriter(tmp_path / f"part-{next(names)}.parquet")

    result: list[CollectSummary] = []
    worker = threading.Thread(
        target=lambda: result.append(
            collect(
                sock, next_writer(), stop=stop, flush_s=0.1, rotate_s=0.3, next_writer=next_writer
            )
        )
    )
    worker.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for _ in range(3):
            sender.sendto(v5_datagram(FLOWS, T0 + 60_000), ("127.0.0.1", port))
            time.sleep(0.45)
    stop.set()
    worker.join()
    sock.close()
    summary = result[0]
    assert len(summary.files) >= 3
    assert summary.written == 90
    assert sum(pq.read_table(f).num_rows for f in summary.files) == 90


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_collect_command_stops_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "flows.parquet"
    command = [sys.executable, "-m", "minewatch", "collect", "netflow"]
    process = subprocess.Popen(
        [*command, "--listen", f"127.0.0.1:{port}", "--out", str(out), "--flush-seconds", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(v5_datagram(FLOWS, T0 + 60_000), ("127.0.0.1", port))
        time.sleep(0.6)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopped by signal" in stdout
    assert pq.read_table(out).num_rows == 30


def test_a_busy_port_leaves_no_file_behind(tmp_path: Path) -> None:
    from minewatch.cli.app import run

    taken = bind_udp("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        out = tmp_path / "records.parquet"
        assert run(["collect", "netflow", "--listen", f"127.0.0.1:{port}", "--out", str(out)]) == 1
        assert list(tmp_path.iterdir()) == []
    finally:
        taken.close()
