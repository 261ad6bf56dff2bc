"""Every notice renders HTML and text, in Chinese or English; input is data, never markup
or template source."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.render import (
    LANGUAGES,
    NOTICE_KINDS,
    render,
    render_footer,
    unsubscribe_footer,
)

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>{{ 7*7 }}'


def sample_context(kind: str) -> dict[str, Any]:
    text = f"text {PAYLOAD}"
    case = {"id": "dp-2026-abcdef", "title": f"title {PAYLOAD}", "summary": text,
            "organ": text, "undertaking_unit": text, "legal_basis": [text, "Art. 1"]}
    stage = {"key": "legality_review", "title": text, "articles": "Art. 25",
             "reviewers": [text], "deadline": "2026-12-01"}
    return {
        "case": case, "case_url": "http://127.0.0.1:8000/cases/dp-2026-abcdef",
        "draft": {"title": text, "text": text, "version": 1, "sha256": "ab" * 32},
        "consultation": {"opens_on": "2026-11-01", "closes_on": "2026-11-20", "days": 19,
                         "closes_at": {"zh-CN": "2026年11月20日 24:00（北京时间）",
                                       "en": "2026-11-20 24:00 Beijing time"},
                         "shortened_reason": text},
        "hearing": {"held_on": "2026-12-20", "place": text, "selection_method": text,
                    "participants": [text]},
        "stage": stage,
        "decision": {"outcome": "approve", "text": text, "decided_by": text,
                     "decided_on": "2026-11-20"},
        "participation": {"opinions_received": 3, "adoption_statement": text},
        "experts": {"count": 2, "conclusions": {"supports": 1, "opposes": 1}},
        "risk": {"controllable": True, "level": "low"},
        "legality": {"outcome": "lawful"},
        "publication": {"url": "https://example.org/p", "published_on": "2026-11-24",
                        "adoption_explanation": text},
        "evidence": [{"id": 7, "stage": {"key": "custom", "title": text}, "sha256": "cd" * 32}],
        "progress": {"text": text, "percent": 40, "reported_by": text, "as_of": "2027-03-01"},
        "item": {"id": 3, "title": text, "department": text, "url": "https://example.org/i/3"},
        "milestone": {"title": text, "due_on": "2027-03-01"},
        "reason": "residents", "requests": 100,
        "event": "progress", "summary": text, "occurred": "2027-03-01 09:30",
        "day": "2027-03-01", "events": [{"subject": text, "text": text}],
        "evaluation_url": "http://127.0.0.1:8000/programme/evaluations/dp-2026-abcdef",
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_notice_renders_both_formats_with_input_escaped(kind: str, language: str) -> None:
    rendered = render(kind, sample_context(kind), language=language)  # type: ignore[arg-type]
    assert rendered.subject and rendered.text.strip() and "<html" in rendered.html
    assert "<script" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert PAYLOAD in rendered.text  # plain text keeps what was written, literally
    assert "49" not in rendered.text + rendered.html  # never evaluated as a template


def test_chinese_by_default_english_by_setting() -> None:
    context = sample_context("call_for_comments")
    assert render("call_for_comments", context, language="zh-CN").subject.startswith("征求意见")
    english = render("call_for_comments", context, language="en")
    assert english.subject.startswith("Call for comments")
    assert "Reason for a period shorter than 30 days" in english.text


def test_unknown_language_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="notify_language: 'fr'"):
        render("hearing", sample_context("hearing"), language="fr")  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_prerendered_footer_is_the_rendered_footer(language: str) -> None:
    link = 'http://portal.example/unsubscribe?s=7&t=ab"<x>'
    expected = render_footer({"unsubscribe_url": link}, language=language)  # type: ignore[arg-type]
    assert unsubscribe_footer(link, language=language) == expected  # type: ignore[arg-type]
    assert "&amp;t=ab&#34;&lt;x&gt;" in expected.html and link in expected.text
