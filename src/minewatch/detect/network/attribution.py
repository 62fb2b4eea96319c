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
    keys, _ = address_keys(_text_list(nat_log.column("public_ip")))
    protocols = _protocols(nat_log.column("protocol"))
    low = np.asarray(nat_log.column("public_port_first").to_numpy(), dtype=np.int64)
    high = np.asarray(nat_log.column("public_port_last").to_numpy(), dtype=np.int64)
    first = _nat_keys(keys, protocols, low)
    last = _nat_keys(keys, protocols, high)
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
    keys: npt.NDArray[np.bytes_], protocols: npt.NDArray[np.uint8], ports: npt.NDArray[np.int64]
) -> npt.NDArray[np.bytes_]:
    """Address key (16 bytes) + protocol (1) + port (2), as ``S19``."""
    width = KEY_BYTES + 3
    rows = np.zeros((len(keys), width), dtype=np.uint8)
    rows[:, :KEY_BYTES] = np.frombuffer(
        np.ascontiguousarray(keys.astype(f"S{KEY_BYTES}")).tobytes(), dtype=np.uint8
    ).reshape(-1, KEY_BYTES)
    rows[:, KEY_BYTES] = protocols
    port = np.asarray(ports, dtype=np.int64).astype(np.uint16)
    rows[:, KEY_BYTES + 1] = port >> 8
    rows[:, KEY_BYTES + 2] = port & 0xFF
    return rows.view(f"S{width}").reshape(-1)


def _take(table: pa.Table, name: str, rows: npt.NDArray[np.int64]) -> pa.ChunkedArray:
    """``table[name][row]`` for each row, null where row is -1."""
    indices = pa.array(np.maximum(rows, 0), mask=rows < 0)
    return table.column(name).take(indices)


def _protocols(column: pa.ChunkedArray) -> npt.NDArray[np.uint8]:
    lowered = pc.fill_null(pc.utf8_lower(pc.cast(column, pa.string())), "")
    numbers = np.zeros(len(lowered), dtype=np.uint8)
    values = np.asarray(lowered.to_numpy(zero_copy_only=False), dtype=object)
    for name, number in _PROTOCOL_NUMBERS.items():
        numbers[values == name] = number
    return numbers


_STEP_ORDER = (
    AttributionStep.NAT,
    AttributionStep.DHCP,
    AttributionStep.ALLOCATION,
    AttributionStep.ASN,
)
_STEP_TEXT = [
    "+".join(step for bit, step in enumerate(_STEP_ORDER) if code >> bit & 1) or None
    for code in range(1 << len(_STEP_ORDER))
]


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
    client_keys, client_ok = address_keys(clients)
    times = _seconds(findings.column("first_seen"), default=OPEN_START_S)
    steps = np.zeros(count, dtype=np.int64)
    out: dict[str, pa.Array | pa.ChunkedArray] = {}

    host_keys, host_ok = client_keys, client_ok
    if nat is not None and count:
        ports = np.asarray(
            pc.fill_null(pc.cast(findings.column("client_port"), pa.int64()), 0).to_numpy(),
            dtype=np.int64,
        )
        protocols = _protocols(findings.column("transport"))
        rows = nat.index.lookup(_nat_keys(client_keys, protocols, ports), times)
        missing = rows < 0
        if missing.any():  # a log without protocols, or a record for any protocol
            zero = np.zeros(count, dtype=np.uint8)
            rows = np.where(
                missing, nat.index.lookup(_nat_keys(client_keys, zero, ports), times), rows
            )
        rows[~client_ok] = -1
        resolved = rows >= 0
        out["internal_ip"] = _take(nat.table, "internal_ip", rows)
        out["internal_port"] = _take(nat.table, "internal_port", rows)
        inside_keys, inside_ok = address_keys(_text_list(out["internal_ip"]))
        host_keys = np.where(resolved, inside_keys, client_keys)
        host_ok = np.where(resolved, inside_ok, client_ok)
        steps |= resolved.astype(np.int64) << 0
    if dhcp is not None and count:
        rows = dhcp.index.lookup(host_keys, times)
        rows[~host_ok] = -1
        out["mac"] = _take(dhcp.table, "mac", rows)
        out["host_name"] = _take(dhcp.table, "host_name", rows)
        steps |= (rows >= 0).astype(np.int64) << 1
    matched = np.full(count, -1, dtype=np.int64)
    if allocations is not None and count:
        matched = allocations.index.lookup(client_keys, times)
        matched[~client_ok] = -1
        for target, source in (
            ("enterprise", "organisation"),
            ("address", "address"),
            ("uscc", "uscc"),
            ("region_code", "region_code"),
            ("isp", "isp"),
        ):
            out[target] = _take(allocations.table, source, matched)
        steps |= (matched >= 0).astype(np.int64) << 2
    if as_lookup is not None and count:
        unmatched = np.flatnonzero((matched < 0) & client_ok).tolist()
        records = as_lookup(sorted({str(clients[i]) for i in unmatched}))
        organisations: list[str | None] = [None] * count
        networks: list[str | None] = [None] * count
        for i in unmatched:
            record = records.get(str(clients[i]))
            if record is not None:
                organisations[i] = record.organisation
                networks[i] = record.network
                steps[i] |= 1 << 3
        out["as_org"] = pa.array(organisations, pa.string())
        out["as_network"] = pa.array(networks, pa.string())
    out["attributed_by"] = pa.array([_STEP_TEXT[code] for code in steps.tolist()], pa.string())
    table = findings
    for name in ATTRIBUTION_COLUMNS:
        kind = pa.int32() if name == "internal_port" else pa.string()
        column = out.get(name, pa.nulls(count, kind))
        if name in table.column_names:
            position = table.column_names.index(name)
            field = table.schema.field(name)
            table = table.set_column(position, field, pc.cast(column, field.type))
        else:
            table = table.append_column(pa.field(name, kind), pc.cast(column, kind))
    return table
