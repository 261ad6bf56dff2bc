"""What follows a decision, Decree 713 Art. 36–37: the evaluation after the decision, and
adjusting or stopping the decision through the procedure again.

Each is a case of its own, opened by an official from a case file like any other, linked
to the decided case it follows by a `FollowUp` row stored in the opening's transaction
(a record on the followed case's follow-up chain). An evaluation's draft is the decision
under evaluation, made from what dueprocess stored, never typed again; its procedure has
a `decision_evaluation` stage (the bundled `decision-evaluation`), and no unit that did
the main assessment before the decision (its expert review, its risk assessment) may be
charged with it (Art. 36 ¶2). An adjustment or a stop runs a major-decision procedure:
the whole of Decree 713 again (Art. 37). When it is decided with approval, the decision
it follows stands adjusted or stopped (`standing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_opening import open_case_as
from dueprocess.services.cases import get_case, validate_case_request
from dueprocess.services.identity import require_official
from dueprocess.services.refusal_audit import audited
from models.cases import CaseCreate, DecisionCase
from models.decisions import Decision
from models.evidence import EvidenceItem
from models.follow_up import EvaluationDue, FollowUp, FollowUpKind, StartedBy, follow_up_chain
from models.implementation import ImplementationItem
from models.people import Person
from models.procedure import ProcedureDefinition, ProcedureError, load_procedure
from notifications.public import queue_item_event

EVALUATION_STAGE = "decision_evaluation"
ASSESSING_STAGES = ("expert_review", "risk_assessment")  # Art. 36 ¶2: the main assessment
ART_36, ART_37 = "Decree 713 Art. 36", "Decree 713 Art. 37"


def _refused(rule: str, article: str, message: str) -> Refused:
    return Refused([Unmet(rule, article, message)])


def decision_of(session: Session, case_id: str) -> Decision:
    """The decision a follow-up follows; `Refused` (FOLLOW-DECIDED) if there is none."""
    get_case(session, case_id)  # NotFound names an unknown case
    decision = session.exec(select(Decision).where(Decision.case_id == case_id)).first()
    if decision is None:
        raise _refused("FOLLOW-DECIDED", ART_37, f"case {case_id} has no decision yet: only a "
                       "decision taken can be evaluated, adjusted or stopped")
    return decision


def _procedure(case_file: dict[str, Any], default: str) -> ProcedureDefinition:
    try:
        return load_procedure(str(case_file.get("procedure") or default))
    except ProcedureError as exc:
        raise _refused("FOLLOW-PROCEDURE", "procedure", f"procedure: {exc}") from None


def assessing_units(session: Session, case_id: str) -> set[str]:
    """Units of the people who recorded the decided case's expert review and risk
    assessment: the main assessment before the decision."""
    case = get_case(session, case_id)
    procedure = ProcedureDefinition.model_validate(case.procedure)
    keys = [s.key for kind in ASSESSING_STAGES for s in procedure.stages_of_kind(kind)]
    units = session.exec(
        select(Person.unit).join(EvidenceItem, col(EvidenceItem.recorded_by) == Person.handle)
        .where(EvidenceItem.case_id == case_id, col(EvidenceItem.stage_key).in_(keys)))
    return {unit for unit in units if unit}


def _evaluator_units(session: Session, case_file: dict[str, Any],
                     procedure: ProcedureDefinition) -> dict[str, str]:
    listed = {str(p.get("handle")): str(p.get("unit") or "")
              for p in case_file.get("people") or [] if isinstance(p, dict)}
    assignments = case_file.get("assignments") or {}
    handles = {str(h) for s in procedure.stages_of_kind(EVALUATION_STAGE)
               for h in (assignments.get(s.key) or [])}
    units = {}
    for handle in sorted(handles):
        person = session.exec(select(Person).where(Person.handle == handle)).first()
        units[handle] = person.unit if person is not None else listed.get(handle, "")
    return units


def _evaluation_draft(case: DecisionCase, decision: Decision) -> dict[str, str]:
    return {"title": f"Evaluation of the decision of {case.id}: {case.title}"[:300],
            "text": f"Decision of case {case.id}, \"{case.title}\" ({case.organ}), taken on "
                    f"{decision.decided_on} by {decision.decided_by}: {decision.outcome}.\n\n"
                    f"{decision.text}"}


def _not_before_decision(request: CaseCreate, decision: Decision) -> None:
    """A follow-up opens after the decision it follows, on the clock it will run on."""
    opens = request.simulated_clock.starts_at if request.simulated_clock else system_now()
    if opens < decision.recorded_at:
        raise _refused("FOLLOW-AFTER-DECISION", ART_37, f"the case would open at "
                       f"{opens.isoformat()}, before dueprocess recorded the decision it "
                       f"follows ({decision.recorded_at.isoformat()})")


def _link(follows: str, kind: FollowUpKind, started_by: str, actor: str) -> Any:
    def store(session: Session, case: DecisionCase) -> None:
        session.add(FollowUp(case_id=case.id, follows=follows, kind=kind.value,
                             started_by=started_by, opened_by=actor,
                             opened_at=system_now()))
    return store


def open_evaluation_as(*, case_id: str, case_file: dict[str, Any], token: str | None,
                       channel: str) -> DecisionCase:
    """Open the evaluation of `case_id`'s decision (Art. 36)."""
    actor = str(case_file.get("opened_by") or "")
    with audited(case_id=follow_up_chain(case_id), action="open_evaluation", stage_key=None,
                 person=actor or None, channel=channel), session_scope() as session:
        require_official(session, actor=actor, token=token, channel=channel, rules=ART_36,
                         rule="FOLLOW-OFFICIAL", may="open an evaluation")
        given = [name for name in ("title", "draft") if name in case_file]
        if given:
            raise _refused("FOLLOW-FILE", ART_36, f"{', '.join(given)}: an evaluation's "
                           "draft is the decision under evaluation; leave it out")
        decision = decision_of(session, case_id)
        procedure = _procedure(case_file, "decision-evaluation")
        if not procedure.stages_of_kind(EVALUATION_STAGE):
            raise _refused("EVAL-PROCEDURE", ART_36, f"procedure '{procedure.id}' has no "
                           f"{EVALUATION_STAGE} stage: use decision-evaluation")
        excluded = assessing_units(session, case_id)
        for handle, unit in _evaluator_units(session, case_file, procedure).items():
            if unit in excluded:
                raise _refused("EVAL-INDEPENDENT", ART_36, f"'{handle}' ({unit}) may not "
                               f"evaluate: {unit} did the main assessment before the decision")
        due = session.exec(select(EvaluationDue).where(EvaluationDue.case_id == case_id)).first()
        draft = _evaluation_draft(get_case(session, case_id), decision)
        request = validate_case_request({**case_file, "procedure": procedure.id,
                                         "title": draft["title"], "draft": draft},
                                        source="evaluation case file")
        _not_before_decision(request, decision)
    started_by = due.reason if due is not None else StartedBy.ORGAN.value
    return open_case_as(request=request, token=token, channel=channel,
                        also=_link(case_id, FollowUpKind.EVALUATION, started_by, actor))


def open_adjustment_as(*, case_id: str, kind: FollowUpKind, case_file: dict[str, Any],
                       token: str | None, channel: str) -> DecisionCase:
    """Open the adjustment or the stop of `case_id`'s decision, through the whole
    procedure again (Art. 37); the case file brings the new draft."""
    assert kind is not FollowUpKind.EVALUATION
    actor = str(case_file.get("opened_by") or "")
    with audited(case_id=follow_up_chain(case_id), action=f"open_{kind.value}",
                 stage_key=None, person=actor or None, channel=channel), \
            session_scope() as session:
        require_official(session, actor=actor, token=token, channel=channel, rules=ART_37,
                         rule="FOLLOW-OFFICIAL", may=f"open a {kind.value} of a decision")
        decision = decision_of(session, case_id)
        procedure = _procedure(case_file, "decree-713")
        if not procedure.major_decision:
            raise _refused("ADJUST-FULL-PROCEDURE", ART_37, f"procedure '{procedure.id}' is "
                           "not a major-decision procedure: a major adjustment or a stop "
                           "goes through the Decree 713 procedure again")
        request = validate_case_request({**case_file, "procedure": procedure.id},
                                        source=f"{kind.value} case file")
        _not_before_decision(request, decision)
    link = _link(case_id, kind, StartedBy.ORGAN.value, actor)

    def link_and_tell(session: Session, case: DecisionCase) -> None:
        link(session, case)
        _tell_followers(session, case_id=case_id, kind=kind, opened=case)

    # One transaction: the case is opened, linked and its items' followers told, or none.
    return open_case_as(request=request, token=token, channel=channel, also=link_and_tell)


def _tell_followers(session: Session, *, case_id: str, kind: FollowUpKind,
                    opened: DecisionCase) -> None:
    """The followers of each item of the decision hear that it is being adjusted or
    stopped, with the case that does it."""
    now = case_now(session, case_id)  # the notice is dated on the items' case's clock
    for item in session.exec(select(ImplementationItem)
                             .where(ImplementationItem.case_id == case_id)):
        queue_item_event(session, item=item, event="stop" if kind is FollowUpKind.STOP
                         else "adjustment", summary=f"{opened.id}: {opened.title}",
                         subject_id=opened.id, now=now)


@dataclass(frozen=True)
class FollowUpView:
    case_id: str
    kind: str
    started_by: str
    status: str
    outcome: str | None  # the follow-up case's decision: a conclusion, or approve/reject


def follow_ups(session: Session, case_id: str) -> list[FollowUpView]:
    rows = session.exec(
        select(FollowUp, DecisionCase, Decision)
        .join(DecisionCase, col(DecisionCase.id) == FollowUp.case_id)
        .join(Decision, col(Decision.case_id) == FollowUp.case_id, isouter=True)
        .where(FollowUp.follows == case_id).order_by(col(FollowUp.id))).all()
    return [FollowUpView(f.case_id, f.kind, f.started_by, case.status.value,
                         decision.outcome if decision is not None else None)
            for f, case, decision in rows]


def standing(views: list[FollowUpView]) -> tuple[str, str | None]:
    """Whether the decision is in force, or adjusted or stopped by which approved case."""
    for view in reversed(views):
        if view.kind != FollowUpKind.EVALUATION and view.outcome == "approve":
            return ("adjusted" if view.kind == FollowUpKind.ADJUSTMENT else "stopped",
                    view.case_id)
    return "in force", None

