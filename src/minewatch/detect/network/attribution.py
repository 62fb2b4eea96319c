"""Who mines: each finding's miner traced to an enterprise, a street address and a machine.

Notice 1283 clause (十九): the monitoring platform locates each mining site to an IP address, a
specific enterprise and a physical address. For each row of a findings table
(:data:`~minewatch.detect.network.flows.NETWORK_FINDINGS_SCHEMA`, client = the side that opened
the connection, normally the miner), at the flow's ``first_seen``:

1. **NAT** — a unit's NAT log (:mod:`minewatch.ingest.nat_log`) turns the client's public
   address and port into the inside host's address and port (``internal_ip``,
   ``internal_port``);
2. **DHCP** — the unit's leases (:mod:`minewatch.ingest.dhcp_leases`) name the machine that held
   the inside address (or the client's own address, in a capture taken inside) then: ``mac``,
   ``host_name``;
3. **allocation** — the narrowest allocation record (:mod:`minewatch.ingest.allocations`) that
   holds the client's address and was valid then gives ``enterprise``, ``uscc``, ``address``,
   ``region_code``, ``isp``;
4. **AS** — failing an allocation, the organisation of the autonomous system that routes the
   client's address (:mod:`minewatch.reference.asn`): ``as_org``, ``as_network``. It names a
   network operator, not the enterprise, so ``enterprise`` stays empty.

``attributed_by`` lists the steps that answered, joined by ``+`` in the order above
(``nat+dhcp+allocation``, ``allocation``, ``asn``); empty when none did. All look-ups are
vectorised (:class:`~minewatch.detect.network.ranges.RangeIndex`): one sort of the records, two
binary searches per nesting level for the flows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.network.ranges import OPEN_END_S, OPEN_START_S, RangeIndex
from minewatch.reference.ip_address import KEY_BYTES, address_keys

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "AllocationIndex",
    "AttributionStep",
    "KeyedIndex",
    "attribute_findings",
]


class AttributionStep(StrEnum):
    """How a finding was attributed (the values of ``attributed_by``, joined by ``+``)."""

    NAT = "nat"
    DHCP = "dhcp"
    ALLOCATION = "allocation"
    ASN = "asn"


ATTRIBUTION_COLUMNS: tuple[str, ...] = (
    "enterprise",
    "address",
    "uscc",
    "region_code",
    "isp",
    "internal_ip",
    "internal_port",
    "mac",
    "host_name",
    "as_org",
    "as_network",
    "attributed_by",
)
"""The findings columns this module fills (all null until it runs)."""

_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1}
AsLookup = Callable[[list[str]], Mapping[str, Any]]


def _seconds(column: pa.ChunkedArray | pa.Array, *, default: int) -> npt.NDArray[np.int64]:
    """A timestamp column as whole seconds since 1970 (null → ``default``)."""
    ms = pc.cast(pc.cast(column, pa.timestamp("ms", tz="UTC")), pa.int64())
    seconds = np.asarray(pc.fill_null(ms, 0).to_numpy(zero_copy_only=False), np.int64) // 1000
    seconds[np.asarray(pc.is_null(ms).to_numpy(zero_copy_only=False), dtype=bool)] = default
    return seconds


def _text_list(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    return [None if v is None else str(v) for v in column.to_pylist()]


@dataclass(frozen=True)
class KeyedIndex:
    """Records of a table found by address (and, for NAT, protocol and port) at a time."""

    table: pa.Table
    index: RangeIndex


@dataclass(frozen=True)
class AllocationIndex:
    """Allocation records (:data:`~minewatch.ingest.allocations.ALLOCATIONS_SCHEMA`) indexed
    for longest-prefix look-ups at a time."""

    table: pa.Table
    index: RangeIndex

    @classmethod
    def build(cls, allocations: pa.Table) -> AllocationIndex:
        first, _ = address_keys(_text_list(allocations.column("ip_first")))
        last, _ = address_keys(_text_list(allocations.column("ip_last")))
        start = _seconds(allocations.column("valid_from"), default=OPEN_START_S)
        end = _seconds(allocations.column("valid_to"), default=OPEN_END_S)
        return cls(allocations, RangeIndex.build(first, last, start, end))

    def match(
        self, addresses: list[str | None], times_s: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Row of the narrowest allocation holding each address valid at each time, or -1."""
        keys, ok = address_keys(addresses)
        found = self.index.lookup(keys, times_s)
        found[~ok] = -1
        return found


def nat_index(nat_log: pa.Table) -> KeyedIndex:
    """A NAT log (:data:`~minewatch.ingest.nat_log.NAT_LOG_SCHEMA`) indexed by public address,
    protocol and port."""
    addresses = _text_list(nat_log.column("public_ip"))
    protocols = [_PROTOCOL_NUMBERS.get(p or "", 0) for p in nat_log.column("protocol").to_pylist()]
    low = nat_log.column("public_port_first").to_pylist()
    high = nat_log.column("public_port_last").to_pylist()
    first = _nat_keys(addresses, protocols, low)
    last = _nat_keys(addresses, protocols, high)
    start = _seconds(nat_log.column("start_at"), default=OPEN_START_S)
    end = _seconds(nat_log.column("end_at"), default=OPEN_END_S)
    return KeyedIndex(nat_log, RangeIndex.build(first, last, start, end))


def dhcp_index(leases: pa.Table) -> KeyedIndex:
    """DHCP leases (:data:`~minewatch.ingest.dhcp_leases.DHCP_LEASES_SCHEMA`) by address."""
    keys, _ = address_keys(_text_list(leases.column("ip")))
    start = _seconds(leases.column("start_at"), default=OPEN_START_S)
    end = _seconds(leases.column("end_at"), default=OPEN_END_S)
    return KeyedIndex(leases, RangeIndex.build(keys, keys, start, end))


def _nat_keys(
    addresses: list[str | None], protocols: list[int], ports: list[int | None]
) -> npt.NDArray[np.bytes_]:
    """Address key (16 bytes) + protocol (1) + port (2), as ``S19``."""
    keys, _ = address_keys(addresses)
    width = KEY_BYTES + 3
    rows = np.zeros((len(addresses), width), dtype=np.uint8)
    rows[:, :KEY_BYTES] = np.frombuffer(
        np.ascontiguousarray(keys).tobytes(), dtype=np.uint8
    ).reshape(-1, KEY_BYTES)
    rows[:, KEY_BYTES] = np.asarray(protocols, dtype=np.uint8)
    port = np.asarray([p or 0 for p in ports], dtype=np.uint16)
    rows[:, KEY_BYTES + 1] = port >> 8
    rows[:, KEY_BYTES + 2] = port & 0xFF
    return rows.view(f"S{width}").reshape(-1)


def _take(table: pa.Table, name: str, rows: npt.NDArray[np.int64]) -> list[Any]:
    """``table[name][row]`` for each row, None where row is -1."""
    if not len(rows):
        return []
    values = table.column(name).take(pa.array(np.maximum(rows, 0))).to_pylist()
    return [None if row < 0 else value for row, value in zip(rows.tolist(), values, strict=True)]


def attribute_findings(
    findings: pa.Table,
    *,
    allocations: AllocationIndex | None = None,
    nat: KeyedIndex | None = None,
    dhcp: KeyedIndex | None = None,
    as_lookup: AsLookup | None = None,
) -> pa.Table:
    """``findings`` with :data:`ATTRIBUTION_COLUMNS` filled (see the module's description).

    ``findings`` needs ``client_ip`` (text), ``client_port`` (integer), ``transport`` (``tcp``,
    ``udp``) and ``first_seen`` (timestamp); any flow table with these columns will do (a
    packet capture's or a NetFlow collector's). Columns the table lacks are added (at the end);
    rows, order and the other columns are kept.
    ``as_lookup`` maps a list of addresses to ``{address: AsRecord | None}`` (for instance
    :func:`minewatch.reference.asn.lookup_as`); ``None`` skips the AS step.
    """
    count = findings.num_rows
    clients = _text_list(findings.column("client_ip"))
    times = _seconds(findings.column("first_seen"), default=OPEN_START_S)
    steps: list[list[str]] = [[] for _ in range(count)]
    out: dict[str, list[Any]] = {name: [None] * count for name in ATTRIBUTION_COLUMNS}

    host_ips: list[str | None] = list(clients)
    if nat is not None and count:
        transports = [
            _PROTOCOL_NUMBERS.get(str(t), 0) for t in findings.column("transport").to_pylist()
        ]
        ports = findings.column("client_port").to_pylist()
        rows = nat.index.lookup(_nat_keys(clients, transports, ports), times)
        missing = rows < 0
        if missing.any():  # a log without protocols, or a record for any protocol
            anyproto = nat.index.lookup(_nat_keys(clients, [0] * count, ports), times)
            rows = np.where(missing, anyproto, rows)
        inside = _take(nat.table, "internal_ip", rows)
        inside_port = _take(nat.table, "internal_port", rows)
        for i in np.flatnonzero(rows >= 0).tolist():
            out["internal_ip"][i] = inside[i]
            out["internal_port"][i] = inside_port[i]
            host_ips[i] = inside[i]
            steps[i].append(AttributionStep.NAT)
    if dhcp is not None and count:
        keys, ok = address_keys(host_ips)
        rows = dhcp.index.lookup(keys, times)
        rows[~ok] = -1
        macs = _take(dhcp.table, "mac", rows)
        names = _take(dhcp.table, "host_name", rows)
        for i in np.flatnonzero(rows >= 0).tolist():
            out["mac"][i] = macs[i]
            out["host_name"][i] = names[i]
            steps[i].append(AttributionStep.DHCP)
    matched = np.full(count, -1, dtype=np.int64)
    if allocations is not None and count:
        matched = allocations.match(clients, times)
        taken = {
            target: _take(allocations.table, source, matched)
            for target, source in (
                ("enterprise", "organisation"),
                ("address", "address"),
                ("uscc", "uscc"),
                ("region_code", "region_code"),
                ("isp", "isp"),
            )
        }
        for i in np.flatnonzero(matched >= 0).tolist():
            for target, values in taken.items():
                out[target][i] = values[i]
            steps[i].append(AttributionStep.ALLOCATION)
    if as_lookup is not None and count:
        unmatched = [i for i in range(count) if matched[i] < 0 and clients[i]]
        records = as_lookup(sorted({str(clients[i]) for i in unmatched}))
        for i in unmatched:
            record = records.get(str(clients[i]))
            if record is not None:
                out["as_org"][i] = record.organisation
                out["as_network"][i] = record.network
                steps[i].append(AttributionStep.ASN)
    out["attributed_by"] = ["+".join(s) if s else None for s in steps]
    table = findings
    for name in ATTRIBUTION_COLUMNS:
        kind = pa.int32() if name == "internal_port" else pa.string()
        column = pa.array(out[name], type=kind)
        if name in table.column_names:
            position = table.column_names.index(name)
            field = table.schema.field(name)
            table = table.set_column(position, field, column.cast(field.type))
        else:
            table = table.append_column(pa.field(name, kind), column)
    return table
