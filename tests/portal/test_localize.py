"""Dates, durations and values as a page writes them: babel's CLDR data, Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from dueprocess.i18n import LANGUAGES
from dueprocess.settings import PresentationSettings
from dueprocess.web.localize import Localizer

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH = Localizer("zh-CN", SHANGHAI)
EN = Localizer("en", SHANGHAI)
# 16:30 UTC on 30 Sep is 00:30 on 1 Oct in Beijing: the date itself moves.
LATE_UTC = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)


def test_times_are_shown_in_shanghai_time_whatever_zone_they_were_stored_in() -> None:
    assert ZH.when(LATE_UTC) == "2026年10月1日 00:30"
    assert EN.when(LATE_UTC) == "Oct 1, 2026, 12:30\u202fAM"  # CLDR's narrow no-break space
    assert ZH.day(LATE_UTC) == "2026年10月1日" and EN.day(LATE_UTC) == "Oct 1, 2026"
    same_instant = LATE_UTC.astimezone(ZoneInfo("America/New_York"))
    assert ZH.when(same_instant) == ZH.when(LATE_UTC)
    naive_utc = LATE_UTC.replace(tzinfo=None)  # SQLite may hand back a naive UTC time
    assert ZH.when(naive_utc) == ZH.when(LATE_UTC)
    assert Localizer("zh-CN", ZoneInfo("Europe/London")).when(LATE_UTC) == "2026年9月30日 17:30"
    assert ZH.when(None) == ""


def test_dates_and_numbers_follow_the_locale() -> None:
    assert ZH.day(date(2026, 11, 20)) == "2026年11月20日"
    assert ZH.day("2026-11-20") == "2026年11月20日" and EN.day("2026-11-20") == "Nov 20, 2026"
    assert ZH.day("not a date") == "not a date"  # shown as written, never dropped
    assert ZH.number(12345) == "12,345" and EN.number(412) == "412"


@pytest.mark.parametrize(("left", "zh", "en"), [
    (timedelta(days=30, hours=15), "还剩 30天", "30 days left"),  # 09:00 to 24:00 30 days on
    (timedelta(days=30) - timedelta(seconds=5), "还剩 29天", "29 days left"),
    (timedelta(days=1, hours=23), "还剩 1天", "1 day left"),  # never more than there is
    (timedelta(days=1), "还剩 1天", "1 day left"),
    (timedelta(hours=23, minutes=59), "不足一天", "less than a day left"),
    (timedelta(days=45), "还剩 45天", "45 days left"),  # days, never "2 months"
])
def test_days_left_rounds_down_to_whole_days(left: timedelta, zh: str, en: str) -> None:
    now = datetime(2026, 9, 1, 4, tzinfo=UTC)
    assert ZH.days_left(now + left, now) == zh
    assert EN.days_left(now + left, now) == en


def test_every_enumerated_value_has_words_in_every_language() -> None:
    # Every message has a Chinese translation: tests/dueprocess/test_i18n_catalogues.py.
    assert set(ZH.timeline()) == set(EN.timeline())
    assert ZH.case_status("open") == "办理中" and EN.case_status("open") == "in progress"
    assert ZH.stage_status("open") == "进行中"  # the same English, other Chinese (msgctxt)
    assert ZH.stage_status("completed") == "已完成"
    assert ZH.case_status("closed") == "已办结" and EN.case_status("closed") == "closed"
    assert EN.outcome("approve") == "approved" and ZH.outcome("unknown") == "unknown"
    assert ZH.answer("partly_adopted") == "部分采纳" and ZH.outcome("approve") == "批准"
    assert ZH.stage("public_participation", "Public participation") == "公众参与"
    assert EN.stage("public_participation", "Public participation") == "Public participation"
    # A stage key of its own falls back to its kind, then to the procedure's title.
    assert ZH.stage("second_hearing", "Second hearing", "public_participation") == "公众参与"
    assert ZH.stage("custom", "Custom step") == "Custom step"
    assert [ZH.language_name(lang) for lang in LANGUAGES] == ["中文", "English"]


def test_legal_citations_of_the_bundled_procedures_read_in_chinese() -> None:
    from models.procedure import load_procedure

    for name in ("decree-713", "normative-document", "recommendation-reply"):
        for stage in load_procedure(name).stages:
            assert "Art." not in ZH.articles(stage.articles), stage.articles
            assert "General Office" not in ZH.articles(stage.articles), stage.articles
            assert "Provisions" not in ZH.articles(stage.articles), stage.articles
            assert EN.articles(stage.articles) == stage.articles
    assert ZH.articles("Decree 713 Art. 25–28") == "《重大行政决策程序暂行条例》第25–28条"
    assert ZH.articles("State Council General Office 2018 No. 37") == "国办发〔2018〕37号"
    assert ZH.articles("Local rule 12") == "Local rule 12"  # unknown: as written


def test_timeline_events_read_in_the_page_language() -> None:
    stage = {"stage_key": "legality_review", "stage_kind": "legality_review",
             "stage": "Legality review"}
    assert ZH.event("stage_opened", stage) == "合法性审查环节开始"
    assert EN.event("stage_opened", stage) == "Legality review: opened"
    assert ZH.event("decision_recorded", {"outcome": "approve"}) == "作出决定：批准"
    revised = ZH.event("draft_revised", {"version": "2", "title": "修订稿"})
    assert revised == "形成草案第 2 版：修订稿"
    assert ZH.event("unknown_event", {"what": "something new"}) == "something new"
    assert ZH.event("draft_revised", {}) == "形成草案第 {version} 版：{title}"


def test_the_zone_line_names_the_zone_and_offset() -> None:
    assert ZH.zone(LATE_UTC) == "本页时间均为中国标准时间（GMT+08:00）"
    assert EN.zone(LATE_UTC) == "Times on this page are China Standard Time (GMT+08:00)"


def test_bad_presentation_settings_are_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"(?s)portal_timezone.*not an IANA time zone"):
        PresentationSettings(portal_timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match=r"(?s)feed_tag_authority.*not a domain name"):
        PresentationSettings(feed_tag_authority="http://example.org/")
    with pytest.raises(ValidationError, match=r"(?s)feed_tag_date.*YYYY-MM-DD"):
        PresentationSettings(feed_tag_date="01/09/2019")
    settings = PresentationSettings(feed_tag_authority="Haidian.Gov.CN", feed_tag_date="2026")
    assert settings.tag_prefix == "tag:haidian.gov.cn,2026:"
