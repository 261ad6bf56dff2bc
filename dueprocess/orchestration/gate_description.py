"""The description shown above a gate's resume form in the Prefect UI (markdown).

It tells the reviewer what to do: which stages are open, who is assigned to each and by
when, what an open stage still lacks, why each other stage is blocked (rule and article),
and, when the previous submission at this case's gate was refused, the reasons.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.rules import evaluate_gate
from dueprocess.rules.facts import CaseFacts
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.escalations import stage_deadline
from dueprocess.settings import get_ops_settings
from models.evidence import GateWait, Refusal
from models.stages import Stage, StageStatus


def _who(facts: CaseFacts, stage_key: str) -> str:
    handles = sorted(facts.assignments.get(stage_key, ()))
    if not handles:
        return "no one assigned yet"
    people = facts.people
    return ", ".join(f"{people[h].name} (`{h}`)" if h in people else f"`{h}`" for h in handles)


def _last_refusal(session: Session, case_id: str) -> Refusal | None:
    """The refusal of the previous submission at this case's gate, if it was refused."""
    previous = session.exec(
        select(GateWait).where(GateWait.case_id == case_id,
                               col(GateWait.consumed_at).is_not(None))
        .order_by(col(GateWait.seq).desc())
    ).first()
    if previous is None or previous.refusal_id is None:
        return None
    return session.get(Refusal, previous.refusal_id)


def describe_gate(case_id: str, stage_keys: list[str], *, now: datetime | None = None) -> str:
    settings = get_ops_settings()
    with session_scope() as session:
        case = get_case(session, case_id)
        now = now or case_now(session, case_id)  # a simulated case's form shows its time
        facts = load_facts(session, case)
        rows = {s.key: s for s in session.exec(select(Stage).where(Stage.case_id == case_id))}
        refusal = _last_refusal(session, case_id)
    procedure = facts.procedure
    lines = [
        f"**Case {case.id}: {case.title}**",
        "",
        "Fill in the section of the stage you are assigned to and your handle, then "
        "submit. The evidence is checked against Decree 713 when the run resumes; a "
        "refusal names the rule, and this form then shows it at the top.",
    ]
    if refusal is not None:
        lines += ["", f"**The last submission was refused** (by "
                  f"`{refusal.submitted_by or '?'}`, {refusal.recorded_at:%Y-%m-%d %H:%M} "
                  "UTC; nothing was stored):"]
        lines += [f"- [{r.get('rule')}, {r.get('article')}] {r.get('message')}"
                  for r in refusal.reasons]
    lines += ["", "**Open stages**"]
    for key in stage_keys:
        stage = procedure.stage(key)
        line = f"- **{stage.title}** ({stage.articles}), assigned: {_who(facts, key)}"
        row = rows.get(key)
        due = (stage_deadline(procedure, row, settings, case_opened_at=case.opened_at)
               if row is not None else None)
        if due is not None:
            line += f"; due {due[0]:%Y-%m-%d} ({due[1]} days from opening)"
        missing = evaluate_gate(facts, key, now).unmet
        if missing:
            line += "; still needs: " + "; ".join(str(u) for u in missing)
        lines.append(line)
    blocked = [
        (stage, evaluate_gate(facts, stage.key, now).unmet) for stage in procedure.stages
        if stage.key not in stage_keys
        and facts.stages[stage.key].status is not StageStatus.COMPLETED
    ]
    if blocked:
        lines += ["", "**Blocked stages** (not in this form)"]
        for stage, unmet in blocked:
            why = "; ".join(str(u) for u in unmet) or "waits for the stages before it"
            lines.append(f"- {stage.title}: {why}")
    return "\n".join(lines)
