"""Network findings as leads: one lead per mining machine, refreshed by later scans.

The findings (:data:`~minewatch.detect.network.flows.NETWORK_FINDINGS_SCHEMA`, attributed by
:func:`~minewatch.detect.network.attribution.attribute_findings`) hold one row per flow. The
mining flows are grouped by the machine that mined, and that machine is the lead's subject, so a
scan next week refreshes the same open lead instead of opening another:

* ``mac:00:16:3e:aa:bb:cc`` — when DHCP named the machine (its address may change, its MAC
  does not);
* ``host:10.20.3.7@203.0.113.9`` — an inside address known from NAT, qualified by the public
  address it left through; a private client address (a capture taken inside) is qualified by the
  enterprise's credit code when an allocation named it (``host:10.20.3.7@91511824…``), else it
  stands alone (``host:10.20.3.7``: two units' machines on the same private address would then
  share a lead);
* ``ip:203.0.113.9`` — otherwise, the miner's public address.

The lead carries the enterprise (``customer_name``), its credit code, street address and region
from the allocation record; the credit code links it to the enterprise in the ledger
(``linked_by = ip_allocation``). ``evidence`` lists the pools, wallets, workers, agents, coins,
methods, first and last seen, bytes, packets, matched messages and how the miner was traced,
and ``flow_rows``: the machine's largest flows one by one (pool, wallet, worker, ports,
transport, bytes, packets, first and last seen).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from minewatch.domain.leads.service import LeadData

__all__ = ["SOURCE", "network_leads", "network_subject"]

SOURCE = "network"
SUBJECT_LENGTH = 64
_LIST_LIMIT = 20
_MESSAGES = 3


def _private(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_private
    except ValueError:
        return False


def network_subject(row: dict[str, Any]) -> str:
    """The lead subject of one findings row (see the module's description)."""
    if row.get("mac"):
        return f"mac:{row['mac']}"
    client = str(row.get("client_ip") or "")
    inside = row.get("internal_ip") or (client if _private(client) else None)
    if inside:
        scope = client if row.get("internal_ip") else row.get("uscc")
        subject = f"host:{inside}@{scope}" if scope else f"host:{inside}"
    else:
        subject = f"ip:{client}"
    if len(subject) > SUBJECT_LENGTH:
        subject = "host:" + hashlib.sha256(subject.encode()).hexdigest()[: SUBJECT_LENGTH - 5]
    return subject


def _distinct(values: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for value in values:
        if value not in (None, ""):
            seen.setdefault(value, None)
    return sorted(seen, key=str)[:_LIST_LIMIT]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _first(rows: list[dict[str, Any]], key: str) -> Any:
    return next((row[key] for row in rows if row.get(key) not in (None, "")), None)


FLOW_ROW_FIELDS = (
    "client_ip", "client_port", "server_ip", "server_port", "transport", "pool_host", "coin",
    "wallet", "worker", "method", "bytes", "packets", "first_seen", "last_seen",
)  # fmt: skip
"""What each of a lead's largest flows keeps (``flow_rows``), for an official to read."""
FLOW_ROWS = 50


def _flow_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The machine's flows, largest first (at most :data:`FLOW_ROWS`), each as its pool, wallet,
    worker, ports, transport, bytes, packets and first and last seen."""
    largest = sorted(
        rows, key=lambda r: (-int(r.get("bytes") or 0), str(r.get("first_seen") or ""))
    )[:FLOW_ROWS]
    return [
        {
            key: _iso(row.get(key)) if key in ("first_seen", "last_seen") else row.get(key)
            for key in FLOW_ROW_FIELDS
        }
        for row in largest
    ]


def network_leads(findings: pa.Table) -> list[LeadData]:
    """One lead per mining machine of an attributed findings table (mining rows only)."""
    if "mining" in findings.column_names:
        findings = findings.filter(pc.fill_null(findings.column("mining"), False))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in findings.to_pylist():
        groups.setdefault(network_subject(row), []).append(row)
    leads = []
    for subject, rows in sorted(groups.items()):
        reasons = _distinct(
            code.split("(")[0].strip()
            for row in rows
            for code in str(row.get("reason") or "").split(";")
        )
        firsts = [row["first_seen"] for row in rows if row.get("first_seen") is not None]
        lasts = [row["last_seen"] for row in rows if row.get("last_seen") is not None]
        evidence: dict[str, Any] = {
            "flows": len(rows),
            "first_seen": _iso(min(firsts)) if firsts else None,
            "last_seen": _iso(max(lasts)) if lasts else None,
            "bytes": sum(int(row.get("bytes") or 0) for row in rows),
            "packets": sum(int(row.get("packets") or 0) for row in rows),
            "client_ips": _distinct(row.get("client_ip") for row in rows),
            "pools": _distinct(
                f"{row['server_ip']}:{row['server_port']}"
                + (f" ({row['pool_host']})" if row.get("pool_host") else "")
                for row in rows
            ),
            "wallets": _distinct(row.get("wallet") for row in rows),
            "workers": _distinct(row.get("worker") for row in rows),
            "agents": _distinct(row.get("agent") for row in rows),
            "coins": _distinct(row.get("coin") for row in rows),
            "methods": _distinct(row.get("method") for row in rows),
            "messages": _distinct(row.get("evidence") for row in rows)[:_MESSAGES],
            "captures": _distinct(row.get("capture") for row in rows),
            "flow_rows": _flow_rows(rows),
            "traced": {
                key: _first(rows, key)
                for key in (
                    "attributed_by",
                    "isp",
                    "internal_ip",
                    "mac",
                    "host_name",
                    "as_org",
                    "as_network",
                )
            },
        }
        uscc = _first(rows, "uscc")
        leads.append(
            LeadData(
                source=SOURCE,
                subject=subject,
                score=max(float(row.get("confidence") or 0.0) for row in rows),
                category="mining",
                reasons="; ".join(reasons),
                evidence=evidence,
                customer_name=_first(rows, "enterprise"),
                uscc=uscc,
                address=_first(rows, "address"),
                region_code=_first(rows, "region_code"),
                uscc_source="ip_allocation" if uscc else None,
            )
        )
    return leads
