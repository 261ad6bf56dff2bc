"""Pages, comments and feed through the app in process (real DB, real templates)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import func, select

from dueprocess.composition.portal import create_app
from dueprocess.db import get_engine, session_scope
from dueprocess.services.progress import advance_case
from models.base import utcnow
from models.notices import Comment
from portal.comments.submission import comments_for_case
from portal.queries import case_summaries
from tests.portal.conftest import portal_settings
from tests.support import token_for

XSS = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


def comment_count(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Comment)
                            .where(Comment.case_id == case_id)).one()


def test_the_case_list_costs_the_same_queries_however_many_cases(
    open_demo_case: Callable[[], str],
) -> None:
    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            with session_scope() as session:
                listed = case_summaries(session, now=utcnow())
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)
        assert listed
        return len(seen)

    advance_case(case_id=open_demo_case())
    before = statements()
    for _ in range(3):
        advance_case(case_id=open_demo_case())  # stages open, a comment window published
    assert statements() == before


def test_case_list_shows_current_stages_and_deadlines(
    client: TestClient, consulting_case: str,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert consulting_case in page.text and "公众参与" in page.text  # zh-CN by default
    assert "Public participation" in client.get("/?lang=en").text
    listed = {c["id"]: c for c in client.get("/api/cases").json()}[consulting_case]
    assert [s["key"] for s in listed["current_stages"]] == [
        "public_participation", "expert_review", "risk_assessment"]
    assert all(s["due"] for s in listed["current_stages"])
    assert listed["comment_window"]["open"] is True


def test_comment_form_gives_a_receipt_and_the_comment_is_stored(
    client: TestClient, consulting_case: str,
) -> None:
    sent = client.post(f"/cases/{consulting_case}/comments",
                       data={"body": "  请延长夜间免费时段。 ", "author": "居民"},
                       follow_redirects=False)
    assert sent.status_code == 303
    receipt = client.get(sent.headers["location"])
    assert receipt.status_code == 200 and "请延长夜间免费时段。" in receipt.text
    with session_scope() as session:
        stored = comments_for_case(session, case_id=consulting_case)
    assert stored.count == 1
    [comment] = stored.comments
    assert comment.receipt_number in receipt.text and comment.body == "请延长夜间免费时段。"
    assert comment.author == "居民" and comment.receipt_number in sent.headers["location"]


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"body": ""}, 422, "body: empty"),
    ({"body": "   \n "}, 422, "body: empty"),
    ({"body": "x" * 5001}, 413, "body: 5001 characters, over the limit of 5000"),
    ({"body": "bell \x07"}, 422, "body: contains control characters"),
])
def test_bad_comments_are_refused_and_nothing_stored(
    client: TestClient, consulting_case: str, data: dict[str, str], status: int, message: str,
) -> None:
    refused = client.post(f"/cases/{consulting_case}/comments", data=data)
    assert refused.status_code == status and message in refused.text
    api = client.post(f"/api/cases/{consulting_case}/comments", json=data)
    assert api.status_code == status and message in api.json()["detail"]
    assert comment_count(consulting_case) == 0


def test_wrong_encoding_oversized_body_and_unknown_case_are_refused(
    client: TestClient, consulting_case: str,
) -> None:
    latin1 = b"body=caf%E9"  # percent-encoded Latin-1, not UTF-8
    page = client.post(f"/cases/{consulting_case}/comments", content=latin1,
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert page.status_code == 400 and "not valid UTF-8" in page.text
    api = client.post(f"/api/cases/{consulting_case}/comments",
                      content=b'{"body": "caf\xe9"}', headers={"content-type": "application/json"})
    assert api.status_code == 400 and "body: not valid UTF-8" in api.json()["detail"]
    huge = client.post(f"/api/cases/{consulting_case}/comments", json={"body": "x" * 70_000})
    assert huge.status_code == 413 and "over the limit of 65536 bytes" in huge.json()["detail"]
    unknown = client.post("/api/cases/dp-2026-000000/comments", json={"body": "hello"})
    assert unknown.status_code == 404 and "case 'dp-2026-000000' not found" in unknown.text
    assert comment_count(consulting_case) == 0


def test_comments_outside_the_window_are_refused(client: TestClient, case_id: str) -> None:
    # The participation stage has not opened: no window yet.
    refused = client.post(f"/api/cases/{case_id}/comments", json={"body": "too early"})
    assert refused.status_code == 409 and "no comment window" in refused.json()["detail"]
    page = client.get(f"/cases/{case_id}")
    assert 'id="window-closed"' in page.text and 'name="body"' not in page.text
    assert comment_count(case_id) == 0


def test_a_closed_window_refuses_comments(client: TestClient, consulting_case: str) -> None:
    from dueprocess.services.progress import advance_case
    from dueprocess.services.recording import record_evidence
    from tests.support import VALID_STEPS, advance_to_step

    stage, by, evidence = VALID_STEPS[0]
    advance_to_step(consulting_case, stage)  # the published 30 days have passed
    record_evidence(case_id=consulting_case, stage_key=stage, recorded_by=by,
                    evidence=evidence, channel="cli", token=token_for(by))
    advance_case(case_id=consulting_case)  # participation completed
    refused = client.post(f"/api/cases/{consulting_case}/comments", json={"body": "late"})
    assert refused.status_code == 409 and "comment window closed" in refused.json()["detail"]
    assert comment_count(consulting_case) == 0


def window_still_open(case_id: str) -> list[str]:
    """What the PP-WINDOW-CLOSED gate rule says of the stored window on the case clock."""
    from dueprocess.rules.engine import RuleContext
    from dueprocess.rules.participation import window_closed
    from dueprocess.services.case_clock import case_now
    from dueprocess.services.case_snapshot import load_facts
    from dueprocess.services.cases import get_case

    with session_scope() as session:
        facts = load_facts(session, get_case(session, case_id))
        now = case_now(session, case_id)
    stage = facts.procedure.stage("public_participation")
    return list(window_closed(RuleContext(facts, stage, now, stage.gate_params)))


def test_the_window_takes_comments_until_24_00_beijing_of_its_last_day(
    client: TestClient, consulting_case: str,
) -> None:
    """The call reads "2026-09-01 to 2026-10-01": a comment at 23:59 Beijing time on
    2026-10-01 is in time, one at 24:00 (00:00 on 10-02) is refused, as the gate agrees."""
    from datetime import datetime

    from dueprocess.demo.submissions import BEIJING
    from dueprocess.services.case_clock import advance_clock_to

    advance_clock_to(case_id=consulting_case,
                     moment=datetime(2026, 10, 1, 23, 59, tzinfo=BEIJING))
    page = client.get(f"/cases/{consulting_case}")
    assert "征求意见截止时间：2026年10月1日 24:00" in page.text and "不足一天" in page.text
    sent = client.post(f"/api/cases/{consulting_case}/comments", json={"body": "just in time"})
    assert sent.status_code == 201, sent.text
    [still_open] = window_still_open(consulting_case)
    assert "open until 2026-10-01 24:00 Beijing time" in still_open
    advance_clock_to(case_id=consulting_case, moment=datetime(2026, 10, 2, tzinfo=BEIJING))
    late = client.post(f"/api/cases/{consulting_case}/comments", json={"body": "too late"})
    assert late.status_code == 409
    assert "the comment window closed at 2026-10-01 24:00 Beijing time (Art. 15)" in (
        late.json()["detail"])
    assert window_still_open(consulting_case) == []
    assert comment_count(consulting_case) == 1


def test_comments_are_rate_limited_per_client(consulting_case: str) -> None:
    app = create_app(portal_settings(comment_rate_count=2, comment_rate_seconds=60))
    with TestClient(app, base_url="http://127.0.0.1") as limited:
        for n in range(2):
            sent = limited.post(f"/api/cases/{consulting_case}/comments",
                                json={"body": f"comment {n}"})
            assert sent.status_code == 201, sent.text
        refused = limited.post(f"/api/cases/{consulting_case}/comments", json={"body": "3"})
    assert refused.status_code == 429 and "too many submissions" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    assert comment_count(consulting_case) == 2


def test_script_in_a_comment_is_escaped_on_pages_api_and_feed(
    client: TestClient, consulting_case: str,
) -> None:
    sent = client.post(f"/api/cases/{consulting_case}/comments",
                       json={"body": XSS, "author": "<b>x</b>"})
    assert sent.status_code == 201
    receipt = sent.json()
    for path in (f"/cases/{consulting_case}",
                 f"/cases/{consulting_case}/comments/{receipt['receipt_number']}"):
        html = client.get(path).text
        assert "<script>document" not in html and "<img src=x" not in html
        assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html
        assert "&lt;b&gt;x&lt;/b&gt;" in html or path.endswith(receipt["receipt_number"])
    assert client.get(f"/api/cases/{consulting_case}").json()["comments"][0]["body"] == XSS
    headers = client.get(f"/cases/{consulting_case}").headers
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none'


def test_case_page_timeline_documents_notices_and_digests(
    client: TestClient, consulting_case: str,
) -> None:
    detail = client.get(f"/api/cases/{consulting_case}").json()
    assert [e["what"] for e in detail["timeline"]][:2] == ["case opened",
                                                           "Public participation: opened"]
    assert detail["drafts"][0]["sha256"] and detail["notices"][0]["kind"] == "call_for_comments"
    page = client.get(f"/cases/{consulting_case}").text
    assert detail["drafts"][0]["sha256"] in page and detail["notices"][0]["subject"] in page
    assert 'name="body"' in page  # the comment form, while the window is open


def test_atom_feed_lists_public_notices_as_text(client: TestClient, consulting_case: str) -> None:
    response = client.get(f"/cases/{consulting_case}/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = feed.findall("a:entry", ns)
    assert entry.findtext("a:title", namespaces=ns).startswith("征求意见")  # type: ignore[union-attr]
    content = entry.find("a:content", ns)
    assert content is not None and content.get("type") == "text"
    assert client.get("/feed.atom").status_code == 200
    assert client.get("/cases/dp-2026-000000/feed.atom").status_code == 404


def test_subscribe_pages_refuse_a_bad_url_and_confirm_by_button(
    client: TestClient, consulting_case: str,
) -> None:
    import re

    from notifications.transport.receiver import WebhookReceiver

    refused = client.post("/subscribe", data={"url": "json://", "case": consulting_case})
    assert refused.status_code == 422 and "url: &#39;json://&#39; needs the rest" in refused.text
    api = client.post("/api/subscriptions", json={"url": "nope://x"})
    assert api.status_code == 422 and "not an Apprise notification scheme" in api.json()["detail"]

    receiver = WebhookReceiver().start()
    try:
        pending = client.post("/subscribe", data={"url": receiver.url, "case": consulting_case})
        assert pending.status_code == 202 and "127.0.0.1" in pending.text
        link = re.search(r"/subscriptions/confirm\?s=(\d+)&t=(\S+)",
                         receiver.accepted[0]["message"])
    finally:
        receiver.stop()
    assert link is not None
    subscriber, token = link.groups()
    shown = client.get(f"/subscriptions/confirm?s={subscriber}&t={token}")
    assert shown.status_code == 200 and 'method="post"' in shown.text
    from models.notices import Subscriber

    with session_scope() as session:
        assert session.get(Subscriber, int(subscriber)).status == "pending"  # type: ignore[union-attr]
    done = client.post("/subscriptions/confirm", data={"s": subscriber, "t": token})
    assert done.status_code == 200
    with session_scope() as session:
        assert session.get(Subscriber, int(subscriber)).status == "confirmed"  # type: ignore[union-attr]
    wrong = client.post("/unsubscribe", data={"s": subscriber, "t": "forged"})
    assert wrong.status_code == 422 and "not valid" in wrong.text
