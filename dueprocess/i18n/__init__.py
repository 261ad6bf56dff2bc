"""The messages users read, in each language the application speaks (zh-CN by default,
English), from gettext catalogues.

Msgids are the English source text. Python code marks a message with `_()` (a page's
`dueprocess.web.i18n.words(request)`), `translations(language).gettext()` or `.pgettext()`
(a context tells apart one English text that reads differently in Chinese, e.g.
`pgettext("case status", "closed")` 已办结 and `gettext("closed")` 已结束), or `N_()`
for a message translated later by its value; templates use `_()`, `pgettext()` or
`{% trans %}` of Jinja2's i18n extension (`%(name)s` placeholders, autoescape on). The
English catalogue keeps its translations empty: English is the msgid itself.

    dueprocess/i18n/dueprocess.pot                     every message, extracted
    dueprocess/i18n/locale/zh_CN/LC_MESSAGES/dueprocess.po, .mo   Chinese
    dueprocess/i18n/locale/en/LC_MESSAGES/dueprocess.po, .mo      English (identity)

After changing a message in code or a template (`docs/i18n.md`), from the repository root:

    pybabel extract -F babel.cfg -o dueprocess/i18n/dueprocess.pot .
    pybabel update -i dueprocess/i18n/dueprocess.pot -d dueprocess/i18n/locale -D dueprocess
    (translate the new or fuzzy entries of locale/zh_CN/LC_MESSAGES/dueprocess.po)
    pybabel compile -d dueprocess/i18n/locale -D dueprocess --statistics

and commit the .pot, the .po and the .mo files: `tests/dueprocess/test_i18n_catalogues.py`
fails when a message has no Chinese translation or a .mo is not its compiled .po.

`gettext(language, msgid)` and `pgettext(language, context, msgid)` translate a message
whose msgid is a variable (marked where it is written, with `N_()`); a literal message goes
through `translations(language).gettext("…")` so that extraction sees it.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from pathlib import Path
from typing import Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
DOMAIN = "dueprocess"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# The catalogue of each language, named as gettext names locales.
LOCALES: dict[Language, str] = {"zh-CN": "zh_CN", "en": "en"}


def catalogue_path(language: Language, extension: str = "mo") -> Path:
    """Where a language's compiled (`mo`) or source (`po`) catalogue is."""
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.{extension}"


@cache
def translations(language: Language) -> _gettext.GNUTranslations:
    """The compiled catalogue of `language` (read once per process)."""
    if language not in LOCALES:
        raise ValueError(f"language: '{language}' is not one of {', '.join(LANGUAGES)}")
    with catalogue_path(language).open("rb") as compiled:
        return _gettext.GNUTranslations(compiled)


def gettext(language: Language, message: str) -> str:
    """`message` (an English msgid held in a variable) in `language`."""
    return translations(language).gettext(message)


def pgettext(language: Language, context: str, message: str) -> str:
    """`message` in `language`, as the catalogue translates it in `context`."""
    return translations(language).pgettext(context, message)


def N_(message: str) -> str:
    """Mark `message` for extraction where it is written; it is translated where it is
    shown, by `gettext(language, message)`."""
    return message
