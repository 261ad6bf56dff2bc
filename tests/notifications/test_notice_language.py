"""Every notice is wholly in its language: a bundled stage is named, and its legal basis
cited, in the notice's language, as is a one-time code's subject ("提醒：Expert
argumentation将于…" and "Ballot #1: your voting code" in a Chinese notice were the bugs)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dueprocess.i18n import translations
from dueprocess.i18n.stages import STAGE_NAMES
from notifications.render import NOTICE_KINDS, code_message, render
from tests.notifications.contexts import notice_context

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
ENGLISH_STAGE_NAMES = sorted(STAGE_NAMES.values())
CHINESE_STAGE_NAMES = sorted(translations("zh-CN").gettext(m) for m in STAGE_NAMES.values())
# English words a Chinese notice must not carry (the case data below is all Chinese).
ENGLISH_WORDS = re.compile(r"\b(Ballot|Case|Decree|Art\.|stage|Reminder|Overdue|due)\b")
CITATION = "Decree 713 Art. 19–21"


def context(stage_key: str, language_of_data: str) -> dict[str, Any]:
    """A notice's context whose own data (titles, names) is in `language_of_data`, so
    that any word of the other language can only come from the notice's making."""
    text = "停车收费调整方案" if language_of_data == "zh-CN" else "Parking fee adjustment"
    # The bundled procedure's own title is English: the notice must name it in its language.
    return notice_context(
        text=text, title=text, legal_basis=[text],
        stage={"key": stage_key, "title": STAGE_NAMES[stage_key], "articles": CITATION,
               "reviewers": [text], "deadline": "2026-12-01"},
        evidence=[{"id": i, "stage": {"key": key, "title": STAGE_NAMES[key]},
                   "sha256": "cd" * 32} for i, key in enumerate(STAGE_NAMES)])


def words_of(rendered: Any) -> str:
    """What a reader reads: subject, text and the HTML's text (tags and URLs dropped)."""
    html = re.sub(r"<[^>]+>|https?://\S+", " ", rendered.html)
    return "\n".join((rendered.subject, re.sub(r"https?://\S+", " ", rendered.text), html))


@pytest.mark.parametrize("stage_key", sorted(STAGE_NAMES))
@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_a_chinese_notice_names_no_stage_in_english(kind: str, stage_key: str) -> None:
    read = words_of(render(kind, context(stage_key, "zh-CN"), language="zh-CN"))
    leaked = [name for name in ENGLISH_STAGE_NAMES if name in read]
    assert leaked == [], f"{kind}: {leaked} in\n{read}"
    english = ENGLISH_WORDS.findall(read)
    assert english == [], f"{kind}: {english} in\n{read}"
    if kind in ("reviewer_assignment", "reviewer_reminder", "deadline_escalation"):
        assert translations("zh-CN").gettext(STAGE_NAMES[stage_key]) in read


@pytest.mark.parametrize("stage_key", sorted(STAGE_NAMES))
@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_an_english_notice_has_no_chinese_word(kind: str, stage_key: str) -> None:
    read = words_of(render(kind, context(stage_key, "en"), language="en"))
    assert CJK.findall(read) == [], f"{kind}: Chinese in\n{read}"
    if kind in ("reviewer_assignment", "reviewer_reminder", "deadline_escalation"):
        assert STAGE_NAMES[stage_key] in read
        assert CITATION in read or kind == "reviewer_reminder"  # a reminder cites none


def test_the_reminder_of_the_bug_reads_wholly_in_chinese() -> None:
    reminder = render("reviewer_reminder", context("expert_review", "zh-CN"), language="zh-CN")
    assert reminder.subject.startswith("提醒：专家论证将于2026-12-01到期"), reminder.subject


@pytest.mark.parametrize("purpose", [{"ballot_id": 1}, {"case_id": "dp-2026-abcdef"}])
def test_a_one_time_code_is_wholly_in_its_language(purpose: dict[str, Any]) -> None:
    chinese = code_message(code="12345678", minutes=15, language="zh-CN", **purpose)
    english = code_message(code="12345678", minutes=15, language="en", **purpose)
    for rendered in (chinese, english):
        assert "12345678" in rendered.text and "15" in rendered.text
    assert ENGLISH_WORDS.findall(words_of(chinese)) == [] and "your" not in words_of(chinese)
    assert CJK.findall(words_of(english)) == []
    if "ballot_id" in purpose:
        assert chinese.subject == "第1号投票：您的投票验证码"
        assert english.subject == "Ballot #1: your voting code"
