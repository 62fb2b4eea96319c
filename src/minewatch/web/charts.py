"""The charts of a lead's evidence, as data for ``static/casework.js`` (ECharts).

Each chart is a small dict — its ``kind``, the x values, the series and the translated labels —
rendered into a ``data-chart`` attribute; the script draws it. Nothing here computes evidence:
the series come from the lead as the scan recorded it (a meter's daily energy and profiles,
:mod:`minewatch.detect.meters.series`; a plant's weekly expected and delivered energy,
:func:`minewatch.detect.plants.scan.weekly_series`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from minewatch.web.case_views import CaseLeadOut

Translate = Callable[[str], str]
Chart = dict[str, Any]


def _dates(first: str, count: int, step_days: int = 1) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i * step_days)).isoformat() for i in range(count)]


def meter_charts(lead: CaseLeadOut, _: Translate) -> list[Chart]:
    """The account's load curve (daily energy and the day's lowest hourly load, the detected
    start marked) and its mean day before and after the start."""
    series = lead.evidence.get("series")
    if not isinstance(series, dict) or not series.get("daily_kwh"):
        return []
    daily = list(series["daily_kwh"])
    start = series.get("start_date")
    return [
        {
            "kind": "meter-load",
            "dates": _dates(str(series["first_date"]), len(daily)),
            "daily_kwh": daily,
            "floor_kw": list(series.get("floor_kw") or []),
            "start_date": start,
            "labels": {
                "kwh": _("日用电量（kWh）"),
                "kw": _("日最低小时负荷（kW）"),
                "start": _("检测开始"),
            },
        },
        {
            "kind": "meter-profile",
            "hours": list(range(24)),
            "before": list(series.get("profile_before_kw") or []),
            "after": list(series.get("profile_after_kw") or []),
            "labels": {
                "before": _("开始前平均日负荷曲线（kW）"),
                "after": _("开始后平均日负荷曲线（kW）"),
                "hour": _("时"),
            },
        },
    ]


def plant_charts(lead: CaseLeadOut, _: Translate) -> list[Chart]:
    """What the plant should have sent to the grid and what it sent, week by week, with the
    shortfall and the period of the finding."""
    series = lead.evidence.get("series")
    if not isinstance(series, dict) or not series.get("expected_kwh"):
        return []
    expected = list(series["expected_kwh"])
    observed = list(series.get("observed_kwh") or [])
    shortfall = [
        None if e is None or o is None else round(e - o, 1)
        for e, o in zip(expected, observed, strict=False)
    ]
    period = lead.evidence.get("period") or [None, None]
    return [
        {
            "kind": "plant-weekly",
            "dates": _dates(str(series["first_date"]), len(expected), int(series["bin_days"])),
            "expected": expected,
            "observed": observed,
            "shortfall": shortfall,
            "period": period,
            "labels": {
                "expected": _("应发电量（kWh）"),
                "observed": _("上网电量（kWh）"),
                "shortfall": _("缺口（kWh）"),
                "period": _("短缺期间"),
            },
        }
    ]


CHARTS: dict[str, Callable[[CaseLeadOut, Translate], list[Chart]]] = {
    "meters": meter_charts,
    "plants": plant_charts,
}
"""The charts of each lead source that has any."""


def lead_charts(lead: CaseLeadOut, translate: Translate) -> list[Chart]:
    draw = CHARTS.get(lead.source)
    return [] if draw is None else draw(lead, translate)
