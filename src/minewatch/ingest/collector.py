"""A NetFlow v5/v9 and IPFIX collector: UDP datagrams in, flow-record batches out.

:func:`collect` reads datagrams from a bound UDP socket, decodes them with
:class:`~minewatch.ingest.netflow.NetFlowDecoder` and hands the records to a
:class:`~minewatch.ingest.flow_records.FlowRecordWriter` in batches (every
``flush_records`` records or ``flush_s`` seconds). It stops when ``stop`` is set (the CLI sets
it on SIGINT and SIGTERM), after ``duration_s`` or once ``max_flows`` records were written, and
always leaves whole files: a file is written under a hidden name and renamed when it is closed,
at the end or every ``rotate_s`` seconds (a long-running collector's finished files can be
scanned while it goes on). A malformed datagram is counted, never fatal.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from minewatch.errors import MineWatchError
from minewatch.ingest.flow_records import FlowRecordWriter
from minewatch.ingest.netflow import DecodeStats, NetFlowDecoder, RecordChunk, chunks_table

_POLL_S = 0.2
_MAX_DATAGRAM = 65_535


@dataclass(frozen=True)
class CollectSummary:
    """What one run of the collector did."""

    stats: DecodeStats
    written: int
    seconds: float
    stopped_by: str  # "signal", "duration", "max-flows"
    sets_still_waiting: int
    files: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        s = self.stats
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        reasons = ", ".join(f"{k}: {v}" for k, v in s.malformed_reasons.items())
        out = [
            f"datagrams {s.datagrams}, records {s.records} ({rate:,.0f}/s), written {self.written}",
            f"malformed datagrams {s.malformed}" + (f" ({reasons})" if reasons else ""),
            f"templates {s.templates}, options templates {s.options_templates}; data sets "
            f"without template: {s.sets_without_template} dropped, "
            f"{self.sets_still_waiting} still waiting",
        ]
        if s.records_without_time or s.records_without_addresses:
            out.append(
                f"records without times {s.records_without_time}, "
                f"without addresses (not written) {s.records_without_addresses}"
            )
        out.append(f"stopped by {self.stopped_by} after {self.seconds:.1f} s")
        if len(self.files) > 1:
            out.append(f"{len(self.files)} files: {self.files[0]} … {self.files[-1]}")
        return out


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a pair; port 0 picks a free port."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65_535 or not host:
        raise MineWatchError(f"--listen {text!r}: give HOST:PORT, e.g. 127.0.0.1:2055")
    return host.strip("[]"), int(port)


def bind_udp(host: str, port: int) -> socket.socket:
    """A UDP socket bound to ``host:port`` with a large receive buffer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise MineWatchError(f"cannot listen on {host}:{port} ({error.strerror})") from None
    return sock


def collect(
    sock: socket.socket,
    writer: FlowRecordWriter,
    *,
    stop: threading.Event | None = None,
    duration_s: float | None = None,
    max_flows: int | None = None,
    flush_records: int = 50_000,
    flush_s: float = 5.0,
    rotate_s: float | None = None,
    next_writer: Callable[[], FlowRecordWriter] | None = None,
    decoder: NetFlowDecoder | None = None,
) -> CollectSummary:
    """Collect until stopped; every writer is closed (its file complete) when this returns.

    With ``rotate_s`` and ``next_writer``, the current file is closed every ``rotate_s``
    seconds and the records go on into the file ``next_writer`` opens."""
    decoder = decoder or NetFlowDecoder()
    stop = stop or threading.Event()
    sock.settimeout(_POLL_S)
    started = time.monotonic()
    last_flush = opened = started
    batch: list[RecordChunk] = []
    batched = 0
    closed = 0  # records in files already closed
    files: list[str] = []
    stopped_by = "signal"

    def flush() -> None:
        nonlocal batch, batched, last_flush
        table = chunks_table(batch)
        if max_flows is not None:
            table = table.slice(0, max(0, max_flows - closed - writer.rows))
        writer.write(table)
        writer.flush()
        batch, batched, last_flush = [], 0, time.monotonic()

    try:
        while not stop.is_set():
            now = time.monotonic()
            if duration_s is not None and now - started >= duration_s:
                stopped_by = "duration"
                break
            if max_flows is not None and closed + writer.rows + batched >= max_flows:
                stopped_by = "max-flows"
                break
            try:
                data, (address, *_) = sock.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                data = b""
            if data:
                chunks = decoder.decode(data, address)
                batch += chunks
                batched += sum(len(c) for c in chunks)
            if batched >= flush_records or (batch and now - last_flush >= flush_s):
                flush()
            if rotate_s is not None and next_writer is not None and now - opened >= rotate_s:
                flush()
                closed += writer.rows
                files.append(str(writer.close()))
                writer, opened = next_writer(), time.monotonic()
        flush()
    except BaseException:
        writer.abort()
        raise
    files.append(str(writer.close()))
    return CollectSummary(
        stats=decoder.stats,
        written=closed + writer.rows,
        files=tuple(files),
        seconds=time.monotonic() - started,
        stopped_by=stopped_by,
        sets_still_waiting=decoder.pending_sets(),
    )
