"""Covered tables: the rows besides evidence whose every state is a record in the log.

Comments, notices, confirmed subscriptions, assignments, interest declarations, panel
notes, stage transitions, credentials and people. Each row is logged as a *snapshot*: a
few columns, with texts and secrets replaced by digests (a subscription by its keyed URL
digest, a credential by its fingerprint and a commitment to its token hash, never the
hash itself). A record carries its snapshots under ``"rows"``::

    {"rows": [{"table": "comment", "id": 5, "values": {...}}], ...}

`verify` replays the log: the last snapshot of every row must equal the row as it is now
(a changed row), every logged row must still exist (a deleted row), every row that must
be logged is (an extra row), and the fields a table never changes are the same in every
snapshot of a row (a history re-logged to cover an edit).

Rows without a case (people, credentials, subscriptions) go on the system chain,
`SYSTEM_SCOPE`, which is chained like a case but is never closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from ledger import utc_timestamp
from models.follow_up import EvaluationDue, EvaluationRequest, FollowUp, follow_up_chain
from models.implementation import (
    ImplementationItem,
    ItemComment,
    Milestone,
    ProgressUpdate,
    SupervisionRecord,
    item_chain,
)
from models.ledger import COVERED_MODELS
from models.notices import Comment, Notice, Subscriber
from models.people import (
    Assignment,
    Credential,
    CredentialKind,
    InterestDeclaration,
    PanelNote,
    Person,
)
from models.programme import (
    Ballot,
    ProgrammeList,
    Proposal,
    ProposalMark,
    Vote,
    ballot_chain,
    programme_chain,
)
from models.stages import Stage

SYSTEM_SCOPE = "system"  # chain of the records that belong to no case
ROWS = "rows"  # the record field that holds row snapshots
# Domain separation: a commitment to a token hash is not itself usable as a token hash.
_COMMITMENT_PREFIX = b"dueprocess credential commitment v1\n"


def _sha(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment(secret_digest: str | None) -> str | None:
    """A digest that binds a token hash without revealing it."""
    if secret_digest is None:
        return None
    return hashlib.sha256(_COMMITMENT_PREFIX + secret_digest.encode()).hexdigest()


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return utc_timestamp(value)
    return value.isoformat()


Snapshot = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class CoveredTable:
    """How one table is logged and checked."""

    table: str  # name in records (the SQL table name)
    model: type[SQLModel]
    kind: str  # record kind of a snapshot logged without an event of its own
    label: str  # how reports name a row
    snapshot: Snapshot
    fixed: frozenset[str] | None  # fields equal in every snapshot of a row (None: all)
    case_scoped: bool = True
    # A row that must be in the log; others are logged once touched (a pending subscription).
    must_log: Callable[[Any], bool] = lambda _row: True
    chain: Callable[[Any], str] | None = None  # the chain of a row of no case (programme)

    def scope(self, row: Any) -> str:
        if self.chain is not None:
            return self.chain(row)
        return str(row.case_id) if self.case_scoped else SYSTEM_SCOPE

    def name(self, row_id: int, case_id: str | None) -> str:
        where = f" of case {case_id}" if self.case_scoped and case_id else ""
        return f"{self.label} #{row_id}{where}"


def _comment(row: Comment) -> dict[str, Any]:
    return {"case_id": row.case_id, "receipt_number": row.receipt_number, "author": row.author,
            "body_sha256": _sha(row.body), "sha256": row.sha256,
            "client_digest": row.client_digest, "received_at": _when(row.received_at)}


def _notice(row: Notice) -> dict[str, Any]:
    return {"case_id": row.case_id, "notice_kind": row.kind, "audience": list(row.audience),
            "public": row.public, "language": row.language, "subject": row.subject,
            "body_text_sha256": _sha(row.body_text), "body_html_sha256": _sha(row.body_html),
            "sha256": row.sha256, "dedupe_key": row.dedupe_key,
            "created_at": _when(row.created_at)}


def _subscriber(row: Subscriber) -> dict[str, Any]:
    # Digests only: the URL is known by its keyed digest, never in clear or encrypted.
    return {"url_key": row.url_key, "tags": list(row.tags), "status": row.status,
            "confirmed_at": _when(row.confirmed_at),
            "unsubscribed_at": _when(row.unsubscribed_at)}


def _assignment(row: Assignment) -> dict[str, Any]:
    return {"case_id": row.case_id, "stage_key": row.stage_key, "person_id": row.person_id,
            "assigned_at": _when(row.assigned_at)}


def _declaration(row: InterestDeclaration) -> dict[str, Any]:
    return {"case_id": row.case_id, "stage_key": row.stage_key, "person_id": row.person_id,
            "direct_interest": row.direct_interest, "interests_sha256": _sha(row.interests),
            "declared_on": _when(row.declared_on), "recorded_by": row.recorded_by,
            "recorded_at": _when(row.recorded_at)}


def _panel_note(row: PanelNote) -> dict[str, Any]:
    return {"case_id": row.case_id, "stage_key": row.stage_key, "text_sha256": _sha(row.text),
            "sha256": row.sha256, "recorded_by": row.recorded_by,
            "recorded_at": _when(row.recorded_at)}


def _stage(row: Stage) -> dict[str, Any]:
    return {"case_id": row.case_id, "key": row.key, "status": str(row.status),
            "opened_at": _when(row.opened_at), "completed_at": _when(row.completed_at)}


def _credential(row: Credential) -> dict[str, Any]:
    token = row.kind == CredentialKind.API_TOKEN
    return {"person_id": row.person_id, "credential_kind": str(row.kind), "label": row.label,
            # A token's fingerprint is its hash: log only a commitment to it.
            "fingerprint": None if token else row.fingerprint,
            "fingerprint_commitment": commitment(row.fingerprint),
            "token_commitment": commitment(row.token_sha256),
            "public_key_sha256": _sha(row.public_key),
            "created_at": _when(row.created_at), "revoked_at": _when(row.revoked_at)}


def _person(row: Person) -> dict[str, Any]:
    return {"handle": row.handle, "name": row.name, "role": str(row.role), "unit": row.unit,
            "created_at": _when(row.created_at)}


def _proposal(row: Proposal) -> dict[str, Any]:
    return {"year": row.year, "receipt_number": row.receipt_number, "category": row.category,
            "level": row.level, "street": row.street, "place": row.place,
            "description": row.description, "author": row.author,
            "client_digest": row.client_digest, "submitted_at": _when(row.submitted_at)}


def _proposal_mark(row: ProposalMark) -> dict[str, Any]:
    return {"proposal_id": row.proposal_id, "year": row.year, "mark": row.kind,
            "reason": row.reason, "merged_into": row.merged_into, "marked_by": row.marked_by,
            "marked_at": _when(row.marked_at)}


def _ballot(row: Ballot) -> dict[str, Any]:
    return {"year": row.year, "title": row.title, "roll": row.roll,
            "choose_up_to": row.choose_up_to, "opens_at": _when(row.opens_at),
            "closes_at": _when(row.closes_at), "options": list(row.options),
            "created_by": row.created_by, "created_at": _when(row.created_at),
            "closed_at": _when(row.closed_at), **_unless_default(row, _BALLOT_DEFAULTS)}


def _vote(row: Vote) -> dict[str, Any]:
    # The whole vote: anyone recounts the tally from these snapshots (docs/programme.md).
    return {"ballot_id": row.ballot_id, "pseudonym": row.pseudonym,
            "choices": list(row.choices), "cast_at": _when(row.cast_at),
            **_unless_default(row, {"assurance": "channel"})}


# Columns added by programme0006, logged only when they differ from the default, so the
# snapshots of rows logged before it still equal those rows.
_BALLOT_DEFAULTS = {"assurance": "channel", "attempt_budget": 10_000}


def _unless_default(row: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name, default in defaults.items()
            if getattr(row, name) != default}


def _programme_list(row: ProgrammeList) -> dict[str, Any]:
    return {"year": row.year, "ballot_id": row.ballot_id, "case_id": row.case_id,
            "proposals": list(row.proposals), "revises": row.revises,
            "opened_by": row.opened_by, "opened_at": _when(row.opened_at)}


def _item(row: ImplementationItem) -> dict[str, Any]:
    return {"case_id": row.case_id, "title": row.title, "department": row.department,
            "level": row.level, "street": row.street, "proposal_id": row.proposal_id,
            "registered_by": row.registered_by, "registered_at": _when(row.registered_at),
            "registered_on": _when(row.registered_on)}


def _milestone(row: Milestone) -> dict[str, Any]:
    return {"item_id": row.item_id, "title": row.title, "due_on": _when(row.due_on),
            "set_by": row.set_by, "set_at": _when(row.set_at)}


def _progress(row: ProgressUpdate) -> dict[str, Any]:
    return {"item_id": row.item_id, "completes_milestone": row.completes_milestone,
            "percent": row.percent, "text_sha256": _sha(row.text),
            "evidence": list(row.evidence), "recorded_by": row.recorded_by,
            "recorded_at": _when(row.recorded_at), "recorded_on": _when(row.recorded_on)}


def _item_comment(row: ItemComment) -> dict[str, Any]:
    return {"item_id": row.item_id, "body_sha256": _sha(row.body), "rating": row.rating,
            "press": row.press, "client_digest": row.client_digest,
            "received_at": _when(row.received_at)}


def _supervision(row: SupervisionRecord) -> dict[str, Any]:
    return {"item_id": row.item_id, "milestone_id": row.milestone_id,
            "due_on": _when(row.due_on), "detected_on": _when(row.detected_on),
            "department": row.department, "detected_at": _when(row.detected_at)}


def _follow_up(row: FollowUp) -> dict[str, Any]:
    return {"case_id": row.case_id, "follows": row.follows, "kind": row.kind,
            "started_by": row.started_by, "opened_by": row.opened_by,
            "opened_at": _when(row.opened_at)}


def _evaluation_request(row: EvaluationRequest) -> dict[str, Any]:
    return {"case_id": row.case_id, "pseudonym": row.pseudonym,
            "requested_at": _when(row.requested_at),
            **_unless_default(row, {"assurance": "channel"})}


def _evaluation_due(row: EvaluationDue) -> dict[str, Any]:
    return {"case_id": row.case_id, "reason": row.reason, "requests": row.requests,
            "detected_at": _when(row.detected_at)}


_BALLOT_FIELDS = ("year", "title", "roll", "choose_up_to", "opens_at", "closes_at",
                  "options", "created_by", "created_at", "closed_at", "assurance",
                  "attempt_budget")

COVERED: tuple[CoveredTable, ...] = (
    CoveredTable("comment", Comment, "comment", "comment", _comment, None),
    CoveredTable("notice", Notice, "notice", "notice", _notice, None),
    CoveredTable("subscriber", Subscriber, "subscription", "subscription", _subscriber,
                 frozenset({"url_key"}), case_scoped=False,
                 must_log=lambda row: row.status != "pending"),
    CoveredTable("assignment", Assignment, "assignment", "assignment", _assignment, None),
    CoveredTable("interestdeclaration", InterestDeclaration, "interest",
                 "interest declaration", _declaration, None),
    CoveredTable("panelnote", PanelNote, "panel", "panel note", _panel_note, None),
    CoveredTable("stage", Stage, "transition", "stage", _stage,
                 frozenset({"case_id", "key"})),
    CoveredTable("credential", Credential, "credential", "credential", _credential,
                 frozenset({"person_id", "credential_kind", "fingerprint",
                            "fingerprint_commitment", "token_commitment",
                            "public_key_sha256", "created_at"}), case_scoped=False),
    CoveredTable("person", Person, "person", "person", _person,
                 frozenset({"handle", "created_at"}), case_scoped=False),
    CoveredTable("proposal", Proposal, "proposal", "proposal", _proposal, None,
                 case_scoped=False, chain=lambda row: programme_chain(row.year)),
    CoveredTable("proposalmark", ProposalMark, "proposal-mark", "proposal mark",
                 _proposal_mark, None, case_scoped=False,
                 chain=lambda row: programme_chain(row.year)),
    CoveredTable("ballot", Ballot, "ballot", "ballot", _ballot,
                 frozenset(set(_BALLOT_FIELDS) - {"closed_at"}), case_scoped=False,
                 chain=lambda row: ballot_chain(row.id)),
    CoveredTable("vote", Vote, "vote", "vote", _vote, None, case_scoped=False,
                 chain=lambda row: ballot_chain(row.ballot_id)),
    CoveredTable("programmelist", ProgrammeList, "programme-list", "programme list",
                 _programme_list, None, case_scoped=False,
                 chain=lambda row: programme_chain(row.year)),
    CoveredTable("implementationitem", ImplementationItem, "item", "implementation item",
                 _item, None, case_scoped=False, chain=lambda row: item_chain(row.id)),
    CoveredTable("milestone", Milestone, "milestone", "milestone", _milestone, None,
                 case_scoped=False, chain=lambda row: item_chain(row.item_id)),
    CoveredTable("progressupdate", ProgressUpdate, "progress", "progress update", _progress,
                 None, case_scoped=False, chain=lambda row: item_chain(row.item_id)),
    CoveredTable("itemcomment", ItemComment, "item-comment", "item comment", _item_comment,
                 None, case_scoped=False, chain=lambda row: item_chain(row.item_id)),
    CoveredTable("supervisionrecord", SupervisionRecord, "supervision", "supervision record",
                 _supervision, None, case_scoped=False,
                 chain=lambda row: item_chain(row.item_id)),
    CoveredTable("followup", FollowUp, "follow-up", "follow-up", _follow_up, None,
                 case_scoped=False, chain=lambda row: follow_up_chain(row.follows)),
    CoveredTable("evaluationrequest", EvaluationRequest, "evaluation-request",
                 "evaluation request", _evaluation_request, None, case_scoped=False,
                 chain=lambda row: follow_up_chain(row.case_id)),
    CoveredTable("evaluationdue", EvaluationDue, "evaluation-due", "evaluation due",
                 _evaluation_due, None, case_scoped=False,
                 chain=lambda row: follow_up_chain(row.case_id)),
)
BY_TABLE = {t.table: t for t in COVERED}
BY_MODEL: dict[type[SQLModel], CoveredTable] = {t.model: t for t in COVERED}
assert {t.model: t.table for t in COVERED} == COVERED_MODELS, "models.ledger lists them too"

# Event kinds (by their first dotted part) that are about one covered row: `subject_id`
# names it (a stage by the event's `stage_key`).
EVENT_TABLES = {
    "comment": "comment", "notice": "notice", "interest": "interestdeclaration",
    "panel": "panelnote", "assignment": "assignment", "stage": "stage",
    "subscription": "subscriber", "credential": "credential", "key": "credential",
    "token": "credential", "person": "person", "proposal": "proposal",
    "vote": "vote", "ballot": "ballot", "supervision": "supervisionrecord",
    "evaluation": "evaluationdue", "evaluation_request": "evaluationrequest",
}


@dataclass(frozen=True)
class RowRef:
    table: str
    id: int


def event_row(session: Session, event_kind: str, case_id: str, subject_id: int | None,
              stage_key: str | None) -> RowRef | None:
    """The covered row an event is about, if any."""
    table = EVENT_TABLES.get(event_kind.split(".", 1)[0])
    if table is None or event_kind.endswith(".refused"):
        return None
    if table == "stage":
        if stage_key is None:
            return None
        stage_id = session.exec(select(Stage.id).where(
            Stage.case_id == case_id, Stage.key == stage_key)).first()
        return None if stage_id is None else RowRef(table, stage_id)
    return None if subject_id is None else RowRef(table, subject_id)


def snapshot(session: Session, ref: RowRef) -> dict[str, Any] | None:
    """``{"table", "id", "values"}`` of the row as it is now, or None if it is gone."""
    covered = BY_TABLE[ref.table]
    row = session.get(covered.model, ref.id)
    if row is None:
        return None
    return {"table": ref.table, "id": ref.id, "values": covered.snapshot(row)}


def current_rows(session: Session, covered: CoveredTable) -> Iterable[tuple[int, Any]]:
    """Every row of a covered table, by id (streamed)."""
    query = select(covered.model).order_by(col(covered.model.id))  # type: ignore[attr-defined]
    for row in session.exec(query.execution_options(yield_per=1000)):
        yield row.id, row  # type: ignore[attr-defined]
