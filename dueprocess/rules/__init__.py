"""Gate rules: the procedure law in plain Python, with no Prefect and no database.

A gate looks at a snapshot of the case (`CaseFacts`) and a clock, and answers open or
blocked with every unmet requirement named. New rules are added with the `evidence_rule`
and `gate_rule` decorators; importing this package registers all of them.
"""

from dueprocess.rules import decision, expert, legality, participation, publication, risk
from dueprocess.rules.engine import (
    GateResult,
    Unmet,
    admission_problems,
    evaluate_case,
    evaluate_gate,
    evidence_problems,
    ready_stages,
)
from dueprocess.rules.facts import CaseFacts, EvidenceFact, StageFacts

__all__ = [
    "CaseFacts",
    "EvidenceFact",
    "GateResult",
    "StageFacts",
    "Unmet",
    "admission_problems",
    "decision",
    "evaluate_case",
    "evaluate_gate",
    "evidence_problems",
    "expert",
    "legality",
    "participation",
    "publication",
    "ready_stages",
    "risk",
]
