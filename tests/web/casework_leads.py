"""Leads with evidence as the scanners record them, for the casework tests (no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pyarrow as pa

from conftest import make_uscc
from minewatch.cli.scan import suspects_as_leads
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.detect.plants.scan import scan_plants
from minewatch.domain.leads.network import network_leads
from minewatch.domain.leads.plants import plant_findings_as_leads
from minewatch.domain.leads.service import LeadData
from minewatch.engine.local import scan_meters
from minewatch.synth.meters import generate_meters
from minewatch.synth.plants import PlantSynthParams, generate_plants


@cache
def scanned_meter_lead() -> LeadData:
    """A suspected meter of a generated prefecture, as ``scan meters --leads`` records it (its
    load curve dated), placed in 石棉县."""
    province = generate_meters(31, n_meters=300, days=28)
    settings = MeterScanSettings()
    result = scan_meters(
        province.readings,
        customers=province.customers,
        weather=province.weather,
        settings=settings,
    )
    leads = suspects_as_leads(result.findings, province.customers, settings, result.series)
    dated = [lead for lead in leads if lead.evidence["series"]["start_date"]]
    chosen = dated[0] if dated else leads[0]
    return dataclasses.replace(
        chosen, region_code="511824", account_no="5118249990001", uscc=make_uscc(7)
    )


@cache
def scanned_plant_lead() -> LeadData:
    """A plant short of what its water allows, as ``scan plants --leads`` records it."""
    generated = generate_plants(9300, PlantSynthParams(basins=2, plants_per_basin=(5, 6)))
    found = scan_plants(
        generated.plants, generated.generation, generated.inflow, generated.events
    ).findings
    (first, *_) = plant_findings_as_leads(found)
    return dataclasses.replace(first, region_code="511824", uscc=make_uscc(8), address=None)


def network_lead() -> LeadData:
    """A miner's flow to a pool, traced to an enterprise in 石棉县, as ``scan pcap --leads``
    records it."""
    row: dict[str, Any] = {
        "capture": "week1.pcap", "client_ip": "61.139.8.17", "client_port": 40111,
        "server_ip": "203.0.113.50", "server_port": 3333, "transport": "tcp",
        "first_seen": datetime(2021, 11, 15, 18, tzinfo=UTC),
        "last_seen": datetime(2021, 11, 15, 19, tzinfo=UTC), "mining": True, "coin": "BTC",
        "pool_host": "ss.antpool.com", "wallet": "farm7wallet", "worker": "rig9",
        "agent": "cgminer/4.11", "method": "mining.authorize", "confidence": 0.99,
        "reason": "network.stratum.authorize", "packets": 84, "bytes": 9840,
        "evidence": '{"method":"mining.authorize"}', "enterprise": "石棉县鑫源9科技有限公司",
        "address": "四川省雅安市石棉县美罗镇9号厂房", "uscc": make_uscc(9),
        "region_code": "511824", "attributed_by": "allocation",
    }  # fmt: skip
    (lead,) = network_leads(pa.Table.from_pylist([row]))
    return lead
