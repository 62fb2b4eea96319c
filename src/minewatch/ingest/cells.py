"""Reading one cell of a table the way Chinese offices and grid exports write it."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

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
