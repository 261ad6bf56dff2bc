"""Draft versions: the undertaking unit revises the draft, and the procedure reopens.

Evidence is bound to the draft version current when it was recorded. A revision adds a
version (never edits one) and reopens the stages the procedure definition marks
`reopen_on_revision`: their evidence on older drafts stops counting, and every stage
waiting for them goes back to pending. That is how "not controllable" (Art. 24) and a
legality review's "revise" (Art. 28) send a case back: the draft is revised, and the risk
is reassessed, and the legality review and the decision concern the final draft.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts
from dueprocess.rules.permissions import not_decided, undertaking_official
from dueprocess.services.case_snapshot import load_facts
from models.cases import DecisionCase, DraftRevise, DraftVersion, text_sha256
from models.stages import Stage, StageStatus


def reopened_statuses(facts: CaseFacts) -> dict[str, StageStatus]:
    """The stages a revision moves, with their new status."""
    procedure = facts.procedure
    reopened = {s.key for s in procedure.stages
                if s.reopen_on_revision and facts.status(s.key) is not StageStatus.PENDING}
    affected = set(reopened)
    for key in reopened:
        affected |= procedure.downstream(key)
    moved = {k for k in affected if facts.status(k) is not StageStatus.PENDING}
    return {
        key: StageStatus.PENDING if set(procedure.stage(key).after) & moved else StageStatus.OPEN
        for key in procedure.stage_keys if key in moved
    }


def revise(
    session: Session, *, case: DecisionCase, revision: DraftRevise, revised_by: str,
    now: datetime,
) -> DraftVersion:
    """Store the next draft version and reopen the procedure; `Refused` names the rule."""
    facts = load_facts(session, case, also=[revised_by])
    problems = undertaking_official(facts, revised_by, "revise the draft") + not_decided(facts)
    current = facts.current_draft
    sha256 = text_sha256(revision.text)
    if current is not None and current.sha256 == sha256:
        problems.append(Unmet("DRAFT-CHANGED", "Art. 24, 28",
                              f"the revised text is identical to draft v{current.version}"))
    if problems:
        raise Refused(problems)
    draft = DraftVersion(
        case_id=case.id, version=facts.draft_version + 1, title=revision.title,
        text=revision.text, sha256=sha256, created_at=now, created_by=revised_by,
        reason=revision.reason,
    )
    session.add(draft)
    session.flush()
    moves = reopened_statuses(facts)
    publish(session, CaseEvent(
        case_id=case.id, kind="draft.revised", occurred_at=now, person=revised_by,
        subject_id=draft.id, digest=sha256,
        body={"version": draft.version, "reason": revision.reason,
              "reopened": sorted(moves)},
    ))
    for row in session.exec(select(Stage).where(Stage.case_id == case.id)):
        if row.key in moves:
            before, row.status = row.status, moves[row.key]
            row.opened_at = now if row.status is StageStatus.OPEN else None
            row.completed_at = None
            session.add(row)
            publish(session, CaseEvent(
                case_id=case.id, kind="stage.reopened", occurred_at=now, stage_key=row.key,
                person=revised_by,
                body={"from": before.value, "to": row.status.value,
                      "draft_version": draft.version},
            ))
    session.flush()
    return draft
