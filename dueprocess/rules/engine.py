"""Evaluate gates: common requirements plus the rules registered for each stage kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from dueprocess.rules.facts import CaseFacts, EvidenceFact
from models.procedure import StageDefinition
from models.stages import StageStatus


@dataclass(frozen=True)
class Unmet:
    """One unmet requirement, named by rule id and the article it enforces."""

    rule: str
    article: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}, {self.article}] {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "article": self.article, "message": self.message}


@dataclass(frozen=True)
class GateResult:
    stage_key: str
    unmet: tuple[Unmet, ...]

    @property
    def open(self) -> bool:
        return not self.unmet


@dataclass(frozen=True)
class RuleContext:
    facts: CaseFacts
    stage: StageDefinition
    now: datetime
    params: Any

    @property
    def evidence(self) -> list[Any]:
        """The intact evidence models the gate judges."""
        current = self.facts.current_evidence(self.stage.key)
        return [item.evidence for item in current if item.evidence is not None]


E = TypeVar("E", bound=BaseModel)
EvidenceCheck = Callable[[Any, RuleContext], Iterable[str]]
GateCheck = Callable[[RuleContext], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    article: str
    summary: str
    check: Callable[..., Iterable[str]]
    on_evidence: bool  # True: judges one submission and refuses it; False: judges the gate


RULES: list[Rule] = []


def evidence_rule(
    *, id: str, kind: str, article: str, summary: str
) -> Callable[[EvidenceCheck], EvidenceCheck]:
    """Register a check of one submission; a problem refuses it before it is stored."""

    def register(check: EvidenceCheck) -> EvidenceCheck:
        RULES.append(Rule(id, kind, article, summary, check, on_evidence=True))
        return check

    return register


def gate_rule(
    *, id: str, kind: str, article: str, summary: str
) -> Callable[[GateCheck], GateCheck]:
    """Register a check of the stage as a whole; a problem keeps its gate blocked."""

    def register(check: GateCheck) -> GateCheck:
        RULES.append(Rule(id, kind, article, summary, check, on_evidence=False))
        return check

    return register


def _context(facts: CaseFacts, stage_key: str, now: datetime) -> RuleContext:
    stage = facts.procedure.stage(stage_key)
    return RuleContext(facts=facts, stage=stage, now=now, params=stage.gate_params)


def _rules_for(kind: str, *, on_evidence: bool) -> Iterator[Rule]:
    return (r for r in RULES if r.kind == kind and r.on_evidence is on_evidence)


def admission_problems(facts: CaseFacts, stage_key: str, recorded_by: str) -> list[Unmet]:
    """Why a person may not record evidence for this stage now (empty: they may)."""
    if stage_key not in facts.procedure.stage_keys:
        known = ", ".join(facts.procedure.stage_keys)
        return [Unmet("STAGE-KNOWN", "procedure", f"unknown stage '{stage_key}' (stages: {known})")]
    stage = facts.procedure.stage(stage_key)
    problems: list[Unmet] = []
    missing = facts.unmet_prerequisites(stage)
    if missing:
        problems.append(Unmet(
            "STAGE-ORDER", stage.articles,
            f"stage '{stage_key}' is not open: prerequisite stages not completed: "
            + ", ".join(missing),
        ))
    elif facts.status(stage_key) is StageStatus.COMPLETED:
        problems.append(Unmet(
            "STAGE-COMPLETED", stage.articles, f"stage '{stage_key}' is already completed"
        ))
    if recorded_by not in facts.assignments.get(stage_key, frozenset()):
        problems.append(Unmet(
            "ASSIGNED-RECORDER", "ASVS 8.2.2",
            f"person '{recorded_by}' is not assigned to stage '{stage_key}'",
        ))
    return problems


def evidence_problems(
    facts: CaseFacts, stage_key: str, evidence: BaseModel, now: datetime
) -> list[Unmet]:
    """Statutory problems with one submission, judged before it is stored."""
    context = _context(facts, stage_key, now)
    return [
        Unmet(rule.id, rule.article, message)
        for rule in _rules_for(context.stage.kind, on_evidence=True)
        for message in rule.check(evidence, context)
    ]


def _gate_unmet(facts: CaseFacts, stage_key: str, now: datetime) -> Iterator[Unmet]:
    context = _context(facts, stage_key, now)
    stage = context.stage
    missing = facts.unmet_prerequisites(stage)
    if missing:
        yield Unmet("STAGE-ORDER", stage.articles,
                    "prerequisite stages not completed: " + ", ".join(missing))
    current: list[EvidenceFact] = facts.current_evidence(stage_key)
    if not current:
        yield Unmet("EVIDENCE-PRESENT", stage.articles, f"no evidence recorded for '{stage.title}'")
        return
    assigned = facts.assignments.get(stage_key, frozenset())
    for item in current:
        if item.recorded_by not in assigned:
            yield Unmet("ASSIGNED-RECORDER", "ASVS 8.2.2",
                        f"evidence #{item.id} was recorded by unassigned '{item.recorded_by}'")
        if item.evidence is None:
            yield Unmet("EVIDENCE-INTEGRITY", "ASVS 16.4.2",
                        f"evidence #{item.id} no longer matches its recorded hash or schema")
            continue
        # Re-checked here as well as at recording: a row edited in the database must not pass.
        for unmet in evidence_problems(facts, stage_key, item.evidence, now):
            yield Unmet(unmet.rule, unmet.article, f"evidence #{item.id}: {unmet.message}")
    for rule in _rules_for(stage.kind, on_evidence=False):
        for message in rule.check(context):
            yield Unmet(rule.id, rule.article, message)


def evaluate_gate(facts: CaseFacts, stage_key: str, now: datetime) -> GateResult:
    return GateResult(stage_key, tuple(_gate_unmet(facts, stage_key, now)))


def evaluate_case(facts: CaseFacts, now: datetime) -> dict[str, GateResult]:
    return {key: evaluate_gate(facts, key, now) for key in facts.procedure.stage_keys}


def ready_stages(facts: CaseFacts) -> list[str]:
    """Pending stages whose prerequisites are all completed."""
    return [
        s.key for s in facts.procedure.stages
        if facts.status(s.key) is StageStatus.PENDING and not facts.unmet_prerequisites(s)
    ]
