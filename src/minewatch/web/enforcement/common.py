"""What the enforcement pages share: who may write, choices read from query strings, paging
links, money and energy shown in yuan and kWh, and where a form sends the user back to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.web.deps import OFFICIALS, READERS, PageParams, region_name, render

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

WRITERS = OFFICIALS
"""Who orders, completes and decides: officials at the four levels."""
BILLERS = OFFICIALS | {Role.GRID_ANALYST}
"""Who bills the surcharge and records what was paid: the grid company and officials."""
SCREENERS = OFFICIALS | {Role.GRID_ANALYST}
"""Who screens parties: the grid company (connections) and officials (market, banks)."""
VIEWERS = READERS
"""Everyone but an administrator reads these lists."""

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)


def from_form(model: type[M], **values: Any) -> M:
    """A form's fields checked as the API's model checks its JSON: what fails is a 422 naming
    the fields (a page's form reaches the same rules as the API)."""
    try:
        return model(**values)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise HTTPException(422, fields) from error


def choice(kind: type[E], text: str | None, what: str) -> E | None:
    """A filter's value from a page's query string: empty is no filter, unknown is a 422."""
    if text is None or not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError as error:
        known = ", ".join(member.value for member in kind)
        raise HTTPException(422, f"{what}: {text!r} is not one of {known}") from error


def yuan(fen: int | None) -> str:
    """Fen shown as yuan with thousands separators: 40000000 → ``400,000.00``."""
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:,.2f}"


def kwh(wh: int | None) -> str:
    """Watt-hours shown as kWh to the Wh: 200000000 → ``200,000.000``."""
    if wh is None:
        return ""
    return f"{Decimal(wh) / 1000:,.3f}"


def local(moment: datetime | None) -> str:
    """An instant as Beijing time, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


HELPERS: dict[str, Any] = {"yuan": yuan, "kwh": kwh, "local": local, "day": day,
                           "region_name": region_name}  # fmt: skip


@dataclass(frozen=True)
class Pager:
    """Where a page of a list sits, with links to the pages before and after."""

    total: int
    first: int
    last: int
    previous_url: str | None
    next_url: str | None


def pager(request: Request, page: PageParams, total: int) -> Pager:
    """Links that keep the page's filters and move ``offset`` by ``limit``."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def link(offset: int) -> str:
        return f"{request.url.path}?{urlencode([*params, ('offset', str(offset))])}"

    before = max(page.offset - page.limit, 0)
    return Pager(
        total=total,
        first=min(page.offset + 1, total),
        last=min(page.offset + page.limit, total),
        previous_url=link(before) if page.offset > 0 else None,
        next_url=link(page.offset + page.limit) if page.offset + page.limit < total else None,
    )


def show(
    request: Request,
    template: str,
    context: dict[str, Any],
    actor: Actor,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page of these screens: the layout's context with the display helpers and the roles
    that may write (so forms show only to those who may use them)."""
    allowed = {
        "may_write": actor.role in WRITERS,
        "may_bill": actor.role in BILLERS,
        "may_screen": actor.role in SCREENERS,
    }
    return render(request, template, {**HELPERS, **allowed, **context}, actor=actor,
                  status_code=status_code)  # fmt: skip


def back_to(target: str, fallback: str) -> RedirectResponse:
    """303 to where the form came from when that is a path of this site under ``fallback``
    (never elsewhere: no open redirect), else to ``fallback``."""
    safe = target.startswith(fallback) and not target.startswith("//") and "\\" not in target
    return RedirectResponse(target if safe else fallback, status_code=303)
