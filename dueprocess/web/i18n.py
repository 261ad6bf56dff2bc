"""The messages of a page in the request's language, from the gettext catalogues of
`dueprocess.i18n` (zh-CN by default, English).

Only words live in the catalogues: which language a request gets is
`dueprocess.web.language`, and how dates, numbers, durations and enumerated values are
written is `dueprocess.web.localize`. A page module takes its words with

    _ = words(request)
    message(request, _("No such ballot"), status=404, error=True)
    _.pgettext("ballot status", "open")

so that `pybabel extract` (babel.cfg) finds every message it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from gettext import GNUTranslations

from fastapi import Request

from dueprocess.i18n import LANGUAGES, Language, translations
from dueprocess.web.language import chosen_language

__all__ = ["LANGUAGES", "Language", "Words", "words"]


@dataclass(frozen=True)
class Words:
    """The messages of one language: `_("msgid")`, `_.pgettext("context", "msgid")`."""

    language: Language

    @property
    def catalogue(self) -> GNUTranslations:
        return translations(self.language)

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        return self.catalogue.pgettext(context, message)

    def __call__(self, message: str) -> str:
        return self.catalogue.gettext(message)


def words(request: Request) -> Words:
    """The messages in the request's language (`?lang=`, its cookie, or the default)."""
    return Words(chosen_language(request))
