"""Who may act on a case besides recording evidence: permission rules of the services."""

from __future__ import annotations

from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts
from models.people import Role
from models.stages import StageStatus

# (id, article, summary) of every permission rule, for the compliance matrix.
PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("UNDERTAKING-OFFICIAL", "Art. 11",
     "Only an official of the undertaking unit assigns people, revises the draft and "
     "records the panel note"),
    ("DECLARANT", "Art. 20",
     "An interest declaration is made by the expert, or recorded for them by the "
     "undertaking unit"),
    ("NOT-DECIDED", "Art. 35", "A decided case is not revised: a major change reruns the "
     "procedure as a new case"),
    ("DRAFT-CHANGED", "Art. 24, 28", "A revision changes the draft text"),
    ("AUTHENTICATED", "ASVS 6.2", "A person holding an API token presents it on the CLI and "
     "the API; a presented token belongs to the person named"),
)


def undertaking_official(facts: CaseFacts, handle: str, action: str) -> list[Unmet]:
    person = facts.people.get(handle)
    if person is not None and person.role == Role.OFFICIAL and (
        person.unit == facts.undertaking_unit
    ):
        return []
    return [Unmet("UNDERTAKING-OFFICIAL", "Art. 11",
                  f"'{handle}' may not {action}: only an official of the undertaking unit "
                  f"'{facts.undertaking_unit}' may")]


def not_decided(facts: CaseFacts) -> list[Unmet]:
    deciding = facts.procedure.deciding_stage.key
    if facts.status(deciding) is StageStatus.COMPLETED:
        return [Unmet("NOT-DECIDED", "Art. 35",
                      "the case is decided: a major change reruns the procedure as a new case")]
    return []
