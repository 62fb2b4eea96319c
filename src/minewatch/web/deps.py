"""What every router shares: the session and actor dependencies, roles, pagination, page
rendering with CSRF tokens and the language switch, and one error shape for the whole API.

Errors: every API error is ``{"detail": …, "code": …}`` with the HTTP status — 401 not signed in
or bad key, 403 a role that may not do this, 404 not found *or outside the caller's region* (a
record in another region is not admitted to exist), 409 a refused transition or a concurrent
edit, 422 invalid input or a business rule refused. Pages show the same as an error page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from minewatch.domain.cases.service import Actor, ConcurrentEditError, TransitionRefusedError
from minewatch.domain.cases.states import Role
from minewatch.errors import InputFileError, MineWatchError, NotFoundError
from minewatch.reference import regions
from minewatch.web.app import TEMPLATES, db_session
from minewatch.web.auth import current_actor
from minewatch.web.i18n import LANG_COOKIE, language, translator
from minewatch.web.security import CSRF_COOKIE, CSRF_FIELD

SessionDep = Annotated[Session, Depends(db_session, scope="function")]
ActorDep = Annotated[Actor, Depends(current_actor)]


class _TextRequest(Request):
    """A request whose JSON body holds only text that UTF-8 can encode."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            value = json.loads(body)
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as error:
                raise json.JSONDecodeError(
                    "a text holds an unpaired surrogate (such as \\ud800), which is no character",
                    body.decode("utf-8", "replace"),
                    0,
                ) from error
            self._json = value
        return self._json


class TextRoute(APIRoute):
    """The route class of every router: JSON may spell an unpaired UTF-16 surrogate
    (``"\\ud800"``), which no database or digest can take as text; such a body is refused as
    invalid JSON (422) before the handler sees it, as a body that is not UTF-8 at all is."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(_TextRequest(request.scope, request.receive))

        return checked


OFFICIALS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY, Role.COUNTY})
"""Officials at the four levels of government."""
READERS = frozenset(Role) - {Role.ADMIN}
"""Everyone who reads case and ledger records (an administrator manages accounts only)."""


def require(*roles: Role | frozenset[Role]) -> Callable[[Actor], Actor]:
    """A dependency admitting only the given roles (403 for the others)."""
    allowed: set[Role] = set()
    for role in roles:
        allowed |= role if isinstance(role, frozenset) else {role}

    def _check(actor: ActorDep) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(403, f"a {actor.role.value} may not do this")
        return actor

    return _check


def in_region(actor: Actor, region_code: str | None) -> None:
    """404 unless the record's region lies in the actor's (a record elsewhere does not exist)."""
    if not actor.covers(region_code):
        raise HTTPException(404, "not found")


class PageParams(BaseModel):
    limit: int
    offset: int


def _page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Rows per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(_page_params)]

T = TypeVar("T")


class Paged(BaseModel, Generic[T]):
    """One page of a list: the rows, how many there are in all, and where this page starts."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorOut(BaseModel):
    """Every API error."""

    detail: str | list[Any]
    code: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "A body that cannot be read: not UTF-8, or broken multipart data"),
        (401, "Not signed in, or an unknown or revoked API key"),
        (403, "The caller's role may not do this"),
        (404, "Not found, or outside the caller's region"),
        (409, "Refused in the record's present state, or changed by someone else meanwhile"),
        (422, "Invalid input, or refused by a rule"),
    )
}
"""The error responses to declare on a route (``responses=ERRORS``)."""

PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"text/html": {}}}
    for status, text in (
        (303, "Not signed in: on to the sign-in form"),
        (400, "A form that cannot be read: not UTF-8, or broken multipart data"),
        (403, "An expired form, or a role that may not do this"),
        (404, "Not found, or outside the caller's region"),
        (409, "Refused in the record's present state, or changed by someone else meanwhile"),
        (422, "Invalid input, or refused by a rule"),
    )
}
"""The error pages to declare on a page or download in the OpenAPI document
(``responses=PAGE_ERRORS``): the same statuses as the API's, shown as an error page."""


def region_name(code: str) -> str:
    if code == regions.NATIONAL:
        return "全国"
    found = regions.find(code)
    return found.name if found is not None else code


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page: the template with the phrasebook (``_``), the language, the signed-in actor and
    the browser's CSRF token (a fresh one when it has none or it is ageing; also set as the
    double-submit cookie)."""
    lang = language(request)
    token = request.app.state.csrf.current(request.cookies.get(CSRF_COOKIE))
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "_": translator(lang),
            "lang": lang,
            "actor": actor,
            "actor_region": region_name(actor.region_code) if actor is not None else None,
            "csrf_field": CSRF_FIELD,
            "csrf_token": token,
            **context,
        },
        status_code=status_code,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
    response.set_cookie(LANG_COOKIE, lang, samesite="lax")
    return response


def checked_form(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """A dependency for every form post: the double-submit CSRF token must match (403)."""
    if not request.app.state.csrf.valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        raise HTTPException(403, "页面已过期，请刷新后重试。")


CsrfDep = Depends(checked_form)


def _code(status: int) -> str:
    return {
        400: "bad_request", 401: "unauthorised", 403: "forbidden", 404: "not_found",
        405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
        429: "too_many_requests",
    }.get(status, "error" if status < 500 else "server_error")  # fmt: skip


def _status_of(error: MineWatchError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, TransitionRefusedError | ConcurrentEditError):
        return 409
    return 422


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status: int, detail: Any) -> Response:
    message = detail if isinstance(detail, str) else "请求有误" if status == 422 else str(detail)
    actor = getattr(request.state, "actor", None)
    return render(request, "error.html", {"status": status, "message": message}, actor=actor,
                  status_code=status)  # fmt: skip


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite numbers (an input of ``Infinity`` or ``NaN``, which Python's
    JSON reader accepts) spelled as text, so the error about them can itself be sent as JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def install_error_handlers(app: FastAPI) -> None:
    """One error shape: JSON under ``/api/``, an error page elsewhere; 401 on a page signs in."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": error.detail, "code": _code(error.status_code)},
                status_code=error.status_code,
                headers=getattr(error, "headers", None),
            )
        if error.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return _error_page(request, error.status_code, error.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        errors = _json_safe(jsonable_encoder(error.errors()))
        if _is_api(request):
            return JSONResponse({"detail": errors, "code": "invalid"}, status_code=422)
        fields = "、".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in errors)
        return _error_page(request, 422, f"请求有误：{fields}")

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, error: DataError) -> Response:
        """A value the database cannot store — a NUL character in a text on PostgreSQL, a
        number beyond its column — is the caller's mistake, never a server error."""
        message = "a value given cannot be stored (a NUL character, or a number too large)"
        if _is_api(request):
            return JSONResponse({"detail": message, "code": "invalid"}, status_code=422)
        return _error_page(request, 422, message)

    @app.exception_handler(MineWatchError)
    async def _refused(request: Request, error: MineWatchError) -> Response:
        status = _status_of(error)
        detail = (
            [{"row": p.row, "column": p.column, "reason": p.reason} for p in error.problems]
            if isinstance(error, InputFileError)
            else str(error)
        )
        if _is_api(request):
            return JSONResponse({"detail": detail, "code": _code(status)}, status_code=status)
        return _error_page(request, status, str(error))


def paged(items: Sequence[T], total: int, page: PageParams) -> Paged[T]:
    return Paged[T](items=list(items), total=total, limit=page.limit, offset=page.offset)
