"""The description shown above a gate's resume form in the Prefect UI (markdown).

It tells the reviewer what to do: which stages are open, who is assigned to each and by
when, what an open stage still lacks, why each other stage is blocked (rule and article),
and, when the previous submission at this case's gate was refused, the reasons. It reads
in the form's language and Beijing time, as the inbox does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import GNUTranslations

from sqlmodel import Session, col, select

from dueprocess.clock import zoned_time
from dueprocess.db import session_scope
from dueprocess.i18n import Language, translations
from dueprocess.i18n.stages import cited, stage_name
from dueprocess.rules import evaluate_gate
from dueprocess.rules.facts import CaseFacts
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.escalations import stage_deadline
from dueprocess.settings import (
    get_notify_settings,
    get_ops_settings,
    get_presentation_settings,
)
from models.evidence import GateWait, Refusal
from models.stages import Stage, StageStatus


def _who(facts: CaseFacts, stage_key: str, t: GNUTranslations) -> str:
    handles = sorted(facts.assignments.get(stage_key, ()))
    if not handles:
        return t.gettext("no one assigned yet")
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


def describe_gate(case_id: str, stage_keys: list[str], *, now: datetime | None = None,
                  language: Language | None = None) -> str:
    """The markdown above the form, in `language` (default: the form's, zh-CN) and the
    portal's time zone (Beijing time). The rules' own reasons are quoted as they give
    them, with their rule and article."""
    language = language or get_notify_settings().notify_language
    t = translations(language)
    zone = get_presentation_settings().portal_timezone
    settings = get_ops_settings()
    with session_scope() as session:
        case = get_case(session, case_id)
        now = now or case_now(session, case_id)  # a simulated case's form shows its time
        facts = load_facts(session, case)
        rows = {s.key: s for s in session.exec(select(Stage).where(Stage.case_id == case_id))}
        refusal = _last_refusal(session, case_id)
    procedure = facts.procedure
    lines = [
        "**" + t.gettext("Case {case}: {title}").format(case=case.id, title=case.title) + "**",
        "",
        t.gettext("Fill in the section of the stage you are assigned to and your handle, "
                  "then submit. The evidence is checked against Decree 713 when the run "
                  "resumes; a refusal names the rule, and this form then shows it at the "
                  "top."),
    ]
    if refusal is not None:
        lines += ["", t.gettext("**The last submission was refused** (by {who}, {when}; "
                                "nothing was stored):").format(
            who=f"`{refusal.submitted_by or '?'}`",
            when=zoned_time(_aware(refusal.recorded_at), zone, language))]
        lines += [f"- [{r.get('rule')}, {r.get('article')}] {r.get('message')}"
                  for r in refusal.reasons]
    lines += ["", "**" + t.gettext("Open stages") + "**"]
    for key in stage_keys:
        stage = procedure.stage(key)
        line = t.gettext("- **{stage}** ({articles}), assigned: {who}").format(
            stage=stage_name(language, key, stage.title, stage.stage_kind.name),
            articles=cited(language, stage.articles), who=_who(facts, key, t))
        row = rows.get(key)
        due = (stage_deadline(procedure, row, settings, case_opened_at=case.opened_at)
               if row is not None else None)
        if due is not None:
            line += t.gettext("; due {when} ({days} days from opening)").format(
                when=zoned_time(_aware(due[0]), zone, language, end=True), days=due[1])
        missing = evaluate_gate(facts, key, now).unmet
        if missing:
            line += t.gettext("; still needs: ") + "; ".join(str(u) for u in missing)
        lines.append(line)
    blocked = [
        (stage, evaluate_gate(facts, stage.key, now).unmet) for stage in procedure.stages
        if stage.key not in stage_keys
        and facts.stages[stage.key].status is not StageStatus.COMPLETED
    ]
    if blocked:
        lines += ["", "**" + t.gettext("Blocked stages") + "** " + t.gettext("(not in this form)")]
        for stage, unmet in blocked:
            why = ("; ".join(str(u) for u in unmet)
                   or t.gettext("waits for the stages before it"))
            name = stage_name(language, stage.key, stage.title, stage.stage_kind.name)
            lines.append(f"- {name}: {why}")
    return "\n".join(lines)


def _aware(moment: datetime) -> datetime:
    """Stored times are UTC; a naive one (SQLite) is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

