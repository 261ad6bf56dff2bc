"""The pages as a citizen reads them: language, Beijing time, names, the deadline first, the
adoption of opinions and the draft versions (app in process, real DB, real templates)."""

from __future__ import annotations

import hashlib
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from fastapi.testclient import TestClient

from dueprocess.clock import last_day
from dueprocess.db import session_scope
from dueprocess.services.audited_actions import revise_draft_as
from dueprocess.services.stage_deadlines import comment_window_for
from dueprocess.web.language import COOKIE
from models.cases import DraftRevise
from portal.comments.submission import CommentCreate, submit_comment
from tests.support import VALID_STEPS, record_steps, token_for

REVISED = DraftRevise(title="Notice on parking fees (revised after comments)",
                      reason="school-zone hours adopted from the public comments",
                      text="1. Peak-hour parking in zone A is charged 10 yuan per hour.\n"
                           "2. School zones: peak starts at 07:00.\n")


def html(response: object) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.text)  # type: ignore[attr-defined]


def text_of(page: lxml.html.HtmlElement, element_id: str) -> str:
    """The element's text with all white space (CLDR's U+202F too) as single spaces."""
    return " ".join(page.get_element_by_id(element_id).text_content().split())


@pytest.fixture
def decided_case(case_id: str) -> str:
    """A case taken through every stage with the demo's evidence: decided and published."""
    record_steps(case_id, VALID_STEPS)
    return case_id


def test_pages_are_in_chinese_by_default_and_switch_to_english_with_a_cookie(
    client: TestClient, consulting_case: str,
) -> None:
    path = f"/cases/{consulting_case}"
    zh = client.get(path)
    page = html(zh)
    assert page.get("lang") == "zh-CN" and zh.headers["content-language"] == "zh-CN"
    assert "Cookie" in zh.headers["vary"] and COOKIE not in zh.headers.get("set-cookie", "")
    timeline = text_of(page, "timeline")
    assert "事项启动" in timeline and "公众参与环节开始" in timeline and "征求意见开始" in timeline
    assert "case opened" not in timeline and ": opened" not in timeline
    assert "进行中" in text_of(page, "stages") and "办理中" in text_of(page, "case-status")
    [switch] = page.get_element_by_id("language").findall("a")
    assert switch.text == "English" and switch.get("href") == f"{path}?lang=en"

    en = client.get(switch.get("href"))
    page = html(en)
    assert page.get("lang") == "en" and en.headers["content-language"] == "en"
    assert f"{COOKIE}=en" in en.headers["set-cookie"]
    assert "case opened" in text_of(page, "timeline")
    assert "Public participation" in text_of(page, "stages")
    assert text_of(page, "case-status") == "in progress"
    # The cookie keeps English on the next page without ?lang=, until Chinese is chosen.
    assert html(client.get("/")).get("lang") == "en"
    [back] = html(client.get("/subscribe?case=" + consulting_case)).get_element_by_id(
        "language").findall("a")
    assert back.text == "中文"
    assert back.get("href") == f"/subscribe?case={consulting_case}&lang=zh-CN"
    assert html(client.get(back.get("href"))).get("lang") == "zh-CN"
    assert html(client.get("/")).get("lang") == "zh-CN"


def test_the_default_language_follows_the_notices_language(
    client: TestClient, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_LANGUAGE", "en")
    assert html(client.get(f"/cases/{consulting_case}")).get("lang") == "en"
    assert html(client.get(f"/cases/{consulting_case}?lang=zh-CN")).get("lang") == "zh-CN"


def test_an_unknown_language_is_refused_by_name(client: TestClient, consulting_case: str) -> None:
    refused = client.get(f"/cases/{consulting_case}?lang=fr")
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "query.lang" in detail and "'zh-CN' or 'en'" in detail
    client.cookies.set(COOKIE, "fr")  # a forged cookie is ignored: the default language
    assert html(client.get(f"/cases/{consulting_case}")).get("lang") == "zh-CN"


def test_times_are_beijing_time_and_the_zone_is_named(
    client: TestClient, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_scope() as session:
        window = comment_window_for(session, consulting_case)
        assert window is not None
        opens_at = window.opens_at
    # 16:30 UTC the day after the window opened: 00:30 the next day in Beijing.
    late = (opens_at + timedelta(days=1)).replace(hour=16, minute=30, second=0, microsecond=0)
    receipt = submit_comment(case_id=consulting_case, comment=CommentCreate(body="夜间停车"),
                             client="test", now=late)
    beijing = late.astimezone(ZoneInfo("Asia/Shanghai"))
    assert beijing.hour == 0 and beijing.date() > late.date()
    path = f"/cases/{consulting_case}/comments/{receipt.receipt_number}"
    page = html(client.get(path))
    assert text_of(page, "received-at") == (
        f"{beijing.year}年{beijing.month}月{beijing.day}日 00:30")
    assert text_of(page, "timezone") == "本页时间均为中国标准时间（GMT+08:00）"
    en = html(client.get(path + "?lang=en"))
    assert text_of(en, "received-at") == (
        f"{beijing:%b} {beijing.day}, {beijing.year}, 12:30 AM")
    monkeypatch.setenv("DUEPROCESS_PORTAL_TIMEZONE", "UTC")  # the zone is a setting
    assert text_of(html(client.get(path + "?lang=en")), "received-at") == (
        f"{late:%b} {late.day}, {late.year}, 4:30 PM")


def test_the_comment_deadline_comes_first_with_the_days_left(
    client: TestClient, consulting_case: str,
) -> None:
    page = html(client.get(f"/cases/{consulting_case}"))
    deadline = page.get_element_by_id("deadline")
    in_order = list(page.iter())
    assert in_order.index(deadline) < in_order.index(page.xpath("//main//h2")[0])
    with session_scope() as session:
        window = comment_window_for(session, consulting_case)
        assert window is not None
        closes = last_day(window.closes_at, "Asia/Shanghai")
    text = text_of(page, "deadline")
    # Open until 24:00 of its last published day, never 00:00 of the next.
    assert f"征求意见截止时间：{closes.year}年{closes.month}月{closes.day}日 24:00" in text
    assert window.closes_at.astimezone(ZoneInfo("Asia/Shanghai")).time() == time(0)
    assert text_of(page, "days-left") == "还剩 30天"  # the statutory 30 days, just opened
    assert deadline.xpath(".//a/@href") == ["#comment"]
    assert text_of(html(client.get(f"/cases/{consulting_case}?lang=en")), "days-left") == (
        "30 days left")
    listed = text_of(html(client.get("/?lang=zh-CN")), "cases")
    assert "还剩 30天" in listed and f"{closes.month}月{closes.day}日" in listed


def test_a_closed_window_says_when_it_closed(client: TestClient, decided_case: str) -> None:
    page = html(client.get(f"/cases/{decided_case}"))
    assert text_of(page, "deadline").startswith("征求意见已于")
    assert "window-closed" in {e.get("id") for e in page.iter()}


def test_people_are_shown_by_their_registered_names(
    client: TestClient, decided_case: str,
) -> None:
    page = html(client.get(f"/cases/{decided_case}"))
    evidence, decision = text_of(page, "evidence"), text_of(page, "decision")
    assert "Li Wei" in evidence and "Zhang Min" in evidence and "Zhao Li" in evidence
    assert "li.wei" not in evidence and "prof.zhang" not in evidence
    assert "Mayor Lin" in decision and "lin.mayor" not in decision
    assert "批准" in decision and "2026年11月20日" in decision
    api = client.get(f"/api/cases/{decided_case}").json()
    assert api["decision"]["decided_by"] == "lin.mayor"  # the API keeps the handle, too
    assert api["decision"]["decided_by_name"] == "Mayor Lin"


def test_the_adoption_of_opinions_is_shown_with_the_answer_to_each(
    client: TestClient, case_id: str,
) -> None:
    from dueprocess.demo.submissions import PARTICIPATION, PUBLICATION

    pending = html(client.get(f"/cases/{case_id}"))
    assert "adoption-pending" in {e.get("id") for e in pending.iter()}
    record_steps(case_id, VALID_STEPS)
    page = html(client.get(f"/cases/{case_id}"))
    section = page.get_element_by_id("adoption")
    assert not any(a.tag == "details" for a in section.iterancestors())
    assert not section.xpath(".//details")  # nothing collapsed
    assert text_of(page, "adoption-statement") == " ".join(
        PARTICIPATION["adoption_statement"].split())
    assert text_of(page, "adoption-explanation") == PUBLICATION["adoption_explanation"]
    answers = page.get_element_by_id("answers").find_class("answer")
    assert len(answers) == len(PARTICIPATION["responses"])
    words = {"adopted": "采纳", "partly_adopted": "部分采纳", "not_adopted": "未采纳"}
    for shown, response in zip(answers, PARTICIPATION["responses"], strict=True):
        content = " ".join(shown.text_content().split())
        assert response["cluster"] in content and response["reason"] in content
        assert shown.find_class("verdict")[0].text == words[response["response"]]
        assert f"{response['opinions']} 条意见" in content
    assert "共收到意见 412 条" in section.text_content()
    english = html(client.get(f"/cases/{case_id}?lang=en"))
    verdicts = [v.text for v in english.get_element_by_id("answers").find_class("verdict")]
    assert verdicts[:3] == ["adopted", "partly adopted", "not adopted"]
    api = client.get(f"/api/cases/{case_id}").json()["adoption"]
    assert api["opinions_received"] == 412 and len(api["answers"]) == len(answers)


def test_every_draft_version_is_listed_with_its_hash(
    client: TestClient, consulting_case: str,
) -> None:
    first = client.get(f"/api/cases/{consulting_case}").json()["drafts"][0]
    revise_draft_as(case_id=consulting_case, revision=REVISED, actor="wang.fang",
                    channel="test", token=token_for("wang.fang"))
    page = html(client.get(f"/cases/{consulting_case}"))
    rows = [" ".join(r.text_content().split())
            for r in page.get_element_by_id("drafts").find_class("draft-version")]
    revised_hash = hashlib.sha256(REVISED.text.encode()).hexdigest()
    assert rows[0].startswith("v2") and revised_hash in rows[0] and REVISED.reason in rows[0]
    assert rows[1].startswith("v1") and first["sha256"] in rows[1]
    assert hashlib.sha256(first["text"].encode()).hexdigest() == first["sha256"]
    assert page.get_element_by_id("current-draft").text_content() == REVISED.text
    assert "形成草案第 2 版" in text_of(page, "timeline")


def test_the_signed_tree_head_reads_in_words_and_beijing_time(
    client: TestClient, tmp_path: Path,
) -> None:
    from dueprocess.ledger.heads import publish_tree_head
    from tests.dueprocess.ledger.test_support import decided_case, fresh_database

    with fresh_database(tmp_path):
        case = decided_case()
        head = publish_tree_head(announce=lambda _: None)
        assert head is not None
        zh = text_of(html(client.get(f"/cases/{case}")), "tree-head")
        en = text_of(html(client.get(f"/cases/{case}?lang=en")), "tree-head")
    signed = head.timestamp.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"共 {head.tree_size} 条记录" in zh and f"根哈希 {head.root_hash}" in zh
    assert f"{signed.month}月{signed.day}日 {signed:%H:%M}" in zh
    assert f"size {head.tree_size}, root {head.root_hash}" in en


def test_a_later_participation_record_replaces_the_answer_and_names_the_earlier_one(
    client: TestClient, tmp_path: Path,
) -> None:
    import yaml

    from dueprocess.demo.submissions import PARTICIPATION
    from dueprocess.services.progress import advance_case
    from dueprocess.services.recording import record_evidence
    from models.procedure import BUNDLED_DIR
    from tests.support import advance_to_step, demo_case_data, open_case_data

    # A procedure whose revised draft goes back to the public (reopen_on_revision).
    procedure = yaml.safe_load((BUNDLED_DIR / "decree-713.yaml").read_text(encoding="utf-8"))
    procedure["stages"][0]["reopen_on_revision"] = True
    (tmp_path / "recall.yaml").write_text(yaml.safe_dump(procedure), encoding="utf-8")
    data = demo_case_data()
    data["procedure"] = str(tmp_path / "recall.yaml")
    case_id = open_case_data(data)
    advance_case(case_id=case_id)
    advance_to_step(case_id, "public_participation")
    first = record_evidence(
        case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
        channel="test", token=token_for("li.wei"),
        evidence={**PARTICIPATION, "adoption_statement": "First sorting."})
    advance_case(case_id=case_id)
    revise_draft_as(case_id=case_id, revision=REVISED, actor="wang.fang", channel="test",
                    token=token_for("wang.fang"))
    advance_case(case_id=case_id)
    record_evidence(case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
                    evidence=PARTICIPATION, channel="test", token=token_for("li.wei"))
    page = html(client.get(f"/cases/{case_id}"))
    assert "First sorting." not in text_of(page, "adoption-statement")
    assert text_of(page, "superseded") == f"取代此前记录（编号 {first.id}），原记录仍见证据摘要"
    assert "First sorting." not in text_of(page, "adoption")
    assert str(first.id) in text_of(page, "evidence")  # nothing hidden


def test_refusals_on_pages_read_in_the_page_language(consulting_case: str) -> None:
    from dueprocess.composition.portal import create_app
    from tests.portal.conftest import portal_settings

    app = create_app(portal_settings(comment_rate_count=1, comment_rate_seconds=60))
    with TestClient(app, base_url="http://127.0.0.1") as limited:
        path = f"/cases/{consulting_case}/comments"
        assert limited.post(path, data={"body": "一"}, follow_redirects=False).status_code == 303
        zh = limited.post(path, data={"body": "二"})
        en = limited.post(path + "?lang=en", data={"body": "three"})
        missing = limited.get(f"/cases/{consulting_case}/comments/C20260101-0000ABCD")
    assert zh.status_code == 429 and "提交过于频繁" in text_of(html(zh), "message")
    assert en.status_code == 429 and "too many submissions" in text_of(html(en), "message")
    assert missing.status_code == 404  # the cookie from ?lang=en: English
    assert text_of(html(missing), "message") == (
        f"receipt C20260101-0000ABCD not found for case {consulting_case}")
