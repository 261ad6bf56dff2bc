"""Evaluate gates: common requirements plus the rules registered for each stage kind.

A rule is registered for a stage kind, or for one of two case-wide scopes: `CASE` rules
(the start of the procedure, Art. 10–13) are checked when a case opens and again at the
deciding stage's gate; `CLOSING` rules (the archive, Art. 33) at the gate of every stage
that closes the case. Rules come in four phases:

- admission: who may record for the stage (refuses the submission; re-checked at the gate);
- evidence: one submission (refuses it; re-checked at the gate against stored rows);
- gate: the stage as a whole (keeps it blocked);
- flag: a late duty that is reported but cannot block (an overdue publication must still
  be publishable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from dueprocess.rules.facts import CaseFacts, EvidenceFact
from models.procedure import StageDefinition
from models.stages import StageStatus

CASE = "case"  # scope of the rules on the case as a whole, judged at the decision
CLOSING = "closing"  # scope of the rules judged when the case closes
ANY_STAGE = "any stage"  # scope of evidence rules judging every stage's submissions
STAGE_ARTICLES = "stage articles"  # a rule of every stage cites the articles of the stage


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
    flags: tuple[Unmet, ...] = ()  # late duties: reported, never blocking

    @property
    def open(self) -> bool:
        return not self.unmet


@dataclass(frozen=True)
class RuleContext:
    facts: CaseFacts
    stage: StageDefinition
    now: datetime
    params: Any
    recorder: str | None = None  # who recorded the evidence an evidence rule judges

    @property
    def items(self) -> list[EvidenceFact]:
        """The intact current evidence items the gate judges."""
        return [i for i in self.facts.current_evidence(self.stage.key) if i.evidence is not None]

    @property
    def evidence(self) -> list[Any]:
        """The intact evidence models the gate judges."""
        return [item.evidence for item in self.items]


class Phase(StrEnum):
    ADMISSION = "admission"
    EVIDENCE = "evidence"
    GATE = "gate"
    FLAG = "flag"


AdmissionCheck = Callable[[str, RuleContext], Iterable[str]]
EvidenceCheck = Callable[[Any, RuleContext], Iterable[str]]
GateCheck = Callable[[RuleContext], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # a stage kind, CASE or CLOSING
    article: str
    summary: str
    check: Callable[..., Iterable[str]]
    phase: Phase
    at_assignment: bool = True  # admission rules: also judged when a person is assigned
    sends_back: bool = False  # gate rules: unmet means the draft goes back for revision


RULES: list[Rule] = []

# Requirements the engine itself checks for every stage (id, article, summary).
BUILTIN_RULES: tuple[tuple[str, str, str], ...] = (
    ("STAGE-KNOWN", "procedure", "Evidence names a stage of the case's procedure"),
    ("STAGE-ORDER", "stage articles", "A stage opens only after its prerequisite stages"),
    ("STAGE-COMPLETED", "stage articles", "A completed stage takes no more evidence"),
    ("EVIDENCE-PRESENT", "stage articles", "Every stage needs evidence on the current draft"),
    ("ASSIGNED-RECORDER", "ASVS 8.2.2", "Only a person assigned to the case stage records it"),
    ("RECORDER-ROLE", "ASVS 8.2.2", "The recorder holds the role the stage needs"),
    ("EVIDENCE-INTEGRITY", "ASVS 16.4.2", "Stored evidence still matches its hash and schema"),
)


def _register(phase: Phase, id: str, kind: str, article: str, summary: str,
              **options: bool) -> Callable[[Any], Any]:
    def register(check: Any) -> Any:
        RULES.append(Rule(id, kind, article, summary, check, phase, **options))
        return check

    return register


def admission_rule(
    *, id: str, kind: str, article: str, summary: str, at_assignment: bool = True
) -> Callable[[AdmissionCheck], AdmissionCheck]:
    """Register a check of who may record: `check(handle, ctx)`; a problem refuses.

    `at_assignment=False`: a duty the person may still fulfil after being assigned."""
    return _register(Phase.ADMISSION, id, kind, article, summary, at_assignment=at_assignment)


def evidence_rule(
    *, id: str, kind: str, article: str, summary: str
) -> Callable[[EvidenceCheck], EvidenceCheck]:
    """Register a check of one submission; a problem refuses it before it is stored."""
    return _register(Phase.EVIDENCE, id, kind, article, summary)


def gate_rule(
    *, id: str, kind: str, article: str, summary: str, sends_back: bool = False
) -> Callable[[GateCheck], GateCheck]:
    """Register a check of the stage as a whole; a problem keeps its gate blocked.

    `sends_back=True`: the problem is cured only by revising the draft."""
    return _register(Phase.GATE, id, kind, article, summary, sends_back=sends_back)


def flag_rule(
    *, id: str, kind: str, article: str, summary: str
) -> Callable[[GateCheck], GateCheck]:
    """Register a check of a deadline; a problem is reported but blocks nothing."""
    return _register(Phase.FLAG, id, kind, article, summary)


def _context(facts: CaseFacts, stage_key: str, now: datetime) -> RuleContext:
    stage = facts.procedure.stage(stage_key)
    return RuleContext(facts=facts, stage=stage, now=now, params=stage.gate_params)


def _scopes(facts: CaseFacts, stage: StageDefinition) -> set[str]:
    scopes = {stage.kind}
    if stage.stage_kind.decides:
        scopes.add(CASE)
    if stage.key in {s.key for s in facts.procedure.closing_stages}:
        scopes.add(CLOSING)
    return scopes


def _run(rules: Iterable[Rule], *args: Any) -> Iterator[Unmet]:
    for rule in rules:
        for message in rule.check(*args):
            yield Unmet(rule.id, rule.article, message)


def _rules(kinds: set[str] | str, phase: Phase) -> list[Rule]:
    scope = {kinds} if isinstance(kinds, str) else kinds
    return [r for r in RULES if r.kind in scope and r.phase is phase]


def _recorder_problems(
    ctx: RuleContext, handle: str, *, assigning: bool = False
) -> Iterator[Unmet]:
    """Why a person may not record for the stage: role and separation of duties."""
    person = ctx.facts.people.get(handle)
    if person is not None and person.role != ctx.stage.role:
        yield Unmet("RECORDER-ROLE", "ASVS 8.2.2",
                    f"'{handle}' has role '{person.role}'; stage '{ctx.stage.key}' is "
                    f"recorded by a '{ctx.stage.role}'")
    rules = [r for r in _rules(ctx.stage.kind, Phase.ADMISSION)
             if r.at_assignment or not assigning]
    yield from _run(rules, handle, ctx)


def assignment_problems(facts: CaseFacts, stage_key: str, handle: str) -> list[Unmet]:
    """Why a person may not be assigned to a case stage (separation of duties)."""
    context = _context(facts, stage_key, datetime.min)
    return list(_recorder_problems(context, handle, assigning=True))


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
            "STAGE-ORDER", _articles_of(facts, missing),
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
    else:  # admission rules judge people, not dates: no clock needed
        problems += _recorder_problems(_context(facts, stage_key, datetime.min), recorded_by)
    return problems


def _articles_of(facts: CaseFacts, stage_keys: list[str]) -> str:
    """The articles of the stages named: a refusal for a missing stage cites that stage's
    articles (a meeting before the legality review breaks Art. 25, not Art. 29–31)."""
    return "; ".join(dict.fromkeys(facts.procedure.stage(k).articles for k in stage_keys))


def evidence_problems(
    facts: CaseFacts, stage_key: str, evidence: BaseModel, now: datetime,
    *, recorded_by: str | None = None,
) -> list[Unmet]:
    """Statutory problems with one submission, judged before it is stored.

    `now` is the witnessed time of the submission: the system clock when it is recorded,
    its recorded_at when the gate judges it again."""
    context = replace(_context(facts, stage_key, now), recorder=recorded_by)
    rules = _rules({context.stage.kind, ANY_STAGE}, Phase.EVIDENCE)
    return [Unmet(u.rule, context.stage.articles, u.message) if u.article == STAGE_ARTICLES
            else u for u in _run(rules, evidence, context)]


def case_problems(facts: CaseFacts, now: datetime) -> list[Unmet]:
    """Problems with the case as a whole (the start of the procedure), judged at opening."""
    context = _context(facts, facts.procedure.deciding_stage.key, now)
    return list(_run(_rules(CASE, Phase.GATE), context))


def _no_evidence(facts: CaseFacts, stage: StageDefinition) -> Unmet:
    message = f"no evidence recorded for '{stage.title}'"
    if facts.evidence_for(stage.key):
        message += (f" on the current draft v{facts.draft_version} (a revised draft reopened "
                    "the stage; earlier evidence concerns an older draft)")
    return Unmet("EVIDENCE-PRESENT", stage.articles, message)


def _gate_unmet(facts: CaseFacts, stage_key: str, now: datetime) -> Iterator[Unmet]:
    context = _context(facts, stage_key, now)
    stage = context.stage
    missing = facts.unmet_prerequisites(stage)
    if missing:
        yield Unmet("STAGE-ORDER", _articles_of(facts, missing),
                    "prerequisite stages not completed: " + ", ".join(missing))
    current: list[EvidenceFact] = facts.current_evidence(stage_key)
    if not current:
        yield _no_evidence(facts, stage)
        return
    assigned = facts.assignments.get(stage_key, frozenset())
    for item in current:
        if item.recorded_by not in assigned:
            yield Unmet("ASSIGNED-RECORDER", "ASVS 8.2.2",
                        f"evidence #{item.id} was recorded by unassigned '{item.recorded_by}'")
        else:
            for unmet in _recorder_problems(context, item.recorded_by):
                yield Unmet(unmet.rule, unmet.article, f"evidence #{item.id}: {unmet.message}")
        if item.evidence is None:
            yield Unmet("EVIDENCE-INTEGRITY", "ASVS 16.4.2",
                        f"evidence #{item.id} no longer matches its recorded hash or schema")
            continue
        # Re-checked here as well as at recording: a row edited in the database must not pass.
        # Judged as of its witnessed recording time: what was true then stays true.
        for unmet in evidence_problems(facts, stage_key, item.evidence, item.recorded_at,
                                       recorded_by=item.recorded_by):
            yield Unmet(unmet.rule, unmet.article, f"evidence #{item.id}: {unmet.message}")
    yield from _run(_rules(_scopes(facts, stage), Phase.GATE), context)


def gate_flags(facts: CaseFacts, stage_key: str, now: datetime) -> tuple[Unmet, ...]:
    """Late duties of a stage: reported, never blocking."""
    context = _context(facts, stage_key, now)
    return tuple(_run(_rules(_scopes(facts, context.stage), Phase.FLAG), context))


def sent_back(result: GateResult) -> list[Unmet]:
    """The unmet requirements of a gate that only a revised draft can cure."""
    ids = {r.id for r in RULES if r.sends_back}
    return [u for u in result.unmet if u.rule in ids]


def evaluate_gate(facts: CaseFacts, stage_key: str, now: datetime) -> GateResult:
    return GateResult(stage_key, tuple(_gate_unmet(facts, stage_key, now)),
                      gate_flags(facts, stage_key, now))


def evaluate_case(facts: CaseFacts, now: datetime) -> dict[str, GateResult]:
    return {key: evaluate_gate(facts, key, now) for key in facts.procedure.stage_keys}


def case_flags(facts: CaseFacts, now: datetime) -> list[Unmet]:
    """Every late duty of the case, for the dossier, the status and the deadline watchdog."""
    return [flag for key in facts.procedure.stage_keys for flag in gate_flags(facts, key, now)]


def ready_stages(facts: CaseFacts) -> list[str]:
    """Pending stages whose prerequisites are all completed."""
    return [
        s.key for s in facts.procedure.stages
        if facts.status(s.key) is StageStatus.PENDING and not facts.unmet_prerequisites(s)
    ]
