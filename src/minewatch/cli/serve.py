"""``minewatch serve``: the web platform on the configured database (SQLite by default)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from minewatch.cli import context, output


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core is usual).")
    ] = 1,
) -> None:
    """Serve the web platform (migrations apply on start); Ctrl-C stops it."""
    serve_database(context.database_url(), host=host, port=port, workers=workers)


def serve_database(url: str, *, host: str, port: int, workers: int = 1) -> None:
    """Serve the platform over the database at ``url``; with several workers each process
    builds its app from the environment, after the migrations have run here once."""
    import uvicorn

    from minewatch.web.app import create_app

    engine = context.engine(url)
    output.info(f"MineWatch on http://{host}:{port}/  (sign in: /login, public reporting: /report, "
                f"API: /docs)")  # fmt: skip
    if workers == 1:
        uvicorn.run(create_app(context.settings(), engine=engine), host=host, port=port,
                    log_level="warning")  # fmt: skip
        return
    engine.dispose()
    os.environ["MINEWATCH_DATABASE_URL"] = url
    uvicorn.run("minewatch.web.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="warning")  # fmt: skip
