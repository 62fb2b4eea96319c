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
