"""``minewatch collect``: receive flow exports and write them as flow records."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from minewatch.cli import output
from minewatch.ingest.collector import bind_udp, collect, parse_listen
from minewatch.ingest.flow_records import FlowRecordWriter

app = typer.Typer(help="Receive flow exports (NetFlow v5/v9, IPFIX) from routers and probes.")


@app.command("netflow")
def netflow(
    out: Annotated[
        Path, typer.Option("--out", help="Flow-record file (.parquet, .csv or .jsonl).")
    ],
    listen: Annotated[
        str, typer.Option("--listen", help="UDP address to listen on, HOST:PORT.")
    ] = "127.0.0.1:2055",
    duration: Annotated[
        float | None, typer.Option("--duration", min=0.0, help="Stop after this many seconds.")
    ] = None,
    max_flows: Annotated[
        int | None, typer.Option("--max-flows", min=1, help="Stop after this many records.")
    ] = None,
    flush_s: Annotated[
        float, typer.Option("--flush-seconds", min=0.1, help="Write a batch at least this often.")
    ] = 5.0,
    rotate_s: Annotated[
        float | None,
        typer.Option(
            "--rotate-seconds",
            min=1.0,
            help="Start a new file this often (named after --out and its UTC start time).",
        ),
    ] = None,
) -> None:
    """Collect NetFlow v5, v9 and IPFIX over UDP into flow-record files; stops on Ctrl-C /
    SIGTERM, --duration or --max-flows and leaves complete files (one, or one an interval with
    --rotate-seconds)."""
    host, port = parse_listen(listen)

    def next_writer() -> FlowRecordWriter:
        if rotate_s is None:
            return FlowRecordWriter(out)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return FlowRecordWriter(out.with_name(f"{out.stem}-{stamp}{out.suffix}"))

    sock = bind_udp(host, port)  # before any file is opened: a busy port leaves nothing behind
    try:
        writer = next_writer()
    except BaseException:
        sock.close()
        raise
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    bound = sock.getsockname()
    output.info(f"listening on {bound[0]}:{bound[1]} (UDP); writing {out}")
    try:
        summary = collect(
            sock,
            writer,
            stop=stop,
            duration_s=duration,
            max_flows=max_flows,
            flush_s=flush_s,
            rotate_s=rotate_s,
            next_writer=next_writer,
        )
    finally:
        sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
    for line in summary.lines():
        output.info(line)
    where = summary.files[0] if len(summary.files) == 1 else f"{len(summary.files)} files"
    output.info(f"{summary.written} flow record(s) written to {where}")
