"""The names of stages and the citations of their legal basis in each language.

Pages (`dueprocess.web.localize.Localizer`), notices and Prefect's resume form name a
stage of a bundled procedure in the reader's language; a stage of a procedure file of the
district's own keeps the title that file gives it, and a citation of no known pattern
stays as written.
"""

from __future__ import annotations

import re

from dueprocess.i18n import N_, Language, translations

# Stage names by stage key, then by stage kind, as msgids: a page in Chinese names a stage
# of a bundled procedure in Chinese; in English it shows the procedure's own title.
STAGE_NAMES: dict[str, str] = {
    "public_participation": N_("Public participation"),
    "expert_review": N_("Expert argumentation"),
    "risk_assessment": N_("Risk assessment"),
    "legality_review": N_("Legality review"),
    "collective_decision": N_("Collective discussion and decision"),
    "publication": N_("Publication"),
    "filing": N_("Filing for the record"),
    "assignment": N_("Assignment"),
    "recommendation_reply": N_("Reply to the recommendation"),
}

# Legal citations of the bundled procedures, with the msgid each is written by in another
# language ({0}, {1}: the article numbers); a citation of no pattern stays as written.
CITATIONS: tuple[tuple[str, str], ...] = (
    (r"^Decree 713 Art\. (\d+)[–-](\d+)$", N_("Decree 713 Art. {0}–{1}")),
    (r"^Decree 713 Art\. (\d+)$", N_("Decree 713 Art. {0}")),
    (r"^State Council General Office 2018 No\. (\d+)$",
     N_("State Council General Office 2018 No. {0}")),
    (r"^State Council General Office 2018 No\. (\d+) \(filing within 30 days\)$",
     N_("State Council General Office 2018 No. {0} (filing within 30 days)")),
    (r"^SPP Procuratorial Recommendation Provisions 2019$",
     N_("SPP Procuratorial Recommendation Provisions 2019")),
    (r"^SPP Procuratorial Recommendation Provisions 2019 \(reply within two months\)$",
     N_("SPP Procuratorial Recommendation Provisions 2019 (reply within two months)")),
)


def _translated(language: Language, message: str) -> str | None:
    """`message` as the catalogue translates it, or None if it keeps the msgid."""
    translated = translations(language).gettext(message)
    return None if translated == message else translated


def stage_name(language: Language, key: str, title: str, kind: str | None = None) -> str:
    """A stage's name: its key's, else its kind's, if the catalogue translates it; else
    the procedure's title (so English shows the procedure's own)."""
    for name in (key, kind):
        message = STAGE_NAMES.get(name) if name else None
        translated = _translated(language, message) if message else None
        if translated:
            return translated
    return title


def cited(language: Language, citation: str) -> str:
    """A stage's legal basis as cited in `language`."""
    for pattern, message in CITATIONS:
        found = re.match(pattern, citation)
        if found:
            translated = _translated(language, message)
            return translated.format(*found.groups()) if translated else citation
    return citation
