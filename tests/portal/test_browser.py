"""The portal in a real headless Chromium (Debian's /usr/bin/chromium, no download)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from dueprocess.db import session_scope
from dueprocess.stack.processes import free_port
from portal.app import create_app
from portal.comments import comments_for_case
from tests.portal.conftest import portal_settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
XSS = ('<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
       '<b onmouseover="window.__xss=3">bold?</b>')


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    port = free_port()
    app = create_app(portal_settings(comment_rate_count=1000))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the portal did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    opened = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert() would mean a script ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    opened.dialogs = dialogs
    yield opened
    context.close()


def test_see_a_case_page(page: Any, portal_url: str, consulting_case: str,
                         tmp_path: Path) -> None:
    page.goto(f"{portal_url}/")
    page.click(f"a[href='/cases/{consulting_case}']")
    page.wait_for_url(f"**/cases/{consulting_case}")
    assert "Zhongguancun" in page.inner_text("#title")
    assert "公众意见" in page.content()  # Chinese by default
    timeline = page.inner_text("#timeline")
    assert "case opened" in timeline and "征求意见" in timeline
    assert page.is_visible("textarea#body")
    page.screenshot(path=str(tmp_path / "case-page.png"), full_page=True)
    assert (tmp_path / "case-page.png").stat().st_size > 10_000


def test_submit_a_comment_and_see_its_receipt(page: Any, portal_url: str,
                                              consulting_case: str, tmp_path: Path) -> None:
    page.goto(f"{portal_url}/cases/{consulting_case}")
    page.fill("textarea#body", "建议学校周边上下学时段免费停车 15 分钟。")
    page.fill("input#author", "海淀居民")
    page.click("form[action$='/comments'] button[type=submit]")
    page.wait_for_selector("#receipt-number")
    receipt = page.inner_text("#receipt-number")
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
    with session_scope() as session:
        [stored] = comments_for_case(session, case_id=consulting_case).comments
    assert receipt == stored.receipt_number
    assert stored.body == "建议学校周边上下学时段免费停车 15 分钟。"
    page.reload()  # the receipt page is a GET: reloading sends nothing again
    with session_scope() as session:
        assert comments_for_case(session, case_id=consulting_case).count == 1


def test_an_xss_payload_is_inert(page: Any, portal_url: str, consulting_case: str,
                                 tmp_path: Path) -> None:
    page.goto(f"{portal_url}/cases/{consulting_case}")
    page.fill("textarea#body", XSS)
    page.click("form[action$='/comments'] button[type=submit]")
    page.wait_for_selector("#receipt-number")
    assert page.inner_text("#comment-body") == XSS  # shown as text
    page.goto(f"{portal_url}/cases/{consulting_case}#comments")
    page.hover(".comment-body")
    page.screenshot(path=str(tmp_path / "xss.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    assert page.locator(".comment-body img, .comment-body script, .comment-body b").count() == 0
    assert page.inner_text(".comment-body") == XSS
