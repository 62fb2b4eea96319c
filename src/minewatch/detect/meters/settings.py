"""The frozen settings of the meter detector; every finding records the ones it was made with."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MeterScanSettings:
    """Thresholds of the meter scan. Defaults are physical limits, not fitted values.

    ``valley_hours`` are the local hours of the cheap night tariff (Sichuan 23:00–07:00).
    """

    min_days: int = 7
    """Fewer valid days than this: ``insufficient_data``."""
    min_valid_slots: int = 72
    """A day with fewer valid quarter-hours (of 96) does not count as a valid day."""
    negative_tolerance_kw: float = 0.05
    """Readings below minus this are meter faults (export on a consumption meter)."""
    absurd_kw: float = 300_000.0
    """No distribution meter draws 300 MW; a larger reading is a fault."""
    spike_ratio: float = 25.0
    spike_margin_kw: float = 500.0
    """A reading above ``spike_ratio`` × the rest of its day's mean + margin is a fault."""
    min_mining_kw: float = 0.6
    """Below one small rig nothing is reported as mining."""
    valley_hours: tuple[int, ...] = (23, 0, 1, 2, 3, 4, 5, 6)
    rig_model: str = "Antminer S19"
    """The rig assumed when turning kW into rigs and hash rate, unless the load says GPU."""
    gpu_rig_kw: float = 1.2
    threshold: float | None = None
    """Score above which a meter is ``suspected``; ``None`` uses the packaged model's."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
