"""Gate rules: the procedure law in plain Python, with no Prefect and no database.

A gate looks at a snapshot of the case (`CaseFacts`) and a clock, and answers open or
blocked with every unmet requirement named by rule id and article. New rules are added
with the `admission_rule`, `evidence_rule`, `gate_rule` and `flag_rule` decorators;
importing this package registers all of them. `docs/compliance.md` maps each rule to
its article and its tests.
"""

from dueprocess.rules import (
    archive,
    decision,
    evaluation,
    expert,
    filing,
    initiation,
    legality,
    participation,
    publication,
    recommendation,
    risk,
    witnessed,
)
from dueprocess.rules.engine import (
    RULES,
    GateResult,
    Rule,
    Unmet,
    admission_problems,
    assignment_problems,
    case_flags,
    case_problems,
    evaluate_case,
    evaluate_gate,
    evidence_problems,
    ready_stages,
    sent_back,
)
from dueprocess.rules.facts import CaseFacts, EvidenceFact, StageFacts

__all__ = [
    "RULES",
    "CaseFacts",
    "EvidenceFact",
    "GateResult",
    "Rule",
    "StageFacts",
    "Unmet",
    "admission_problems",
    "archive",
    "assignment_problems",
    "case_flags",
    "case_problems",
    "decision",
    "evaluate_case",
    "evaluate_gate",
    "evaluation",
    "evidence_problems",
    "expert",
    "filing",
    "initiation",
    "legality",
    "participation",
    "publication",
    "ready_stages",
    "recommendation",
    "risk",
    "sent_back",
    "witnessed",
]
