"""What dueprocess already holds for a stage's evidence, so that no reviewer types it.

For the person acting and the stage, from the case database: names and units from the
register, dates from the case clock, the comment window and the hearing dueprocess
published, the opinions the portal received and their campaign clusters (each to be
answered), and the decision organ's roster with its quorum. The server fills these in
itself when the form is posted: a value shown read-only is never read back from the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.rules.facts import CaseFacts
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.settings import get_notify_settings
from models.evidence_titles import N_
from models.notices import Comment, CommentCluster
from models.people import Role

REGISTER = N_("from the register")
CASE_CLOCK = N_("the date of recording, on the case clock")
STAGE_OPENED = N_("the day dueprocess sent the review package")
WINDOW = N_("from the comment window dueprocess published")
HEARING = N_("from the hearing dueprocess announced")
PORTAL = N_("the case page where dueprocess published the call")
LISTED_COMMENTS = 200  # unique comments answered one by one; the rest in one row
EXCERPT = 300


@dataclass(frozen=True)
class Known:
    """A value dueprocess holds: put into the evidence by the server, shown read-only."""

    name: str
    value: Any  # as the evidence holds it (JSON)
    shown: str
    source: str  # msgid: where dueprocess holds it


@dataclass(frozen=True)
class OpinionRow:
    """One campaign cluster, or one comment the portal received, to be answered."""

    cluster: str  # the response's `cluster` text: names the campaign key or the receipt
    opinions: int
    excerpt: str


@dataclass(frozen=True)
class Member:
    handle: str
    name: str
    head: bool


@dataclass(frozen=True)
class Roster:
    """The decision organ's members, and how many must be present (Art. 30)."""

    members: tuple[Member, ...]
    quorum: int


@dataclass(frozen=True)
class Prefill:
    known: dict[str, Known] = field(default_factory=dict)
    opinions: tuple[OpinionRow, ...] = ()  # public participation: rows to answer
    hearing: tuple[str, ...] | None = None  # participants of the hearing announced
    roster: Roster | None = None  # collective decision
    signing: bool = False  # expert opinion: signed in the browser, or a sealed scan

    @property
    def built(self) -> frozenset[str]:
        """Evidence fields the server builds from known data and the answers beside it."""
        names = set(self.known)
        if self.opinions:
            names.add("opinions_received")
        if self.hearing is not None:
            names.add("hearing")
        if self.roster is not None:
            names |= {"members_present", "statements", "dissent", "head"}
        if self.signing:
            names |= {"signature_ed25519", "sealed_scan_sha256"}
        return frozenset(names)


def _known(name: str, value: Any, source: str, shown: str | None = None) -> Known:
    return Known(name, value, str(value) if shown is None else shown, source)


def _opinion_rows(session: Session, case_id: str) -> tuple[OpinionRow, ...]:
    """Each campaign cluster with its size and first text, then each other comment."""
    rows = session.exec(
        select(Comment.receipt_number, Comment.body, CommentCluster.cluster_key)
        .join(CommentCluster, col(CommentCluster.comment_id) == col(Comment.id), isouter=True)
        .where(Comment.case_id == case_id).order_by(col(Comment.id))
    ).all()
    clusters: dict[str, list[str]] = {}
    unique: list[tuple[str, str]] = []
    for receipt, body, key in rows:
        if key is not None:
            clusters.setdefault(key, []).append(body)
        else:
            unique.append((receipt, body))
    out = [OpinionRow(f"{key}: {bodies[0][:EXCERPT]}", len(bodies), bodies[0][:EXCERPT])
           for key, bodies in sorted(clusters.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    out += [OpinionRow(f"{receipt}: {body[:EXCERPT]}", 1, body[:EXCERPT])
            for receipt, body in unique[:LISTED_COMMENTS]]
    rest = unique[LISTED_COMMENTS:]
    if rest:
        out.append(OpinionRow(f"{rest[0][0]} … {rest[-1][0]}", len(rest), ""))
    return tuple(out)


def _participation(session: Session, facts: CaseFacts) -> Prefill:
    known: list[Known] = []
    window = facts.comment_window
    if window is not None:
        opens, closes = facts.local_date(window.opens_at), facts.last_day(window.closes_at)
        reason = (window.shortened_reason or "").strip()
        known += [_known("call_published_on", opens.isoformat(), WINDOW),
                  _known("window_opens", opens.isoformat(), WINDOW),
                  _known("window_closes", closes.isoformat(), WINDOW),
                  _known("call_url", f"{get_notify_settings().portal_url.rstrip('/')}"
                                     f"/cases/{facts.case_id}", PORTAL),
                  _known("shortened_reason_published", bool(reason), WINDOW,
                         shown=reason or "—")]
        if reason:
            known.append(_known("shortened_reason", reason, WINDOW))
    hearing = facts.hearings[-1] if facts.hearings else None
    if hearing is not None:
        announced = facts.local_date(hearing.announced_at).isoformat()
        reached = (None if hearing.last_delivered_at is None
                   else facts.local_date(hearing.last_delivered_at).isoformat())
        value = {"held_on": hearing.held_on.isoformat(),
                 "selection_method_published_on": announced,
                 "participants_published_on": announced, "materials_sent_on": reached,
                 "participants": list(hearing.participants)}
        shown = f"{hearing.held_on.isoformat()} · {', '.join(hearing.participants)}"
        known.append(_known("hearing", value, HEARING, shown=shown))
    return Prefill(known={k.name: k for k in known},
                   opinions=_opinion_rows(session, facts.case_id),
                   hearing=None if hearing is None else tuple(hearing.participants))


def _roster(facts: CaseFacts, fraction: float) -> Roster:
    # The head speaks last and decides (Art. 30, rule CD-HEAD-LAST): listed last.
    members = sorted(facts.organ_members.values(), key=lambda p: (p.role == Role.ORGAN_HEAD,
                                                                  p.name, p.handle))
    return Roster(members=tuple(Member(p.handle, p.name, p.role == Role.ORGAN_HEAD)
                                for p in members),
                  quorum=int(len(members) * fraction) + 1)


# The date of the act is the date it is recorded in the inbox: the case clock's.
RECORDING_DATES = {"expert_review": "signed_on", "risk_assessment": "assessed_on",
                   "legality_review": "issued_on", "assignment": "assigned_on",
                   "recommendation_reply": "replied_on", "decision_evaluation": "concluded_on"}


def _day(name: str, value: date, source: str = CASE_CLOCK) -> Known:
    return Known(name, value.isoformat(), value.isoformat(), source)


def _for_kind(session: Session, facts: CaseFacts, *, kind: str, stage_key: str,
              handle: str, today: date) -> Prefill:
    known: list[Known] = []
    person = facts.people.get(handle)
    if kind == "expert_review" and person is not None:
        known.append(_known("expert_name", person.name, REGISTER))
        known += [_known(name, value, REGISTER) for name, value in (
            ("affiliation", person.unit), ("field_of_expertise", person.expertise)) if value]
    opened = facts.stage_opened_on(stage_key)
    if kind == "legality_review" and opened is not None:
        known.append(_day("received_on", opened, STAGE_OPENED))
    if kind in RECORDING_DATES:  # shown after who records it
        known.append(_day(RECORDING_DATES[kind], today))
    if kind == "public_participation":
        return _participation(session, facts)
    if kind == "collective_decision":
        fraction = facts.procedure.stage(stage_key).gate_params.quorum_fraction  # type: ignore[attr-defined]
        head = facts.organ_head  # None when the register has none, or several
        if head is not None:
            known.append(_known("head", head.handle, REGISTER, shown=head.name))
        return Prefill(known={k.name: k for k in known}, roster=_roster(facts, fraction))
    return Prefill(known={k.name: k for k in known}, signing=kind == "expert_review")


def prefill(*, case_id: str, stage_key: str, handle: str) -> Prefill:
    """What dueprocess holds for `handle`'s evidence of the stage (nothing for an unknown
    stage: the recording function names that)."""
    with session_scope() as session:
        case = get_case(session, case_id)
        facts = load_facts(session, case, also=[handle])
        if stage_key not in facts.procedure.stage_keys:
            return Prefill()
        kind = facts.procedure.stage(stage_key).stage_kind.name
        today = facts.local_date(case_now(session, case_id))
        return _for_kind(session, facts, kind=kind, stage_key=stage_key, handle=handle,
                         today=today)
