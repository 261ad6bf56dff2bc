"""What the public sees: read models of cases, notices, evidence digests and comments.

Pages, the feed and the JSON API all read through these functions, so they show the same
data. Only public facts leave here: no subscriber, no private notice, no client digest.
Values are language-neutral (status codes, UTC times, handles beside display names);
`dueprocess.web.localize` turns them into a page's words.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.services.case_clock import clock_offsets
from dueprocess.services.cases import get_case, list_cases
from dueprocess.services.stage_deadlines import comment_window_for, deadlines_of
from models.cases import DecisionCase, DraftVersion
from models.decisions import Decision
from models.evidence import EvidenceItem
from models.notices import CommentWindow, Notice
from models.people import Person
from models.procedure import ProcedureDefinition
from models.stages import Stage
from portal.comments.submission import CommentPublic, comments_for_case, window_is_open


class StagePublic(BaseModel):
    key: str
    kind: str = Field(description="The stage kind (public_participation, expert_review, ...)")
    title: str
    articles: str
    status: str
    opened_at: datetime | None
    completed_at: datetime | None
    due: datetime | None = Field(description="Deadline while the stage is open")


class CommentWindowPublic(BaseModel):
    opens_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    shortened_reason: str | None
    open: bool


class CaseSummaryPublic(BaseModel):
    id: str
    title: str
    organ: str
    status: str
    opened_at: datetime
    current_stages: list[StagePublic]
    comment_window: CommentWindowPublic | None
    simulated_time: bool = Field(
        default=False, description="A demo or test case run on simulated time: its dates "
        "are simulated, not real")
    case_time: datetime | None = Field(
        default=None, description="The case's current time: its simulated clock's for a "
        "simulated case, else the system's")


class NoticePublic(BaseModel):
    id: int
    case_id: str
    kind: str
    subject: str
    text: str
    language: str
    sha256: str
    created_at: datetime


class EvidenceDigestPublic(BaseModel):
    id: int
    stage_key: str
    stage_title: str
    kind: str
    recorded_by: str = Field(description="Handle of the person who recorded it")
    recorded_by_name: str = Field(description="Their registered name")
    recorded_at: datetime
    sha256: str = Field(description="SHA-256 of the RFC 8785 evidence payload")
    documents: list[dict[str, Any]] = Field(description="filename, media_type, sha256, size")


class DraftPublic(BaseModel):
    version: int
    title: str
    text: str
    sha256: str = Field(description="SHA-256 of the UTF-8 draft text")
    created_at: datetime
    reason: str | None = Field(default=None, description="Why the draft was revised")


class DecisionPublic(BaseModel):
    outcome: str
    text: str
    decided_by: str = Field(description="Handle of the administrative head")
    decided_by_name: str = Field(description="Their registered name")
    decided_on: str
    recorded_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    what: str = Field(description="The entry in English")
    event: str = Field(description="case_opened, draft_revised, stage_opened, stage_completed, "
                                   "window_opened, window_closed, decision_recorded, notice")
    params: dict[str, str] = Field(default_factory=dict, description="What the event names")


class OpinionAnswerPublic(BaseModel):
    cluster: str = Field(description="The opinion or the gist of a group of similar ones")
    opinions: int = Field(description="How many received opinions this answers")
    response: str = Field(description="adopted, partly_adopted or not_adopted")
    reason: str


class AdoptionPublic(BaseModel):
    """How public opinions were adopted (Art. 18 and 32), from the recorded evidence."""

    opinions_received: int | None = None
    statement: str | None = Field(default=None, description="The participation officer's "
                                                            "adoption statement")
    answers: list[OpinionAnswerPublic] = Field(default_factory=list)
    participation_evidence_id: int | None = None
    superseded_evidence_ids: list[int] = Field(
        default_factory=list, description="Earlier participation or publication records this "
        "answer replaces: all stay in the evidence list, none is hidden")
    recorded_by_name: str | None = None
    recorded_at: datetime | None = None
    explanation: str | None = Field(default=None, description="The adoption explanation "
                                                              "published with the decision")
    expert_explanation: str | None = None
    published_on: str | None = None


class CaseDetailPublic(CaseSummaryPublic):
    summary: str
    undertaking_unit: str
    legal_basis: list[str]
    stages: list[StagePublic]
    timeline: list[TimelineEntry]
    drafts: list[DraftPublic]
    decision: DecisionPublic | None
    notices: list[NoticePublic]
    evidence: list[EvidenceDigestPublic]
    adoption: AdoptionPublic | None
    comment_count: int
    comments: list[CommentPublic]


def _stages(case: DecisionCase, rows: dict[str, Stage]) -> list[StagePublic]:
    procedure = ProcedureDefinition.model_validate(case.procedure)
    due = deadlines_of(case, procedure, rows)
    stages = []
    for definition in procedure.stages:
        row = rows.get(definition.key)
        stages.append(StagePublic(
            key=definition.key, kind=definition.kind, title=definition.title,
            articles=definition.articles,
            status=row.status.value if row else "pending",
            opened_at=row.opened_at if row else None,
            completed_at=row.completed_at if row else None, due=due.get(definition.key),
        ))
    return stages


def _window(window: CommentWindow | None, now: datetime) -> CommentWindowPublic | None:
    if window is None:
        return None
    return CommentWindowPublic(
        opens_at=window.opens_at, closes_at=window.closes_at, closed_at=window.closed_at,
        shortened_reason=window.shortened_reason, open=window_is_open(window, now),
    )


def _summary(case: DecisionCase, now: datetime, *, rows: dict[str, Stage],
             window: CommentWindow | None, offset: timedelta | None) -> dict[str, Any]:
    stages = _stages(case, rows)
    if offset is not None:  # the window is open or closed on the case's own (simulated) clock
        now = system_now() + offset
    return {
        "id": case.id, "title": case.title, "organ": case.organ, "status": case.status.value,
        "opened_at": case.opened_at, "current_stages": [s for s in stages if s.status == "open"],
        "comment_window": _window(window, now), "stages": stages,
        "simulated_time": offset is not None, "case_time": now,
    }


def _case_summary(session: Session, case: DecisionCase, now: datetime) -> dict[str, Any]:
    rows = {s.key: s for s in session.exec(select(Stage).where(Stage.case_id == case.id))}
    return _summary(case, now, rows=rows, window=comment_window_for(session, case.id),
                    offset=clock_offsets(session, {case.id}).get(case.id))


def case_summaries(session: Session, *, now: datetime) -> list[CaseSummaryPublic]:
    """Every case, in a fixed number of queries however many there are."""
    cases = list_cases(session)
    rows: dict[str, dict[str, Stage]] = defaultdict(dict)
    for stage in session.exec(select(Stage)):
        rows[stage.case_id][stage.key] = stage
    windows = {w.case_id: w for w in session.exec(select(CommentWindow))}  # one per case
    offsets = clock_offsets(session, {case.id for case in cases})
    return [CaseSummaryPublic.model_validate(_summary(
        case, now, rows=rows[case.id], window=windows.get(case.id),
        offset=offsets.get(case.id))) for case in cases]


def public_notices(
    session: Session, *, case_id: str | None = None, limit: int = 50
) -> list[NoticePublic]:
    query = select(Notice).where(col(Notice.public).is_(True))
    if case_id is not None:
        query = query.where(Notice.case_id == case_id)
    rows = session.exec(query.order_by(col(Notice.id).desc()).limit(limit))
    return [NoticePublic(id=n.id or 0, case_id=n.case_id, kind=n.kind, subject=n.subject,
                         text=n.body_text, language=n.language, sha256=n.sha256,
                         created_at=n.created_at) for n in rows]


def display_names(session: Session, handles: set[str]) -> dict[str, str]:
    """Registered names of people by handle; a handle with no person stays as it is."""
    if not handles:
        return {}
    rows = session.exec(select(Person).where(col(Person.handle).in_(sorted(handles))))
    found = {p.handle: p.name for p in rows}
    return {h: found.get(h, h) for h in handles}


def _adoption(
    items: list[EvidenceItem], names: dict[str, str],
) -> AdoptionPublic | None:
    """The latest participation and publication evidence: the later record supersedes an
    earlier one of the same stage kind (a reopened stage), nothing else is merged."""
    participations = [e for e in items if e.kind == "public_participation"]
    publications = [e for e in items if e.kind == "publication"]
    if not participations and not publications:
        return None
    participation = participations[-1] if participations else None
    publication = publications[-1] if publications else None
    adoption = AdoptionPublic(superseded_evidence_ids=sorted(
        e.id or 0 for e in participations[:-1] + publications[:-1]))
    if participation is not None:
        payload = participation.payload
        adoption.opinions_received = payload.get("opinions_received")
        adoption.statement = payload.get("adoption_statement")
        adoption.answers = [OpinionAnswerPublic(
            cluster=r.get("cluster", ""), opinions=r.get("opinions", 0),
            response=r.get("response", ""), reason=r.get("reason", ""),
        ) for r in payload.get("responses", [])]
        adoption.participation_evidence_id = participation.id
        adoption.recorded_by_name = names.get(participation.recorded_by)
        adoption.recorded_at = participation.recorded_at
    if publication is not None:
        adoption.explanation = publication.payload.get("adoption_explanation")
        adoption.expert_explanation = publication.payload.get("expert_adoption_explanation")
        adoption.published_on = publication.payload.get("published_on")
    return adoption


def case_detail(session: Session, *, case_id: str, now: datetime) -> CaseDetailPublic:
    """Everything public about one case; NotFound for an unknown id."""
    case = get_case(session, case_id)
    summary = _case_summary(session, case, now)
    titles = {s.key: s.title for s in summary["stages"]}
    items = list(session.exec(select(EvidenceItem).where(EvidenceItem.case_id == case.id)
                              .order_by(col(EvidenceItem.id))))
    decision_row = session.exec(select(Decision).where(Decision.case_id == case.id)).first()
    names = display_names(session, {e.recorded_by for e in items}
                          | ({decision_row.decided_by} if decision_row else set()))
    evidence = [
        EvidenceDigestPublic(
            id=e.id or 0, stage_key=e.stage_key, stage_title=titles.get(e.stage_key, e.stage_key),
            kind=e.kind, recorded_by=e.recorded_by, recorded_by_name=names[e.recorded_by],
            recorded_at=e.recorded_at, sha256=e.payload_sha256,
            documents=list(e.payload.get("documents", [])),
        )
        for e in items
    ]
    drafts = [DraftPublic(version=d.version, title=d.title, text=d.text, sha256=d.sha256,
                          created_at=d.created_at, reason=d.reason)
              for d in session.exec(select(DraftVersion).where(DraftVersion.case_id == case.id)
                                    .order_by(col(DraftVersion.version)))]
    decision = decision_row and DecisionPublic(
        outcome=decision_row.outcome, text=decision_row.text, decided_by=decision_row.decided_by,
        decided_by_name=names[decision_row.decided_by], decided_on=decision_row.decided_on,
        recorded_at=decision_row.recorded_at,
    )
    notices = public_notices(session, case_id=case.id, limit=200)
    comments = comments_for_case(session, case_id=case.id)
    return CaseDetailPublic(
        **summary, summary=case.summary, undertaking_unit=case.undertaking_unit,
        legal_basis=list(case.legal_basis), drafts=drafts, decision=decision or None,
        notices=notices, evidence=evidence, adoption=_adoption(items, names),
        comment_count=comments.count,
        comments=comments.comments,
        timeline=_timeline(case, summary["stages"], drafts, decision or None, notices,
                           summary["comment_window"]),
    )


def _timeline(
    case: DecisionCase, stages: list[StagePublic], drafts: list[DraftPublic],
    decision: DecisionPublic | None, notices: list[NoticePublic],
    window: CommentWindowPublic | None,
) -> list[TimelineEntry]:
    entries = [TimelineEntry(at=case.opened_at, what="case opened", event="case_opened")]
    entries += [TimelineEntry(at=d.created_at, what=f"draft version {d.version}: {d.title}",
                              event="draft_revised",
                              params={"version": str(d.version), "title": d.title})
                for d in drafts if d.version > 1]
    for s in stages:
        stage = {"stage_key": s.key, "stage_kind": s.kind, "stage": s.title}
        if s.opened_at:
            entries.append(TimelineEntry(at=s.opened_at, what=f"{s.title}: opened",
                                         event="stage_opened", params=stage))
        if s.completed_at:
            entries.append(TimelineEntry(at=s.completed_at, what=f"{s.title}: completed",
                                         event="stage_completed", params=stage))
    if window is not None:
        entries.append(TimelineEntry(at=window.opens_at, what="comment window opened",
                                     event="window_opened"))
        if window.closed_at is not None:
            entries.append(TimelineEntry(at=window.closed_at, what="comment window closed",
                                         event="window_closed"))
    if decision is not None:
        entries.append(TimelineEntry(at=decision.recorded_at,
                                     what=f"decision recorded: {decision.outcome}",
                                     event="decision_recorded",
                                     params={"outcome": decision.outcome}))
    entries += [TimelineEntry(at=n.created_at, what=f"notice: {n.subject}", event="notice",
                              params={"kind": n.kind, "subject": n.subject}) for n in notices]
    return sorted(entries, key=lambda e: e.at)
