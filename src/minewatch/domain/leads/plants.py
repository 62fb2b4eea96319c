"""Plant findings as leads: one lead per plant, refreshed by later scans.

A finding of the generation-side scan (:data:`~minewatch.detect.plants.scan.PLANT_FINDINGS_SCHEMA`)
says a plant sent less to the grid than its water (or its own terminal meter) allowed, steadily,
from a date — the sign of miners fed through a private line (notice 1283 clause 五). The lead's
subject is ``plant:<plant id>``; it carries the plant's owner, credit code, address and region
from the plants table, the start of the period, the private line's draw [kW] and, from the
packaged hardware catalogue, the rigs and hash rate that draw would run; its evidence keeps
the scan's ``series`` — expected and delivered energy week by week — for the case page's chart.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from minewatch.domain.leads.service import LeadData
from minewatch.reference.hardware import find_model

RIG_MODEL = "Antminer S19"
"""The rig assumed when turning a draw into machines (the 2021 farms' workhorse)."""


def plant_findings_as_leads(findings: pa.Table, *, include_shared: bool = False) -> list[LeadData]:
    """Leads for the findings (shortfalls shared with the whole basin only if asked)."""
    rig = find_model(RIG_MODEL)
    leads = []
    for row in findings.to_pylist():
        if row["shared_with_peers"] and not include_shared:
            continue
        draw_kw = float(row["diverted_kw"] or 0.0)
        rigs = hashrate = None
        if rig is not None and draw_kw > 0:
            rigs = int(draw_kw * 1000.0 // rig.power_w)
            hashrate = rigs * rig.hashrate_hs / 1e12
        found = json.loads(row["evidence"] or "{}")
        evidence: dict[str, Any] = {
            "period": [str(row["period_start_date"]), str(row["period_end_date"])],
            "expected_kwh": row["expected_kwh"],
            "observed_kwh": row["observed_kwh"],
            "shortfall_kwh": row["shortfall_kwh"],
            "diverted_kwh": row["diverted_kwh"],
            "capacity_kw": row["capacity_kw"],
            "driver": row["driver"],
            "ruled_out": json.loads(row["ruled_out"] or "[]"),
            "lines": found.get("lines", []),
            "series": found.get("series"),
            "settings": json.loads(row["settings"] or "{}"),
            "rig_model": RIG_MODEL,
        }
        leads.append(
            LeadData(
                source="plants",
                subject=f"plant:{row['plant_id']}",
                score=float(row["confidence"]),
                category="shared" if row["shared_with_peers"] else "suspected",
                reasons=str(row["reasons"]),
                evidence=evidence,
                customer_name=row["owner"] or row["name"],
                uscc=row["uscc"],
                address=row["address"],
                region_code=row["region_code"],
                est_start_date=row["period_start_date"],
                est_mining_kw=draw_kw or None,
                est_rigs=rigs,
                est_hashrate_ths=hashrate,
            )
        )
    return leads
