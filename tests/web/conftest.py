"""Fixtures of the dashboard tests: a store of the shared real 606 reports (and a small demo
store), the app on a live Uvicorn server on 127.0.0.1, and Debian's headless Chromium driven
by Playwright. Browser tests skip when Chromium is absent, except in CI (``CI`` set), where
they must run."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pfof
from conftest import shared_path

CHROMIUM = Path(os.environ.get("PFOF_CHROMIUM", "/usr/bin/chromium"))
#: No first-run, sync, component or background requests: the machine may have no network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERVER_START_S = 15


@pytest.fixture(scope="session")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of Charles Schwab's and Firstrade's real 606(a)(1) reports."""
    reports = [shared_path("real-606", "schwab"), shared_path("real-606", "firstrade")]
    db = tmp_path_factory.mktemp("real-store") / "pfof.duckdb"
    con = pfof.connect(db)
    try:
        summary = pfof.ingest(reports, con)
    finally:
        con.close()
    assert summary.ingested and not summary.rejected, [o.reason for o in summary.rejected]
    return db


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pfof demo``'s store of a two-day simulation (headline.json beside it)."""
    out = tmp_path_factory.mktemp("demo") / "pfof-demo"
    result = pfof.run_demo(out, days=2, quarters=4)
    return result.store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app on Uvicorn in a background thread, on 127.0.0.1 and a free port."""

    def __init__(self, db: Path) -> None:
        import uvicorn

        from pfof.web.server import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(db), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the server did not start within {SERVER_START_S} s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=SERVER_START_S)


@pytest.fixture(scope="session")
def real_server(real_store: Path) -> Iterator[LiveServer]:
    with LiveServer(real_store) as server:
        yield server


@pytest.fixture(scope="session")
def demo_server(demo_store: Path) -> Iterator[LiveServer]:
    with LiveServer(demo_store) as server:
        yield server


def chromium_or_skip() -> Path:
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (.ci/run)")
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser tests")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (Debian's, never a downloaded one) under Playwright."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """A browser tab that records console errors and page errors."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text} at {message.location}")

    def open(self, url: str, *, charts: bool = True) -> Any:
        """Load ``url``; with ``charts``, wait until every chart of the page is drawn."""
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, (url, response and response.status)
        if charts:
            self.page.wait_for_selector("body[data-charts]", state="attached", timeout=15_000)
        return response


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context.new_page())
    page.page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
