"""Reading one cell of a table the way Chinese offices and grid exports write it."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

DATE_PATTERNS: tuple[str, ...] = (
    r"^(?P<y>\d{4})(?:[-/.]|年)(?P<m>\d{1,2})(?:[-/.]|月)(?P<d>\d{1,2})日?"
    r"(?:[ T]+0{1,2}:00(?::00(?:\.0+)?)?)?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)
"""Full dates: 2021-09-01, 2021/9/1, 2021.9.1, 2021年9月1日, 20210901 (a midnight time may
follow, as spreadsheets write it). Also used, as regular expressions, on whole columns."""

_MONTH_PATTERN = r"^(?P<y>\d{4})(?:[-/.]|年)(?P<m>\d{1,2})月?$"


def parse_day(value: object, *, month_alone: bool = False) -> date | None:
    """A date cell as a date; ``None`` when empty. Raises ``ValueError`` when it is not one.

    With ``month_alone``, a month (2021-12, 2021年12月) means its first day, as planned
    production dates are often written.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    patterns = (*DATE_PATTERNS, _MONTH_PATTERN) if month_alone else DATE_PATTERNS
    for pattern in patterns:
        match = re.match(pattern, text)
        if match is not None:
            parts = match.groupdict()
            return date(int(parts["y"]), int(parts["m"]), int(parts.get("d") or 1))
    raise ValueError(f"{text!r} is not a date")


_INSTANT_PATTERN = (
    r"^(?P<y>\d{4})(?:[-/.]|年)(?P<m>\d{1,2})(?:[-/.]|月)(?P<d>\d{1,2})日?"
    r"(?:[ T]+(?P<H>\d{1,2})(?::|时)(?P<M>\d{2})(?:(?::|分)(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?秒?)?)?"
    r"\s*(?P<z>Z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
_EPOCH_PATTERN = r"^\d{9,10}(?:\.\d+)?$|^\d{13}$"


def parse_instant(
    value: object, *, end_of_day: bool = False, local_tz: str = "Asia/Shanghai"
) -> datetime | None:
    """A timestamp cell as an aware UTC datetime; ``None`` when empty; ``ValueError`` otherwise.

    Accepts ``2021-11-15 18:13:00`` (also with ``/``, ``.``, 年月日, a ``T``, seconds or a
    fraction left out), a zone (``Z``, ``UTC``, ``+08:00``), or Unix time (10 digits in seconds,
    13 in milliseconds). Naive times are ``local_tz`` (Asia/Shanghai unless the source says
    otherwise). A date alone means its local midnight, or with ``end_of_day`` the midnight that
    ends it (an inclusive end date as an exclusive end instant).
    """
    if value is None:
        return None
    zone = ZoneInfo(local_tz)
    if isinstance(value, datetime):
        return (value.replace(tzinfo=zone) if value.tzinfo is None else value).astimezone(UTC)
    if isinstance(value, date):
        day = datetime(value.year, value.month, value.day, tzinfo=zone)
        return (day + timedelta(days=1) if end_of_day else day).astimezone(UTC)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if re.match(_EPOCH_PATTERN, text):
        seconds = float(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    match = re.match(_INSTANT_PATTERN, text)
    if match is None:
        raise ValueError(f"{text!r} is not a date and time (write 2021-11-15 18:13:00)")
    parts = match.groupdict()
    zone_text = parts["z"]
    if zone_text in ("Z", "UTC"):
        tz: tzinfo = UTC
    elif zone_text:
        sign = -1 if zone_text[0] == "-" else 1
        digits = zone_text[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))
    else:
        tz = zone
    try:
        instant = datetime(
            int(parts["y"]), int(parts["m"]), int(parts["d"]), int(parts["H"] or 0),
            int(parts["M"] or 0), int(parts["S"] or 0),
            int((parts["f"] or "0").ljust(6, "0")), tzinfo=tz,
        )  # fmt: skip
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date and time ({error})") from None
    if end_of_day and parts["H"] is None:
        instant += timedelta(days=1)
    return instant.astimezone(UTC)
