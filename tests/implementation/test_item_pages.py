"""The public progress pages of implementation: items per level, and one item's
milestones (an overdue one marked, with its escalation), updates and chart; in Chromium
too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.services.case_clock import advance_clock_to, case_time
from implementation.supervision import supervise_overdue
from models.implementation import ItemComment, item_chain
from models.ledger import LogLeaf
from tests.programme.conftest import milestone, progress, register


def overdue_item(case_id: str) -> tuple[int, int, int]:
    """An item with one milestone done and one escalated as overdue: (item, done, late)."""
    item = register(case_id, level="street", street="中关村街道",
                    title="Crossing light at the school gate")
    assert item.id is not None
    done = milestone(item.id, item.registered_on + timedelta(days=1))
    late = milestone(item.id, item.registered_on + timedelta(days=2))
    progress(item.id, completes_milestone=done.id, percent=50)
    advance_clock_to(case_id=case_id, moment=case_time(case_id) + timedelta(days=5))
    supervise_overdue()
    assert done.id is not None and late.id is not None
    return item.id, done.id, late.id


def test_items_are_listed_per_level_and_an_item_shows_its_milestones(
    client: TestClient, decided_case: str,
) -> None:
    item_id, done, late = overdue_item(decided_case)
    district = register(decided_case, title="District-wide parking meters")
    street = client.get("/programme/items?level=street&lang=en")
    assert street.status_code == 200
    assert f'id="item-{item_id}"' in street.text and f'id="item-{district.id}"' not in street.text
    assert "Overdue: 1" in street.text
    assert f'id="item-{district.id}"' in client.get("/programme/items?level=district").text
    assert client.get("/programme/items?level=city").status_code == 422
    page = client.get(f"/programme/items/{item_id}?lang=en").text
    assert f'<tr id="milestone-{done}" class="done">' in page
    assert f'<tr id="milestone-{late}" class="overdue">' in page
    assert "Escalated" in page and "acceptance record 2027-01" in page
    assert '<strong id="percent">50%</strong>' in page and "<polyline" in page
    assert client.get("/programme/items/999999").status_code == 404


def test_residents_comment_rate_and_press_under_an_item(
    client: TestClient, decided_case: str,
) -> None:
    item_id, _, _ = overdue_item(decided_case)
    url = f"/programme/items/{item_id}/comments?lang=en"
    refused = client.post(url, data={"body": "Too slow", "rating": "9"})
    assert refused.status_code == 422
    assert "rating" in refused.text and "less than or equal to 5" in refused.text
    assert "Too slow" in refused.text  # nothing typed is lost
    sent = client.post(url, data={"body": "Too slow", "rating": "2", "press": "on"},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("#comments")
    page = client.get(f"/programme/items/{item_id}?lang=en").text
    assert "★★ · <strong>urged</strong> — Too slow" in page
    assert client.post("/programme/items/999999/comments",
                       data={"body": "Hello there"}).status_code == 404
    with session_scope() as session:
        [comment] = session.exec(select(ItemComment).where(
            ItemComment.item_id == item_id)).all()
        kinds = session.exec(select(LogLeaf.kind).where(
            LogLeaf.case_id == item_chain(item_id))).all()
    assert (comment.rating, comment.press) == (2, True) and "item-comment" in kinds
    assert "127.0.0.1" not in comment.client_digest  # only a keyed digest is kept


@pytest.mark.slow
@pytest.mark.browser
def test_an_items_progress_page_in_chromium(portal_url: str, browser: Any,
                                            decided_case: str) -> None:
    item_id, _, late = overdue_item(decided_case)
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{portal_url}/programme/items?level=street")
    page.click(f"#item-{item_id} a")
    page.wait_for_url(f"**/programme/items/{item_id}")
    assert page.inner_text("#percent") == "50%"
    assert "逾期" in page.inner_text(f"#milestone-{late}")
    assert "已督办" in page.inner_text(f"#milestone-{late}")
    chart = page.locator("#progress-chart").bounding_box()
    assert chart is not None and chart["width"] > 100 and chart["height"] > 50
    page.fill("#body", "路口的红绿灯什么时候装好？")
    page.fill("#rating", "4")
    page.check("#press")
    page.click("#comment-form button[type=submit]")
    page.wait_for_url(f"**/programme/items/{item_id}#comments")
    shown = page.inner_text("#item-comments")
    assert "红绿灯" in shown and "★★★★" in shown and "督促" in shown
