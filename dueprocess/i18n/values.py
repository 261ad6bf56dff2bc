"""Words for the enumerated values of the evidence schemas: decision outcomes, expert
conclusions, risk levels, legality review outcomes and the answers to public opinions.

Shared by the notices (`notifications.render`) and the pages (`dueprocess.web.localize`),
so that a notice and a page say an outcome in the same words. A value without words is
shown as it is stored.
"""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations

from dueprocess.i18n import Language, translations

ANSWER_VALUES = ("adopted", "partly_adopted", "not_adopted")


def value_words(t: NullTranslations) -> dict[str, str]:
    """Each value in the language of the catalogue `t`."""
    return {
        "approve": t.pgettext("evidence value", "approved"),
        "reject": t.pgettext("evidence value", "rejected"),
        "defer": t.pgettext("evidence value", "deferred"),
        "supports": t.pgettext("evidence value", "supporting"),
        "supports_with_changes": t.pgettext("evidence value", "supporting with changes"),
        "opposes": t.pgettext("evidence value", "opposing"),
        "controllable": t.pgettext("evidence value", "risk controllable"),
        "not_controllable": t.pgettext("evidence value", "risk not controllable"),
        "high": t.pgettext("evidence value", "high"),
        "medium": t.pgettext("evidence value", "medium"),
        "low": t.pgettext("evidence value", "low"),
        "lawful": t.pgettext("evidence value", "lawful"),
        "revise": t.pgettext("evidence value", "to be revised"),
        "unlawful": t.pgettext("evidence value", "unlawful"),
        "exploratory_reform": t.pgettext("evidence value",
                                         "exploratory reform (legal risk stated)"),
        "adopted": t.pgettext("evidence value", "adopted"),
        "partly_adopted": t.pgettext("evidence value", "partly adopted"),
        "not_adopted": t.pgettext("evidence value", "not adopted"),
    }


@cache
def value_labels(language: Language) -> dict[str, str]:
    """Every value's words in `language` (kept per language)."""
    return value_words(translations(language))


def value_label(language: Language, value: str) -> str:
    """`value` in words of `language`; an unknown value as stored."""
    return value_labels(language).get(value, value)
