"""The FastAPI application: one engine, one session per request, the routers, the templates.

:func:`create_app` builds the app over a database URL (migrated on start, as every MineWatch
entry point does); ``minewatch serve`` runs it with uvicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database
from minewatch.settings import Settings
from minewatch.web.security import CsrfTokens, RateLimit

_HERE = Path(str(resources.files("minewatch.web")))
TEMPLATES = Jinja2Templates(directory=str(_HERE / "templates"))


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    report_limit: int = 5,
    report_window_s: float = 3600.0,
) -> FastAPI:
    """The app over ``settings`` (its database, unless ``engine`` is given)."""
    from minewatch.web.routers import officials, public

    app = FastAPI(
        title="MineWatch",
        description="整治虚拟货币“挖矿”活动 — 发改运行〔2021〕1283号",
        version="1",
    )
    app.state.settings = settings
    app.state.engine = engine or open_database(
        settings.resolved_database_url, busy_timeout_s=settings.db_busy_timeout_s
    )
    secret = settings.secret_key.get_secret_value()
    app.state.csrf = CsrfTokens(secret)
    app.state.report_limit = RateLimit(report_limit, report_window_s)
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.include_router(public.router)
    app.include_router(officials.router)

    @app.exception_handler(StarletteHTTPException)
    async def _sign_in_first(request: Request, error: StarletteHTTPException) -> Response:
        """A page that needs a signed-in user sends the browser to the login form; the API
        answers 401 as JSON."""
        if error.status_code == 401 and not request.url.path.startswith("/api/"):
            return RedirectResponse("/login", status_code=303)
        return await http_exception_handler(request, error)

    return app


def db_session(request: Request) -> Iterator[Session]:
    """A unit of work per request: committed when the handler returns, rolled back if it fails."""
    with session_scope(request.app.state.engine) as session:
        yield session
