"""A live MineWatch server on loopback and Debian's headless Chromium driven by Playwright.

The browser is ``/usr/bin/chromium`` (no browser download). Without it the end-to-end tests are
skipped with a loud reason — unless ``MINEWATCH_REQUIRE_BROWSER`` is set (CI sets it after
installing the package), when its absence fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from minewatch.settings import Settings
from minewatch.web.app import create_app

CHROMIUM = os.environ.get("MINEWATCH_CHROMIUM", "/usr/bin/chromium")


def require_chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is not installed (Debian package chromium)"
    if os.environ.get("MINEWATCH_REQUIRE_BROWSER"):
        pytest.fail(f"end-to-end tests need a browser: {reason}")
    pytest.skip(f"END-TO-END TESTS SKIPPED: {reason}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(engine: Engine, **app_options: Any) -> Iterator[str]:
    """Serve the app over ``engine`` in a thread; yields its base URL."""
    port = _free_port()
    app = create_app(Settings(), engine=engine, **app_options)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium_page(shots: Path) -> Iterator[Any]:
    """A fresh headless Chromium page (Chinese locale); screenshots go to ``shots``."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )  # fmt: skip
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def screenshot(page: Any, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} is nearly empty"
    keep = os.environ.get("MINEWATCH_E2E_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    return path
