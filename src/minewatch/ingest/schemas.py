"""The canonical frames every meter reader returns and every meter detector accepts.

Readings are *wide daily* rows: one row per meter and local day, ``p001 … p096`` the average
active power [kW] of each 15-minute slot from 00:00 Asia/Shanghai (``p001`` = 00:00–00:15).
Missing slots are null. Hourly and long inputs are converted to this form by the readers.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

SLOTS_PER_DAY = 96
SLOT_HOURS = 24 / SLOTS_PER_DAY
SLOT_COLUMNS: tuple[str, ...] = tuple(f"p{i:03d}" for i in range(1, SLOTS_PER_DAY + 1))
HOUR_COLUMNS: tuple[str, ...] = tuple(f"h{i:02d}" for i in range(1, 25))
LOCAL_TZ_NAME = "Asia/Shanghai"


class TariffClass(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    AGRICULTURAL = "agricultural"


READINGS_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        *(pa.field(name, pa.float32()) for name in SLOT_COLUMNS),
    ]
)

CUSTOMERS_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("account_no", pa.string()),
        pa.field("customer_name", pa.string()),
        pa.field("uscc", pa.string()),
        pa.field("address", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("tariff_class", pa.string()),
        pa.field("contract_kva", pa.float64()),
        pa.field("voltage_kv", pa.float64()),
    ]
)

WEATHER_SCHEMA = pa.schema(
    [
        pa.field("region_code", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("temp_mean_c", pa.float32()),
    ]
)

ACCOUNT_ENERGY_SCHEMA = pa.schema(
    [
        pa.field("account_no", pa.string(), nullable=False),
        pa.field("meter_id", pa.string()),  # null: the account's whole consumption (a bill)
        pa.field("start_date", pa.date32(), nullable=False),  # local day
        pa.field("end_date", pa.date32(), nullable=False),  # local day, inclusive
        pa.field("energy_kwh", pa.float64(), nullable=False),
        pa.field("covered_h", pa.float64(), nullable=False),  # hours the energy was metered
    ]
)
"""Metered energy per grid account (户号) and period: one row per account, meter and period.
Rows of one account and meter follow each other in time; the meters of one account run side by
side (their powers add up)."""


# --- Generation side (notice 1283 clause 五): plants, their output, river inflow, dispatch ------

PLANTS_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("plant_type", pa.string()),  # PlantType; hydro unless the file says otherwise
        pa.field("capacity_kw", pa.float64(), nullable=False),  # installed, all units
        pa.field("units", pa.int32()),
        pa.field("basin", pa.string()),  # plants of one basin share rain: each other's peers
        pa.field("river", pa.string()),
        pa.field("gauge_id", pa.string()),  # the inflow series that feeds it (null: none)
        pa.field("loss_fraction", pa.float64()),  # declared terminal→grid-tie losses (null: learn)
        pa.field("owner", pa.string()),
        pa.field("uscc", pa.string()),
        pa.field("address", pa.string()),
        pa.field("region_code", pa.string()),
    ]
)
"""One row per grid-connected plant."""


class PlantType(StrEnum):
    HYDRO = "hydro"
    THERMAL = "thermal"
    WIND = "wind"
    SOLAR = "solar"


GENERATION_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("interval_start_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("interval_minutes", pa.int16(), nullable=False),  # 15 or 60
        # generator-terminal meter (机端); null: not metered
        pa.field("terminal_kwh", pa.float64()),
        pa.field("grid_tie_kwh", pa.float64()),  # grid-tie (gateway) meter (上网/关口)
    ]
)
"""Plant output, long: one row per plant and metering interval, energy in the interval [kWh]."""

INFLOW_SCHEMA = pa.schema(
    [
        pa.field("gauge_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),  # Asia/Shanghai day
        pa.field("inflow_m3s", pa.float64()),  # daily mean flow [m³/s]
    ]
)
"""River inflow or upstream gauge, one row per gauge and local day (hourly input is averaged)."""


class PlantEventKind(StrEnum):
    """A recorded reason for a plant to produce less than its water allows."""

    DISPATCH = "dispatch"  # a dispatch instruction limiting output (调度指令)
    CURTAILMENT = "curtailment"  # curtailment record (弃水/限电记录)
    MAINTENANCE = "maintenance"  # planned or forced outage of units (检修)


PLANT_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # PlantEventKind
        pa.field("start_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("end_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("limit_kw", pa.float64()),  # dispatch/curtailment: output ceiling (null: 0, stop)
        pa.field("unavailable_kw", pa.float64()),  # maintenance: capacity out (null: the plant)
        pa.field("record_no", pa.string()),
        pa.field("note", pa.string()),
    ]
)
"""Dispatch instructions, curtailment records and maintenance outages, one row each."""
