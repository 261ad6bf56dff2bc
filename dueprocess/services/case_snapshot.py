"""Build the rule engine's snapshot of a case from the database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, or_, select

from dueprocess.rules.facts import (
    CaseFacts,
    DeclarationFact,
    DraftFact,
    EvidenceFact,
    HearingFact,
    PersonFact,
    StageFacts,
    WindowFact,
)
from dueprocess.services.payloads import canonical_sha256
from dueprocess.settings import get_settings
from models.cases import (
    ConsultationCreate,
    DecisionCase,
    DraftVersion,
    ProposalCreate,
    text_sha256,
)
from models.clock import CaseClock
from models.evidence import Document, EvidenceItem
from models.hearings import Hearing, materials_dedupe_key
from models.notices import Comment, CommentCluster, CommentWindow, Notice, NoticeDelivery
from models.people import (
    ORGAN_ROLES,
    Assignment,
    Credential,
    CredentialKind,
    InterestDeclaration,
    PanelNote,
    Person,
)
from models.procedure import ProcedureDefinition
from models.programme import ProgrammeList, Proposal
from models.stage_kinds import STAGE_KINDS
from models.stages import Stage


def stored_evidence(procedure: ProcedureDefinition, item: EvidenceItem) -> BaseModel | None:
    """The evidence model of a stored item, or None when the row no longer matches its hash
    or its schema (a row edited outside dueprocess)."""
    kind = procedure.stage(item.stage_key).stage_kind
    # Keyed by the stored bytes as read, so an edited row is never answered from the cache.
    return _checked_evidence(kind.name, item.payload_sha256,
                             json.dumps(item.payload, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=4096)
def _checked_evidence(kind: str, payload_sha256: str, payload_json: str) -> BaseModel | None:
    payload = json.loads(payload_json)
    if canonical_sha256(payload) != payload_sha256:
        return None
    fields = {k: v for k, v in payload.items() if k != "documents"}
    try:
        return STAGE_KINDS[kind].evidence.model_validate(fields)
    except ValidationError:
        return None


def _document_digests(item: EvidenceItem) -> tuple[str, ...]:
    references = item.payload.get("documents") or []
    return tuple(r["sha256"] for r in references if isinstance(r, dict) and "sha256" in r)


def _initiation(case: DecisionCase) -> tuple[ProposalCreate | None, tuple[ConsultationCreate, ...]]:
    data = case.initiation or {}
    try:
        proposal = ProposalCreate.model_validate(data["proposal"]) if data.get("proposal") else None
        consultations = tuple(ConsultationCreate.model_validate(c)
                              for c in data.get("consultations", []))
    except ValidationError:
        return None, ()  # an edited row: the initiation rules then see no proposal
    return proposal, consultations


def _people(session: Session, case: DecisionCase, handles: set[str]) -> dict[str, PersonFact]:
    """The people the rules may ask about: assigned, declared, the opener, whoever is acting,
    and the members of the decision organ (people of an organ role whose unit is the organ)."""
    rows = session.execute(  # six columns: beyond sqlmodel's typed select overloads
        sa.select(col(Person.handle), col(Person.name), col(Person.role), col(Person.unit),
                  col(Person.expertise), col(Credential.public_key))
        .outerjoin(Credential, (col(Credential.person_id) == col(Person.id))
                   & (col(Credential.kind) == CredentialKind.ED25519)
                   & col(Credential.revoked_at).is_(None))
        .where(or_(col(Person.handle).in_(handles),
                   col(Person.role).in_(list(ORGAN_ROLES)) & (col(Person.unit) == case.organ)))
        .order_by(col(Person.handle), col(Credential.id))
    )
    people: dict[str, PersonFact] = {}
    for handle, name, role, unit, expertise, key in rows:
        known = people.get(handle) or PersonFact(handle=handle, name=name, role=role, unit=unit,
                                                 expertise=expertise)
        people[handle] = replace(known, public_keys=(*known.public_keys, key)) if key else known
    return people


def load_facts(
    session: Session, case: DecisionCase, *, also: Iterable[str] = ()
) -> CaseFacts:
    """The case snapshot; `also` names people to include (e.g. whoever is acting now)."""
    procedure = ProcedureDefinition.model_validate(case.procedure)
    stages = {
        s.key: StageFacts(s.status, s.opened_at, s.completed_at)
        for s in session.exec(select(Stage).where(Stage.case_id == case.id))
    }
    items = session.exec(
        select(EvidenceItem).where(EvidenceItem.case_id == case.id).order_by(col(EvidenceItem.id))
    ).all()
    evidence = tuple(
        EvidenceFact(
            id=item.id or 0, stage_key=item.stage_key,
            evidence=stored_evidence(procedure, item), recorded_by=item.recorded_by,
            recorded_at=item.recorded_at, draft_version=item.draft_version,
            payload_sha256=item.payload_sha256, documents=_document_digests(item),
        )
        for item in items
    )
    referenced = {digest for fact in evidence for digest in fact.documents}
    stored_documents = frozenset(session.exec(
        select(Document.sha256).where(col(Document.sha256).in_(referenced))
    ).all()) if referenced else frozenset()
    assignments: dict[str, set[str]] = {}
    rows = session.exec(
        select(Assignment.stage_key, Person.handle)
        .join(Person, col(Person.id) == col(Assignment.person_id))
        .where(Assignment.case_id == case.id)
    )
    for stage_key, handle in rows:
        assignments.setdefault(stage_key, set()).add(handle)
    declarations: dict[str, dict[str, DeclarationFact]] = {}
    for declaration, handle in session.exec(
        select(InterestDeclaration, Person.handle)
        .join(Person, col(Person.id) == col(InterestDeclaration.person_id))
        .where(InterestDeclaration.case_id == case.id).order_by(col(InterestDeclaration.id))
    ):
        declarations.setdefault(declaration.stage_key, {})[handle] = DeclarationFact(
            declaration.direct_interest, declaration.interests, declaration.declared_on)
    panel_notes = {
        note.stage_key: note.text
        for note in session.exec(select(PanelNote).where(PanelNote.case_id == case.id)
                                 .order_by(col(PanelNote.id)))
        if text_sha256(note.text) == note.sha256
    }
    drafts = tuple(
        DraftFact(version=d.version, sha256=d.sha256, intact=text_sha256(d.text) == d.sha256,
                  reason=d.reason)
        for d in session.exec(select(DraftVersion).where(DraftVersion.case_id == case.id)
                              .order_by(col(DraftVersion.version)))
    )
    handles = {h for group in assignments.values() for h in group}
    handles |= {h for group in declarations.values() for h in group} | {case.opened_by}
    handles |= set(also)
    proposal, consultations = _initiation(case)
    window = session.exec(select(CommentWindow).where(CommentWindow.case_id == case.id)).first()
    return CaseFacts(
        case_id=case.id, procedure=procedure, stages=stages, evidence=evidence,
        assignments={k: frozenset(v) for k, v in assignments.items()},
        draft_version=max((d.version for d in drafts), default=1),
        organ=case.organ, undertaking_unit=case.undertaking_unit, opened_by=case.opened_by,
        legal_basis=tuple(case.legal_basis), proposal_source=case.proposal_source,
        proposal=proposal, consultations=consultations,
        people=_people(session, case, handles), drafts=drafts, declarations=declarations,
        panel_notes=panel_notes, stored_documents=stored_documents,
        public_comments=tuple(session.exec(select(Comment.receipt_number).where(
            Comment.case_id == case.id).order_by(col(Comment.id))).all()),
        held_proposals=_held_proposals(session, case.id),
        comment_clusters={key: n for key, n in session.exec(  # campaigns (portal.comments.clusters)
            select(CommentCluster.cluster_key, sa.func.count()).where(
                CommentCluster.case_id == case.id, col(CommentCluster.cluster_key).is_not(None),
            ).group_by(col(CommentCluster.cluster_key))) if key is not None},
        opened_at=case.opened_at,
        comment_window=None if window is None else WindowFact(
            window.opens_at, window.closes_at, window.shortened_reason),
        hearings=_hearings(session, case.id),
        timezone=get_settings().case_timezone,
        simulated=session.get(CaseClock, case.id) is not None,
    )


def _hearings(session: Session, case_id: str) -> tuple[HearingFact, ...]:
    """The case's announced hearings and their materials' witnessed delivery: the moment
    the materials notice settled (case time), with how many channels received it."""
    facts = []
    for hearing in session.exec(select(Hearing).where(Hearing.case_id == case_id)
                                .order_by(col(Hearing.id))):
        notice = session.exec(select(Notice).where(
            Notice.dedupe_key == materials_dedupe_key(hearing))).first()
        statuses = [] if notice is None else list(session.exec(
            select(NoticeDelivery.status).where(NoticeDelivery.notice_id == notice.id)))
        settled = None if notice is None else notice.settled_at
        facts.append(HearingFact(
            held_on=hearing.held_on, announced_at=hearing.announced_at,
            participants=tuple(hearing.participants), recipients=len(statuses),
            delivered=statuses.count("delivered"),
            last_delivered_at=settled if statuses and settled else None))
    return tuple(facts)


def _held_proposals(session: Session, case_id: str) -> tuple[int, ...]:
    """The ids of the year's proposals, when the case decides that year's programme list."""
    listed = session.exec(select(ProgrammeList).where(ProgrammeList.case_id == case_id)).first()
    if listed is None:
        return ()
    return tuple(p for p in session.exec(select(Proposal.id).where(
        Proposal.year == listed.year).order_by(col(Proposal.id))) if p is not None)
