"""Render notices from the bundled Jinja2 templates, as HTML and plain text.

A notice is written whole in each language (`templates/zh-CN`, `templates/en`); the words of
enumerated values (`labels[outcome]`) and any `_()` in a template come from the gettext
catalogues of `dueprocess.i18n`, as the portal's pages do.

Autoescaping is on for HTML: everything a case, a reviewer or the public wrote is data,
escaped on the way out. Template source is only ever read from `notifications/templates`,
never built from input. Text renderings are not escaped (plain text is inert), but they
are never shown as HTML: the portal and the feed escape them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from dueprocess.i18n import LANGUAGES, Language, translations
from dueprocess.i18n.values import value_labels
from dueprocess.web.localize import Localizer

TEMPLATES = Path(__file__).resolve().parent / "templates"
NOTICE_KINDS = (
    "call_for_comments", "hearing", "hearing_materials", "reviewer_assignment",
    "reviewer_reminder",
    "deadline_escalation", "decision_announcement", "implementation_progress",
    "supervision_escalation", "evaluation_due", "item_event", "item_digest",
)
CODE_MESSAGE = "one_time_code"  # a one-time code sent to a channel, not a published notice


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment(language: Language) -> Environment:
    env = Environment(
        loader=FileSystemLoader([TEMPLATES / language, TEMPLATES]),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # bundled templates: no stat() of the file on every render
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    # Enumerated values (outcomes, conclusions, levels) in the pages' words (gettext).
    env.globals["labels"] = value_labels(language)
    env.globals["lang"] = language
    # A stage named and cited in the notice's language, as the portal's pages do (a Chinese
    # reminder never reads "Expert argumentation"); no time is written with this zone.
    localizer = Localizer(language, ZoneInfo("Asia/Shanghai"))
    env.globals["stage_name"] = lambda stage: localizer.stage(
        stage.get("key", ""), str(stage.get("title", "")), stage.get("kind"))
    env.globals["articles"] = localizer.articles
    return env


def render(name: str, context: dict[str, Any], *, language: Language) -> Rendered:
    """Render `name`.txt (which sets `subject`) and `name`.html with the same context."""
    if language not in LANGUAGES:
        raise ValueError(f"notify_language: '{language}' is not one of {', '.join(LANGUAGES)}")
    env = environment(language)
    module = env.get_template(f"{name}.txt").make_module(context)
    subject = " ".join(str(getattr(module, "subject", "")).split())[:300]
    text = str(module).strip() + "\n"
    html = env.get_template(f"{name}.html").render({**context, "subject": subject})
    return Rendered(subject=subject, text=text, html=html)


def code_message(*, code: str, minutes: int, language: Language, ballot_id: int | None = None,
                 case_id: str | None = None) -> Rendered:
    """A one-time code for voting in a ballot (`ballot_id`) or for asking for the
    evaluation of a case's decision (`case_id`), wholly in `language`."""
    context = {"purpose": "ballot" if ballot_id is not None else "evaluation",
               "ballot": {"id": ballot_id}, "case": {"id": case_id}, "code": code,
               "minutes": minutes}
    return render(CODE_MESSAGE, context, language=language)


def render_footer(context: dict[str, Any], *, language: Language) -> Rendered:
    env = environment(language)
    return Rendered(subject="", text=env.get_template("footer.txt").render(context),
                    html=env.get_template("footer.html").render(context))


_LINK = "DUEPROCESSUNSUBSCRIBELINK"  # survives escaping unchanged


@cache
def _footer_parts(language: Language) -> tuple[list[str], list[str]]:
    rendered = render_footer({"unsubscribe_url": _LINK}, language=language)
    return rendered.text.split(_LINK), rendered.html.split(_LINK)


def unsubscribe_footer(unsubscribe_url: str, *, language: Language) -> Rendered:
    """`render_footer` of an unsubscribe link, rendered once per language and filled in
    per recipient (HTML-escaped in the HTML part, as the template's autoescape does)."""
    text, html = _footer_parts(language)
    return Rendered(subject="", text=unsubscribe_url.join(text),
                    html=str(escape(unsubscribe_url)).join(html))
