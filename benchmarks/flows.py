"""Flow records: the decoder's speed, and the flow-only detector's recall and false alarms.

``python -m benchmarks.flows`` prints

* decoding speed (records per second) of crafted v5 and IPFIX datagrams: decoding alone, and
  decoding plus the Arrow table the collector writes; then the collector over loopback;
* with softflowd, tshark and the shared corpus (``MINEWATCH_CORPUS``): every capture replayed
  by ``softflowd -a -t maxlife=60`` as IPFIX into the collector (softflowd's timeouts run on
  the wall clock, so a replay still gives one record per direction of a connection: the
  cadence cannot be judged here, only in the unit tests), then ``detect``: recall over the
  labelled mining flows (a flow counts when a conversation with its client and server is
  flagged), flagged conversations among all conversations of the negative captures, once
  without any pool list and once with the addresses that the captures' own DNS answers give
  for pool names (a resolver log).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa

from minewatch.detect.network.flow_shape import FlowShapeSettings, detect
from minewatch.detect.network.flows import scan_captures
from minewatch.ingest.collector import bind_udp, collect
from minewatch.ingest.flow_records import FlowRecordWriter, read_flow_records
from minewatch.ingest.netflow import NetFlowDecoder, chunks_table
from minewatch.ingest.pool_addresses import (
    PoolAddresses,
    pool_addresses_from_answers,
    pool_addresses_from_findings,
)
from minewatch.synth.netflow import bulk_ipfix, bulk_v5

CORPUS = Path(
    os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def decoder_speed(datagrams: int) -> None:
    for name, data in (("v5", bulk_v5(datagrams)), ("IPFIX", bulk_ipfix(datagrams))):
        decoder = NetFlowDecoder()
        started = time.perf_counter()
        chunks = [c for d in data for c in decoder.decode(d, "192.0.2.1")]
        decoded = time.perf_counter()
        table = chunks_table(chunks)
        done = time.perf_counter()
        records = decoder.stats.records
        print(
            f"decoder {name:5s}: {records:,} records in {len(data):,} datagrams: "
            f"{records / (decoded - started):,.0f} records/s decoded, "
            f"{table.num_rows / (done - started):,.0f} records/s into Arrow"
        )


def collector_speed(datagrams: int, pace: int) -> None:
    """Loopback: ``pace`` datagrams (of 30 records), then a millisecond's pause."""
    data = bulk_v5(datagrams)
    with tempfile.TemporaryDirectory() as folder:
        sock = bind_udp("127.0.0.1", 0)
        port = sock.getsockname()[1]
        stop = threading.Event()
        writer = FlowRecordWriter(Path(folder) / "flows.parquet")
        result: list[object] = []
        worker = threading.Thread(target=lambda: result.append(collect(sock, writer, stop=stop)))
        worker.start()
        started = time.perf_counter()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for index, datagram in enumerate(data):
                sender.sendto(datagram, ("127.0.0.1", port))
                if index % pace == pace - 1:
                    time.sleep(0.001)  # a router's pace, not a flood of the socket buffer
        sent = time.perf_counter()
        time.sleep(0.5)
        stop.set()
        worker.join()
        sock.close()
        summary = result[0]
        written = summary.written  # type: ignore[attr-defined]
        print(
            f"collector over loopback: sent {len(data) * 30:,} v5 records in "
            f"{sent - started:.2f} s ({len(data) * 30 / (sent - started):,.0f}/s offered); "
            f"written {written:,} "
            f"({100 * written / (len(data) * 30):.1f} %)"
        )


def _export(capture: Path, folder: Path) -> pa.Table:
    sock = bind_udp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    out = folder / f"{capture.name}.parquet"
    stop = threading.Event()
    writer = FlowRecordWriter(out)
    worker = threading.Thread(target=lambda: collect(sock, writer, stop=stop, flush_s=0.2))
    worker.start()
    subprocess.run(
        [
            "softflowd",
            "-a",
            "-t",
            "maxlife=60",
            "-r",
            str(capture),
            "-n",
            f"127.0.0.1:{port}",
            "-v",
            "10",
            "-d",
            "-c",
            "none",
            "-p",
            str(folder / "softflowd.pid"),
        ],
        capture_output=True,
        check=True,
    )
    time.sleep(0.4)
    stop.set()
    worker.join()
    sock.close()
    table = read_flow_records(out)
    return table.append_column("source", pa.array([capture.name] * table.num_rows))


def _dns_answers(capture: Path) -> list[tuple[str, str]]:
    text = subprocess.run(
        [
            "tshark",
            "-r",
            str(capture),
            "-Y",
            "dns.flags.response == 1",
            "-T",
            "fields",
            "-e",
            "dns.qry.name",
            "-e",
            "dns.a",
            "-e",
            "dns.aaaa",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answers = []
    for line in text.splitlines():
        name, *addresses = line.split("\t")
        answers.append((name, ",".join(a for a in addresses if a)))
    return answers


def detection_quality() -> None:
    pcaps = CORPUS / "pcaps"
    if not (pcaps / "labels-mining-flows.csv").is_file():
        print(f"detection: no corpus at {pcaps}; skipped")
        return
    if shutil.which("softflowd") is None or shutil.which("tshark") is None:
        print("detection: softflowd or tshark is not installed; skipped")
        return
    labels: set[tuple[str, str, int, str, int]] = set()
    with (pcaps / "labels-mining-flows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels.add(
                (row["file"], row["client_ip"], int(row["client_port"]), row["server_ip"],
                 int(row["server_port"]))
            )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        mining = [_export(c, Path(folder)) for c in sorted((pcaps / "mining").iterdir())]
        negative = [_export(c, Path(folder)) for c in sorted((pcaps / "negative").iterdir())]
        answers = [a for c in sorted(pcaps.glob("*/*")) for a in _dns_answers(c)]
    learned = pool_addresses_from_answers(answers)
    print(
        f"corpus: {sum(t.num_rows for t in mining + negative):,} flow records exported as "
        "IPFIX (one record a direction: softflowd's timeouts do not apply in a replay); "
        f"{len(learned)} pool address(es) learned from the captures' DNS answers"
    )
    for title, pools in (("no pool list", PoolAddresses()), ("DNS-learned pools", learned)):
        for long_s in (600.0, 900.0, 1200.0):
            settings = FlowShapeSettings(long_s=long_s)
            every = pa.concat_tables(
                [detect(t, settings, pools, all_conversations=True) for t in mining]
            ).to_pylist()
            hits = {_ends(r) for r in every if r["mining"]}
            long_labelled = {_ends(r) for r in every if r["duration_s"] >= long_s} & labels
            recall = len(labels & hits)
            others = len(hits - labels)
            flagged = sum(detect(t, settings, pools).num_rows for t in negative)
            clean = [detect(t, settings, pools, all_conversations=True) for t in negative]
            total = sum(t.num_rows for t in clean)
            long_clean = sum(
                sum(1 for d in t.column("duration_s").to_pylist() if d >= long_s) for t in clean
            )
            print(
                f"{title:18s} long ≥ {long_s / 60:>4.0f} min: recall {recall}/{len(labels)} "
                f"({100 * recall / len(labels):.1f} %); unlabelled flagged in mining captures "
                f"{others}; labelled conversations this long: {len(long_labelled & hits)}/"
                f"{len(long_labelled)} flagged; negative captures: {flagged} of {total} "
                f"conversations flagged ({long_clean} of them this long)"
            )
    _payload_learned_pools(pcaps, mining, negative, labels)


def _payload_learned_pools(
    pcaps: Path,
    mining: list[pa.Table],
    negative: list[pa.Table],
    labels: set[tuple[str, str, int, str, int]],
) -> None:
    """Flow-only recall when the pools come from payload scans (``scan pcap`` → ``--pools-from``):
    of the other captures (a pool seen elsewhere), and of the same captures (an ISP inspects a
    mirrored sample of the link whose flow records it then scans)."""
    captures = sorted((pcaps / "mining").iterdir())
    found = {c.name: pool_addresses_from_findings(scan_captures([c])) for c in captures}
    for title, same in (("pools from other captures' scans", False),
                        ("pools from the same captures' scans", True)):  # fmt: skip
        hits: set[tuple[str, str, int, str, int]] = set()
        for capture, table in zip(captures, mining, strict=True):
            pools = PoolAddresses()
            for name, learned in found.items():
                if (name == capture.name) == same:
                    pools.update(learned)
            rows = detect(table, FlowShapeSettings(), pools).to_pylist()
            hits |= {_ends(r) for r in rows if r["mining"]}
        recall = len(labels & hits)
        print(
            f"{title}: recall {recall}/{len(labels)} ({100 * recall / len(labels):.1f} %); "
            f"unlabelled flagged in mining captures {len(hits - labels)}"
        )
    every = PoolAddresses()
    for learned in found.values():
        every.update(learned)
    flagged = sum(detect(t, FlowShapeSettings(), every).num_rows for t in negative)
    print(
        f"  {len(every)} pool addresses found by the payload scans; with all of them, "
        f"{flagged} conversation(s) flagged in the negative captures"
    )


def _ends(row: dict[str, object]) -> tuple[str, str, int, str, int]:
    return (
        str(row["capture"]),
        str(row["client_ip"]),
        int(str(row["client_port"])),
        str(row["server_ip"]),
        int(str(row["server_port"])),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=20_000, help="Crafted datagrams.")
    args = parser.parse_args(argv)
    decoder_speed(args.datagrams)
    for pace in (5, 10, 20):
        collector_speed(min(args.datagrams, 20_000), pace)
    detection_quality()
    return 0


if __name__ == "__main__":
    sys.exit(main())
