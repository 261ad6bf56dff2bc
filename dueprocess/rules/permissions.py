"""Who may act on a case besides recording evidence: permission rules of the services."""

from __future__ import annotations

from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts
from models.people import ORGAN_ROLES, Role
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
    ("AUTHENTICATED", "ASVS 6.2", "Every write presents a credential of the person named "
     "(an API token, a portal login, or on the Prefect form a form proof); a handle alone is "
     "refused"),
    ("FORM-PROOF", "ASVS 6.2, 2.8", "A Prefect form submission carries a single-use code or "
     "an Ed25519 signature bound to its case, stage, person and evidence digest"),
    ("ADMINISTRATOR", "ASVS 4.1.1", "Only an administrator registers people, issues tokens, "
     "registers signing keys and links logins; a person may revoke their own credential "
     "and set their own portal password"),
    ("BOOTSTRAP-ONCE", "ASVS 2.5.1", "The first administrator is created once; later ones "
     "are registered by an administrator"),
    ("ASSIGNER", "Art. 11", "People are assigned to a case stage by an official of the "
     "undertaking unit, a member of the decision organ, or an administrator"),
    ("WINDOW-EXTENDER", "Art. 15", "Only the participation officer assigned to the case "
     "extends its comment window, to a later day, while public participation is open"),
)

ADMINISTRATOR_ARTICLE = "ASVS 4.1.1"


def administrator(role: str | None, handle: str, action: str,
                  *, own: bool = False) -> list[Unmet]:
    """An administrator may do `action`; so may the person themself when `own`."""
    if role == Role.ADMINISTRATOR or own:
        return []
    return [Unmet("ADMINISTRATOR", ADMINISTRATOR_ARTICLE,
                  f"'{handle}' may not {action}: only an administrator may")]


def assigner(facts: CaseFacts, handle: str, action: str) -> list[Unmet]:
    """Who may assign people to a case stage (Art. 11: the organ names the undertaking
    unit, which organises the procedure)."""
    person = facts.people.get(handle)
    if person is not None and (
        (person.role == Role.OFFICIAL and person.unit == facts.undertaking_unit)
        or (person.role in ORGAN_ROLES and person.unit == facts.organ)
        or person.role == Role.ADMINISTRATOR
    ):
        return []
    return [Unmet("ASSIGNER", "Art. 11",
                  f"'{handle}' may not {action}: only an official of the undertaking unit "
                  f"'{facts.undertaking_unit}', a member of the decision organ "
                  f"'{facts.organ}' or an administrator may")]


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


def window_extender(facts: CaseFacts, handle: str, stage_key: str) -> list[Unmet]:
    """Who may extend a case's comment window: its assigned participation officer."""
    if handle in facts.assignments.get(stage_key, frozenset()):
        return []
    return [Unmet("WINDOW-EXTENDER", "Art. 15",
                  f"'{handle}' may not extend the comment window: only the participation "
                  f"officer assigned to stage '{stage_key}' may")]
