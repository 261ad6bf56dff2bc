"""Announcing a hearing (Decree 713 Art. 16): an authenticated, logged action whose
materials dueprocess delivers itself, so the hearing gate measures witnessed events.

The case's assigned participation officer announces it while public participation is
open. In one transaction: the hearing row (append-only), a `hearing.announced` case event
(logged), the public notice publishing the selection method and the participant list,
and the materials notice to the participants' own channels. Each participant's channel
is an Apprise URL, encrypted at rest like a subscriber's and never published; its
delivery record (`NoticeDelivery.delivered_at`) is the witnessed moment the materials
reached that participant (`PP-HEARING-MATERIALS`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlmodel import Session, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import encrypt, url_key
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused, schema_problems
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.services.case_clock import clock_offsets
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.identity import identity_problems
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_notify_settings
from models.hearings import Hearing, HearingCreate, materials_dedupe_key
from models.notices import Subscriber
from models.procedure import ProcedureDefinition
from models.stages import StageStatus
from notifications import content
from notifications.audiences import PUBLIC, case_tag
from notifications.queue import queue_notice
from notifications.transport.channels import InvalidChannel, check_subscriber_url, privacy_form

ARTICLE = "Art. 16"


def read_hearing(data: object) -> HearingCreate:
    """Validate a hearing file's content; the error names each field and its rule."""
    try:
        return HearingCreate.model_validate(data)
    except ValidationError as exc:
        problems = schema_problems(exc.errors())  # type: ignore[arg-type]
        raise DueProcessError("; ".join(p.message for p in problems)) from None


def announce_hearing_as(
    *, case_id: str, request: HearingCreate, actor: str, token: str | None, channel: str,
) -> Hearing:
    """Announce a hearing of `case_id`; `Refused` names the rule when it may not be."""
    with audited(case_id=case_id, action="announce_hearing", stage_key=None, person=actor,
                 channel=channel), session_scope() as session:
        real_now = system_now()
        case = get_case(session, case_id, lock=True)
        problems = identity_problems(session, handle=actor, token=token, channel=channel)
        if problems:
            raise Refused(problems)
        now = real_now + clock_offsets(session, {case_id}).get(case_id, timedelta(0))
        procedure = ProcedureDefinition.model_validate(case.procedure)
        stage = next((s for s in procedure.stages if s.kind == "public_participation"), None)
        if stage is None:
            raise Refused([Unmet("HEARING-ANNOUNCER", ARTICLE, f"procedure '{procedure.id}' "
                                 "has no public participation stage to hold a hearing in")])
        facts = load_facts(session, case, also=[actor])
        if actor not in facts.assignments.get(stage.key, frozenset()):
            problems.append(Unmet("HEARING-ANNOUNCER", ARTICLE, f"'{actor}' may not announce "
                                  "a hearing: only the participation officer assigned to "
                                  f"stage '{stage.key}' may"))
        if facts.status(stage.key) is not StageStatus.OPEN:
            problems.append(Unmet("HEARING-ANNOUNCER", ARTICLE, f"public participation "
                                  f"({stage.key}) is not open: a hearing is announced during it"))
        days = int(getattr(stage.gate_params, "hearing_notice_days", 7))
        earliest = facts.local_date(now) + timedelta(days=days)
        if request.held_on < earliest:
            problems.append(Unmet("PP-HEARING-MATERIALS", ARTICLE, f"held_on: {request.held_on} "
                                  f"is less than {days} days away (the case's date is "
                                  f"{facts.local_date(now)}): the materials must reach "
                                  f"participants {days} days before; earliest {earliest}"))
        problems += _channel_problems(request)
        if problems:
            raise Refused(problems)
        hearing = Hearing(
            case_id=case.id, stage_key=stage.key, held_on=request.held_on,
            place=request.place, selection_method=request.selection_method,
            participants=[p.name for p in request.participants], announced_by=actor,
            announced_at=now)
        session.add(hearing)
        session.flush()
        for index, participant in enumerate(request.participants):
            _participant_channel(session, index=index, url=participant.contact,
                                 tag=hearing.audience, confirmed_at=real_now)
        publish(session, CaseEvent(
            case_id=case.id, kind="hearing.announced", occurred_at=now, stage_key=stage.key,
            person=actor, subject_id=hearing.id,
            body={"held_on": hearing.held_on.isoformat(), "place": hearing.place,
                  "selection_method": hearing.selection_method,
                  "participants": hearing.participants}))
        _queue_notices(session, hearing=hearing)
        return hearing


def _channel_problems(request: HearingCreate) -> list[Unmet]:
    settings = get_notify_settings()
    problems = []
    for index, participant in enumerate(request.participants):
        try:
            check_subscriber_url(participant.contact, schemes=settings.notify_subscriber_schemes,
                                 allow_private=settings.notify_allow_private_targets)
        except InvalidChannel as exc:  # names the scheme or host, never the whole URL
            problems.append(Unmet("HEARING-CHANNEL", ARTICLE,
                                  f"participants.{index}.contact: {exc}"))
    return problems


def _participant_channel(session: Session, *, index: int, url: str, tag: str,
                         confirmed_at: datetime) -> None:
    """The participant's channel, tagged with the hearing: a new confirmed channel, or a
    confirmed subscriber's, which then also receives the materials."""
    plugin = check_subscriber_url(url, schemes=get_notify_settings().notify_subscriber_schemes,
                                  allow_private=get_notify_settings().notify_allow_private_targets)
    canonical = str(plugin.url())
    row = session.exec(select(Subscriber).where(Subscriber.url_key == url_key(canonical))).first()
    if row is None:
        row = Subscriber(url_key=url_key(canonical), url_ciphertext=encrypt(canonical),
                         privacy_url=privacy_form(plugin), tags=[], status="confirmed",
                         confirmed_at=confirmed_at)
    elif row.status != "confirmed":
        raise Refused([Unmet("HEARING-CHANNEL", ARTICLE, f"participants.{index}.contact: "
                             "this address has a pending or withdrawn public subscription; "
                             "give the participant's other address")])
    row.tags = [*row.tags, tag]
    session.add(row)


def _queue_notices(session: Session, *, hearing: Hearing) -> None:
    case = get_case(session, hearing.case_id)
    details = {"held_on": hearing.held_on.isoformat(), "place": hearing.place,
               "selection_method": hearing.selection_method,
               "participants": hearing.participants}
    queue_notice(
        session, case_id=case.id, kind="hearing", audience=[PUBLIC, case_tag(case.id)],
        public=True, context={**content.case_context(case), "hearing": details},
        dedupe_key=f"{case.id}:hearing:{hearing.id}", now=hearing.announced_at)
    draft = content.latest_draft(session, case.id)
    queue_notice(
        session, case_id=case.id, kind="hearing_materials", audience=[hearing.audience],
        public=False, context={**content.case_context(case), "hearing": details,
                               "draft": {"title": draft.title, "text": draft.text,
                                         "version": draft.version, "sha256": draft.sha256}},
        dedupe_key=materials_dedupe_key(hearing), now=hearing.announced_at)
