"""The portal in a real headless Chromium (Debian's /usr/bin/chromium, no download), at
desktop width and at a 390 px phone width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from portal.comments.submission import comments_for_case
from tests.browser import launched_chromium, served
from tests.portal.conftest import portal_settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]
XSS = ('<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
       '<b onmouseover="window.__xss=3">bold?</b>')


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    yield from served(create_app(portal_settings(comment_rate_count=1000)))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


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
    assert "事项启动" in timeline and "征求意见" in timeline and "case opened" not in timeline
    assert "还剩" in page.inner_text("#deadline")
    assert page.is_visible("textarea#body")
    page.screenshot(path=str(tmp_path / "case-page.png"), full_page=True)
    assert (tmp_path / "case-page.png").stat().st_size > 10_000
    page.click("#language a[hreflang=en]")
    page.wait_for_url(f"**/cases/{consulting_case}?lang=en")
    assert "case opened" in page.inner_text("#timeline")
    page.goto(f"{portal_url}/")  # the cookie keeps English
    assert page.get_attribute("html", "lang") == "en"


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


# Phone width: the width of a common phone (iPhone 12 to 15) in CSS pixels.
PHONE = {"width": 390, "height": 844}
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          wide: wide.slice(0, 10)};
}"""


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the phone-width pages, kept for a person to look at."""
    return tmp_path_factory.mktemp("phone-screenshots")


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def decided_case_id() -> str:
    """A case through every stage, with the demo's long texts, answers and hashes."""
    from dueprocess.services.cases import open_case, read_case_file
    from tests.conftest import DEMO_CASE
    from tests.support import VALID_STEPS, record_steps

    with session_scope() as session:
        case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
    record_steps(case_id, VALID_STEPS)
    return case_id


@pytest.fixture(scope="module")
def webhook() -> Iterator[str]:
    """A subscriber's webhook with a long address, as a real one often has."""
    from notifications.transport.receiver import WebhookReceiver

    receiver = WebhookReceiver().start()
    yield f"{receiver.url}/hooks/dueprocess-subscription-for-the-zhongguancun-residents-committee"
    receiver.stop()


def measure(page: Any, path: str, shot: Path) -> None:
    """Save a full-page screenshot and assert that nothing is wider than the phone."""
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    measured = page.evaluate(OVERFLOW)
    assert measured["innerWidth"] == PHONE["width"], measured  # not zoomed out to fit
    assert measured["scrollWidth"] <= measured["innerWidth"], (
        f"{path} overflows at {PHONE['width']} px: {measured}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_subscribing_fits_a_phone_width(phone: Any, portal_url: str, consulting_case: str,
                                        webhook: str, screenshots: Path, lang: str) -> None:
    phone.goto(f"{portal_url}/subscribe?case={consulting_case}&lang={lang}")
    phone.fill("input#url", webhook)
    phone.click("form[action='/subscribe'] button[type=submit]")
    phone.wait_for_selector("#message")
    assert "127.0.0.1" in phone.inner_text("#message")  # the address, secrets hidden
    measure(phone, "/subscribe (sent)", screenshots / f"subscribed-{lang}-390.png")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("name", ["case-list", "case-consulting", "case-decided", "subscribe",
                                  "receipt"])
def test_pages_fit_a_phone_width(phone: Any, portal_url: str, consulting_case: str,
                                 decided_case_id: str, screenshots: Path, name: str,
                                 lang: str) -> None:
    from portal.comments.submission import CommentCreate, submit_comment

    receipt = submit_comment(case_id=consulting_case, client="phone", comment=CommentCreate(
        body="建议在学校周边设置 15 分钟免费停车，并公开收费收入的使用情况。" * 3,
        author="海淀居民"))
    path = {
        "case-list": "/",
        "case-consulting": f"/cases/{consulting_case}",
        "case-decided": f"/cases/{decided_case_id}",
        "subscribe": f"/subscribe?case={consulting_case}",
        "receipt": f"/cases/{consulting_case}/comments/{receipt.receipt_number}",
    }[name]
    response = phone.goto(f"{portal_url}{path}{'&' if '?' in path else '?'}lang={lang}")
    assert response.status == 200
    assert phone.get_attribute("html", "lang") == lang
    measure(phone, path, screenshots / f"{name}-{lang}-390.png")
    if name == "case-consulting":  # the deadline is on the first screen
        box = phone.locator("#deadline").bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    if name == "case-decided":
        assert phone.locator("#answers .answer").first.is_visible()
