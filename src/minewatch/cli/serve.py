"""``minewatch serve``: the web platform on the configured database (SQLite by default)."""

from __future__ import annotations

from typing import Annotated

import typer

from minewatch.cli import context, output


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web platform (migrations apply on start); Ctrl-C stops it."""
    import uvicorn

    from minewatch.web.app import create_app

    settings = context.settings()
    app = create_app(settings, engine=context.engine())
    output.info(f"MineWatch on http://{host}:{port}/  (public reporting: /report, API: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
