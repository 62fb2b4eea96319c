"""The FastAPI application: one engine, one session per request, the routers, the templates.

:func:`create_app` builds the app over a database URL (migrated on start, as every MineWatch
entry point does); ``minewatch serve`` runs it with uvicorn.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database
from minewatch.settings import Settings
from minewatch.web.security import CsrfTokens, RateLimit

ROUTERS = (
    "public", "officials", "dashboard", "ledger", "casework", "enforcement", "inspections",
    "bulletins", "selfcheck", "admin",
)  # fmt: skip
"""The routers, one per domain, in the order their paths are matched."""

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
    from minewatch.web.deps import install_error_handlers

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
    for name in ROUTERS:
        module = importlib.import_module(f"minewatch.web.routers.{name}")
        app.include_router(module.router)
    install_error_handlers(app)
    return app


def app_from_environment() -> FastAPI:
    """The app from ``MINEWATCH_*`` settings: what each worker process of ``minewatch serve
    --workers N`` builds."""
    from minewatch.settings import get_settings

    return create_app(get_settings())


def db_session(request: Request) -> Iterator[Session]:
    """A unit of work per request: committed when the handler returns, rolled back if it fails.

    Every use takes it with ``scope="function"``, so the commit comes before the response is
    sent: a browser following the redirect after a form reads what the form wrote (with the
    default scope the commit came after, and the next page could show the case as it was).
    """
    with session_scope(request.app.state.engine) as session:
        yield session
