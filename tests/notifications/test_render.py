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
from tests.notifications.contexts import notice_context

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>{{ 7*7 }}'


def sample_context(kind: str) -> dict[str, Any]:
    text = f"text {PAYLOAD}"
    return notice_context(
        text=text, title=f"title {PAYLOAD}", legal_basis=[text, "Art. 1"],
        stage={"key": "legality_review", "title": text, "articles": "Art. 25",
               "reviewers": [text], "deadline": "2026-12-01"},
        evidence=[{"id": 7, "stage": {"key": "custom", "title": text}, "sha256": "cd" * 32}])


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
