"""Mining from flow records alone: pool addresses, pool ports and the shape of a conversation.

Flow records (NetFlow, IPFIX, nfdump; :data:`~minewatch.ingest.flow_records.FLOW_RECORD_SCHEMA`)
have no payload, so an encrypted pool session or an ISP's export can only be judged by who talks
to whom and how. The physics of mining that a flow shows:

* a miner keeps **one long connection** to its pool (hours), re-opened at once if it drops;
* both directions carry **small packets**: a job (``mining.notify``, Monero ``job``) is a few
  hundred bytes, a share (``mining.submit``) one or two hundred, each answered by a bare ACK —
  mean bytes per packet well under ~300 either way, where a download fills 1,400-byte packets;
* the packet counts are **roughly symmetric**: each job and share is one packet and an ACK;
* the cadence is **regular**: vardiff pools set the share difficulty for a share every few
  seconds to a minute, and send new work at least every ~30–60 s, so every export interval of
  a long conversation holds a similar number of packets (an interactive session is bursty; a
  bare keep-alive is far sparser).

:func:`conversations` joins the records of one connection (both directions; the pieces an
exporter's active timeout cut it into, as long as the gap between them is under
``idle_gap_s``) and orients each conversation client → server: the side that sent the first
SYN-carrying record when one direction's record starts earlier, otherwise the side on the
less well-known port (a port below 1024, then a pool port, then below 32768, is a server's), or
the side on a listed pool address. :func:`detect` scores them; every reason is declared in
:data:`REASONS` with its weight, the clause it serves and its known false positives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.network.flows import NETWORK_FINDINGS_SCHEMA
from minewatch.ingest.pool_addresses import PoolAddresses
from minewatch.reference.pools import EVERYDAY_PORTS, pool_ports

_ICMP = 1
_HEADER_BYTES_V4 = 60
"""IPv4 and TCP headers of a packet without payload, with the usual options (timestamps)."""
_HEADER_BYTES_V6 = 80
_TCP = 6
_SYN = 0x02
_PSH = 0x08


@dataclass(frozen=True)
class Reason:
    """A reason code of the flow-only detector, declared as data."""

    code: str
    weight: float
    meaning: str
    false_positives: str
    clause: str = "notice 1283 clause 三 (identify mining activity on networks)"


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "flows.pool_address",
            0.85,
            "the server is a listed pool address or one a DNS answer gave for a pool name",
            "a pool's address reused by another service (shared hosting, a CDN)",
        ),
        Reason(
            "flows.pool_address_attempt",
            0.3,
            "a listed pool address with no session (a connection attempt, a refusal, a "
            "handshake with nothing said, an ICMP error): "
            "intent, recorded, not mining on its own",
            "a host probing many addresses",
        ),
        Reason(
            "flows.pool_port",
            0.15,
            "the server port is one pools commonly listen on (3333, 4444, 14444 …)",
            "any service on those ports; everyday ports (80, 443, 8080 …) do not count",
        ),
        Reason(
            "flows.shape.long_small_symmetric",
            0.45,
            "a long TCP conversation of small packets both ways with similar packet counts",
            "long interactive sessions (SSH, remote desktop at rest), chat and push channels",
        ),
        Reason(
            "flows.shape.regular",
            0.25,
            "every export interval of the conversation holds a similar number of packets, at "
            "the rate of jobs and shares",
            "telemetry and heartbeat channels with a fixed period",
        ),
    )
}


@dataclass(frozen=True)
class FlowShapeSettings:
    """Thresholds of the flow-only detector (physical limits, not fitted values)."""

    idle_gap_s: float = 300.0
    """Records of one 5-tuple further apart than this are different conversations."""
    long_s: float = 900.0
    """A conversation at least this long is long-lived (miners stay connected for hours)."""
    small_bytes_per_packet: float = 300.0
    """Mean bytes per packet (IP bytes) at or under which a direction is small."""
    symmetric_ratio: float = 0.5
    """Packets of the quieter direction over the busier one, at least."""
    regular_min_intervals: int = 4
    """Export intervals (records of one direction) needed to judge the cadence."""
    regular_max_cv: float = 0.5
    """Coefficient of variation of the packet rate across intervals, at most."""
    regular_min_packets_per_min: float = 3.0
    """A cadence slower than this (per direction) is a keep-alive, not jobs and shares."""
    threshold: float = 0.5
    """Confidence at or above which a conversation is reported as mining."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


FLOW_FINDINGS_SCHEMA = pa.schema(
    [
        *NETWORK_FINDINGS_SCHEMA,
        pa.field("duration_s", pa.float64()),
        pa.field("records", pa.int32()),
        pa.field("client_packets", pa.int64()),
        pa.field("server_packets", pa.int64()),
        pa.field("client_bytes", pa.int64()),
        pa.field("server_bytes", pa.int64()),
        pa.field("exporter", pa.string()),
    ]
)
"""One conversation per row, client → server, with :data:`NETWORK_FINDINGS_SCHEMA`'s columns
(``capture`` is the flow file the conversation was first seen in; ``ndpi_label``, ``coin``,
``wallet``, ``worker``, ``agent``, ``method`` stay empty: flows carry no payload; ``evidence``
holds the figures) and the flow figures. ``packets``/``bytes`` are scaled by the sampling
interval (estimates of the real traffic when sampled)."""


def conversations(records: pa.Table, settings: FlowShapeSettings | None = None) -> pa.Table:
    """Flow records joined into conversations, oriented client → server (see module doc).

    ``records`` is a :data:`FLOW_RECORD_SCHEMA` table, optionally with a ``source`` column
    (the file each record came from). One row per conversation."""
    settings = settings or FlowShapeSettings()
    n = records.num_rows
    if n == 0:
        return _empty_conversations()
    source = (
        records.column("source").combine_chunks()
        if "source" in records.column_names
        else pa.array([""] * n, pa.string())
    )
    ips = pc.dictionary_encode(
        pa.concat_arrays(
            [records.column("src_ip").combine_chunks(), records.column("dst_ip").combine_chunks()]
        )
    )
    codes = np.asarray(ips.indices.to_numpy(zero_copy_only=False), np.int64)
    names = ips.dictionary
    a = codes[:n] * 65_536 + _ints(records, "src_port")
    b = codes[n:] * 65_536 + _ints(records, "dst_port")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    forward = a <= b  # the record goes lo → hi
    protocol = _ints(records, "protocol")
    first = _times(records, "first_seen")
    last = _times(records, "last_seen")
    last = np.maximum(last, first)
    sampling = np.maximum(_ints(records, "sampling_interval"), 1)
    packets = _ints(records, "packets") * sampling
    octets = _ints(records, "bytes") * sampling
    flags = _ints(records, "tcp_flags")

    order = np.lexsort((first, protocol, hi, lo))
    lo, hi, protocol, first, last = lo[order], hi[order], protocol[order], first[order], last[order]
    forward, packets, octets, flags = forward[order], packets[order], octets[order], flags[order]
    new_key = np.ones(n, np.bool_)
    new_key[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (protocol[1:] != protocol[:-1])
    conv = _split(new_key, first, last, int(settings.idle_gap_s * 1000))
    starts = np.flatnonzero(np.r_[True, conv[1:] != conv[:-1]])

    def total(values: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
        return np.add.reduceat(np.where(mask, values, 0), starts)

    back = ~forward
    fwd_first = _min_at(np.where(forward, first, np.iinfo(np.int64).max), starts)
    back_first = _min_at(np.where(back, first, np.iinfo(np.int64).max), starts)
    fwd_flags = np.bitwise_or.reduceat(np.where(forward, flags, 0), starts)
    back_flags = np.bitwise_or.reduceat(np.where(back, flags, 0), starts)
    fwd_syn, back_syn = fwd_flags & _SYN > 0, back_flags & _SYN > 0
    cadence_fwd = _cadence(conv, forward, packets, first, last, starts, settings)
    cadence_back = _cadence(conv, back, packets, first, last, starts, settings)
    lo_end, hi_end = lo[starts], hi[starts]
    lo_port, hi_port = lo_end % 65_536, hi_end % 65_536
    # Who opened it: the first SYN-carrying direction, when one direction starts earlier.
    by_syn = (fwd_first != back_first) & (np.where(fwd_first < back_first, fwd_syn, back_syn))
    lo_opened = np.where(
        by_syn, fwd_first < back_first, _serverness(hi_port) > _serverness(lo_port)
    )
    tie = ~by_syn & (_serverness(hi_port) == _serverness(lo_port))
    lo_opened = np.where(tie, lo_port > hi_port, lo_opened)
    first_source = source.take(pa.array(order[starts]))
    return pa.table(
        {
            "lo_ip": names.take(pa.array(lo_end // 65_536)),
            "lo_port": lo_port,
            "hi_ip": names.take(pa.array(hi_end // 65_536)),
            "hi_port": hi_port,
            "protocol": protocol[starts],
            "lo_opened": lo_opened,
            "first_ms": np.minimum.reduceat(first, starts),
            "last_ms": np.maximum.reduceat(last, starts),
            "records": np.diff(np.r_[starts, n]),
            "lo_packets": total(packets, forward),
            "hi_packets": total(packets, back),
            "lo_bytes": total(octets, forward),
            "hi_bytes": total(octets, back),
            "lo_flags": fwd_flags,
            "hi_flags": back_flags,
            "lo_cadence_cv": cadence_fwd[0],
            "hi_cadence_cv": cadence_back[0],
            "lo_intervals": cadence_fwd[1],
            "hi_intervals": cadence_back[1],
            "source": first_source,
            "exporter": records.column("exporter").combine_chunks().take(pa.array(order[starts])),
        }
    )


def detect(
    records: pa.Table,
    settings: FlowShapeSettings | None = None,
    pools: PoolAddresses | None = None,
    all_conversations: bool = False,
) -> pa.Table:
    """Score every conversation of ``records``; the mining ones (every one with
    ``all_conversations``) as :data:`FLOW_FINDINGS_SCHEMA` rows, strongest first."""
    settings = settings or FlowShapeSettings()
    table = conversations(records, settings)
    if not all_conversations:  # only a pool address or a long life can reach the threshold
        table = table.filter(_candidates(table, settings, pools))
    rows: list[dict[str, Any]] = []
    ports = pool_ports()
    for conv in table.to_pylist():
        row = _oriented(conv, pools)
        reasons, evidence = _reasons(row, settings, pools, ports)
        miss = 1.0
        for code in reasons:
            miss *= 1.0 - REASONS[code].weight
        confidence = round(1.0 - miss, 4) if reasons else 0.0
        mining = confidence >= settings.threshold
        if not (mining or all_conversations):
            continue
        rows.append(_finding(row, reasons, confidence, mining, evidence))
    rows.sort(key=lambda r: (-r["confidence"], r["first_seen"]))
    columns = {name: [r.get(name) for r in rows] for name in FLOW_FINDINGS_SCHEMA.names}
    return pa.table(columns, schema=FLOW_FINDINGS_SCHEMA)


# --------------------------------------------------------------------------- internals


def _candidates(
    table: pa.Table, settings: FlowShapeSettings, pools: PoolAddresses | None
) -> pa.Array:
    """Conversations that may be mining: long enough for the shape, or with a pool address."""
    duration_ms = pc.subtract(table.column("last_ms"), table.column("first_ms"))
    keep = pc.greater_equal(duration_ms, int(settings.long_s * 1000))
    if pools is not None and len(pools):
        for side in ("lo_ip", "hi_ip"):
            ips = table.column(side).combine_chunks()
            distinct = pc.unique(ips)
            listed = [ip for ip in distinct.to_pylist() if pools.name_of(ip) is not None]
            keep = pc.or_(keep, pc.is_in(ips, value_set=pa.array(listed, pa.string())))
    return keep


def _empty_conversations() -> pa.Table:
    return conversations(
        pa.table(
            {
                "exporter": ["x"],
                "src_ip": ["0.0.0.0"],
                "src_port": [0],
                "dst_ip": ["0.0.0.0"],
                "dst_port": [0],
                "protocol": [0],
                "tcp_flags": [0],
                "packets": [0],
                "bytes": [0],
                "first_seen": pa.array([0], pa.timestamp("ms", tz="UTC")),
                "last_seen": pa.array([0], pa.timestamp("ms", tz="UTC")),
                "sampling_interval": [1],
            }
        )
    ).slice(0, 0)


def _ints(table: pa.Table, name: str) -> npt.NDArray[np.int64]:
    column = pc.fill_null(table.column(name), 0).combine_chunks()
    return np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _times(table: pa.Table, name: str) -> npt.NDArray[np.int64]:
    column = table.column(name).combine_chunks().cast(pa.timestamp("ms", tz="UTC"))
    return _ints(pa.table({name: column.cast(pa.int64())}), name)


def _split(
    new_key: npt.NDArray[np.bool_],
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    gap_ms: int,
) -> npt.NDArray[np.int64]:
    """A conversation number per (sorted) record: a new key, or a silence over ``gap_ms``."""
    conv = np.empty(len(first), np.int64)
    number = -1
    end = 0
    for index, (fresh, start, stop) in enumerate(
        zip(new_key.tolist(), first.tolist(), last.tolist(), strict=True)
    ):
        if fresh or start > end + gap_ms:
            number += 1
            end = stop
        elif stop > end:
            end = stop
        conv[index] = number
    return conv


def _min_at(values: npt.NDArray[np.int64], starts: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    return np.minimum.reduceat(values, starts)


def _cadence(
    conv: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    packets: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    starts: npt.NDArray[np.intp],
    settings: FlowShapeSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Per conversation and direction: the coefficient of variation of packets per minute
    across its full export intervals (the last, partial one left out), and their number."""
    count = len(starts)
    cv = np.full(count, np.nan)
    intervals = np.zeros(count, np.int64)
    seconds = (last - first) / 1000.0
    full = mask & (seconds >= 10.0)
    if not full.any():
        return cv, intervals
    ids = conv[full]  # sorted: the records of a conversation are together
    rate = packets[full] / seconds[full] * 60.0
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        conversation = int(ids[begin])
        rates = rate[begin:end]
        intervals[conversation] = len(rates)
        if len(rates) >= settings.regular_min_intervals:
            body = rates[:-1]  # the last record ends with the connection: partial
            mean = float(body.mean())
            if mean >= settings.regular_min_packets_per_min:
                cv[conversation] = float(body.std() / mean)
    return cv, intervals


def _serverness(port: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How much a port looks like a server's: well-known 3, pool 2, registered 1, else 0."""
    pools = np.isin(port, np.fromiter(pool_ports(), np.int64))
    return np.select([port < 1024, pools, port < 32_768], [3, 2, 1], 0)


def _oriented(conv: dict[str, Any], pools: PoolAddresses | None) -> dict[str, Any]:
    lo_opened = bool(conv["lo_opened"])
    if pools is not None and len(pools):
        lo_pool, hi_pool = pools.name_of(conv["lo_ip"]), pools.name_of(conv["hi_ip"])
        if (lo_pool is None) != (hi_pool is None):
            lo_opened = hi_pool is not None  # the pool is the server
    c, s = ("lo", "hi") if lo_opened else ("hi", "lo")
    return {
        "client_ip": conv[f"{c}_ip"],
        "client_port": int(conv[f"{c}_port"]),
        "server_ip": conv[f"{s}_ip"],
        "server_port": int(conv[f"{s}_port"]),
        "protocol": int(conv["protocol"]),
        "client_packets": int(conv[f"{c}_packets"]),
        "server_packets": int(conv[f"{s}_packets"]),
        "client_bytes": int(conv[f"{c}_bytes"]),
        "server_bytes": int(conv[f"{s}_bytes"]),
        "client_flags": int(conv[f"{c}_flags"]),
        "cadence_cv": (conv[f"{c}_cadence_cv"], conv[f"{s}_cadence_cv"]),
        "intervals": (int(conv[f"{c}_intervals"]), int(conv[f"{s}_intervals"])),
        "first_ms": int(conv["first_ms"]),
        "last_ms": int(conv["last_ms"]),
        "records": int(conv["records"]),
        "source": conv["source"],
        "exporter": conv["exporter"],
    }


def _reasons(
    row: dict[str, Any],
    settings: FlowShapeSettings,
    pools: PoolAddresses | None,
    ports: frozenset[int],
) -> tuple[list[str], dict[str, object]]:
    reasons: list[str] = []
    duration_s = (row["last_ms"] - row["first_ms"]) / 1000.0
    evidence: dict[str, object] = {"duration_s": round(duration_s, 1)}
    pool = pools.name_of(row["server_ip"]) if pools is not None and len(pools) else None
    if pool is not None:
        # A session: the pool answered and the miner said something (its login, its shares:
        # segments with PSH, or failing flags, more bytes than its packets' headers). A SYN met
        # by a RST (a refusing pool, a blocking device), a handshake with nothing said, an ICMP
        # error: attempts.
        header = _HEADER_BYTES_V6 if ":" in row["client_ip"] else _HEADER_BYTES_V4
        said = bool(row["client_flags"] & _PSH) or (
            row["client_bytes"] > header * row["client_packets"]
        )
        answered = row["protocol"] != _ICMP and row["server_packets"] > 0 and said
        reasons.append("flows.pool_address" if answered else "flows.pool_address_attempt")
        evidence["pool"] = pool
    if row["protocol"] == _TCP:
        sizes = [
            row["client_bytes"] / row["client_packets"] if row["client_packets"] else None,
            row["server_bytes"] / row["server_packets"] if row["server_packets"] else None,
        ]
        both = [s for s in sizes if s is not None]
        evidence["bytes_per_packet"] = [None if s is None else round(s) for s in sizes]
        quiet, busy = sorted((row["client_packets"], row["server_packets"]))
        ratio = quiet / busy if busy else 0.0
        evidence["packet_ratio"] = round(ratio, 2)
        small = len(both) == 2 and max(both) <= settings.small_bytes_per_packet
        if duration_s >= settings.long_s and small and ratio >= settings.symmetric_ratio:
            reasons.append("flows.shape.long_small_symmetric")
            cvs = [cv for cv in row["cadence_cv"] if cv is not None and not np.isnan(cv)]
            if len(cvs) == 2:
                evidence["cadence_cv"] = [round(cv, 2) for cv in cvs]
                if max(cvs) <= settings.regular_max_cv:
                    reasons.append("flows.shape.regular")
        if row["server_port"] in ports and row["server_port"] not in EVERYDAY_PORTS:
            reasons.append("flows.pool_port")
    return reasons, evidence


def _finding(
    row: dict[str, Any],
    reasons: list[str],
    confidence: float,
    mining: bool,
    evidence: dict[str, object],
) -> dict[str, Any]:
    import json
    from datetime import UTC, datetime

    return {
        "capture": row["source"] or None,
        "client_ip": row["client_ip"],
        "client_port": row["client_port"],
        "server_ip": row["server_ip"],
        "server_port": row["server_port"],
        "transport": {6: "tcp", 17: "udp"}.get(row["protocol"], str(row["protocol"])),
        "first_seen": datetime.fromtimestamp(row["first_ms"] / 1000, UTC),
        "last_seen": datetime.fromtimestamp(row["last_ms"] / 1000, UTC),
        "mining": mining,
        "coin": None,
        "pool_host": evidence.get("pool"),
        "wallet": None,
        "worker": None,
        "agent": None,
        "method": None,
        "confidence": confidence,
        "reason": "; ".join(sorted(reasons, key=lambda c: -REASONS[c].weight)),
        "ndpi_label": None,
        "packets": row["client_packets"] + row["server_packets"],
        "bytes": row["client_bytes"] + row["server_bytes"],
        "evidence": json.dumps(evidence, ensure_ascii=False),
        "enterprise": None,
        "address": None,
        "duration_s": (row["last_ms"] - row["first_ms"]) / 1000.0,
        "records": row["records"],
        "client_packets": row["client_packets"],
        "server_packets": row["server_packets"],
        "client_bytes": row["client_bytes"],
        "server_bytes": row["server_bytes"],
        "exporter": row["exporter"],
    }
