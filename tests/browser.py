"""Debian's Chromium for the browser tests: where it is and how it starts (never a
downloaded browser), and the `browser` fixture every browser test shares (tests/conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from dueprocess.stack.processes import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def launched_chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def served(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread; yield its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # No guessed deadline: wait while the server thread lives (pytest-timeout bounds it).
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "the portal did not start (its thread ended)"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
