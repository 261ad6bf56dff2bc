"""A procedure is data: stages, their order, who performs them and each gate's parameters.

`load_procedure` refuses a bad definition with a message that names the problem
(an unknown stage, kind or role, a cycle, a missing or unknown parameter, a decision
without the legality review the decree puts before it).
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.people import Role
from models.stage_kinds import STAGE_KINDS, Params, StageKind

BUNDLED_DIR = Path(__file__).parent / "procedures"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class ProcedureError(ValueError):
    """A procedure definition that cannot be used, with the reason."""


class StageDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1)
    kind: str
    role: Role = Field(description="Role a person needs to be assigned")
    articles: str = Field(min_length=1, description="Legal basis, e.g. 'Decree 713 Art. 25–28'")
    after: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    reopen_on_revision: bool = Field(
        default=False,
        description="A revised draft reopens the stage: evidence on older drafts stops counting",
    )

    @property
    def stage_kind(self) -> StageKind:
        return STAGE_KINDS[self.kind]

    @property
    def gate_params(self) -> Params:
        return self.stage_kind.params.model_validate(self.params)


class ProcedureDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    title: str = Field(min_length=1)
    version: int = Field(ge=1)
    major_decision: bool = Field(
        default=False,
        description="A major administrative decision (Decree 713): its mandatory stages "
        "cannot be switched off",
    )
    stages: tuple[StageDefinition, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureDefinition:
        keys = [s.key for s in self.stages]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise ValueError(f"stage key defined twice: {', '.join(duplicated)}")
        for stage in self.stages:
            if stage.kind not in STAGE_KINDS:
                known = ", ".join(sorted(STAGE_KINDS))
                raise ValueError(f"stage '{stage.key}': unknown kind '{stage.kind}' ({known})")
            for before in stage.after:
                if before not in keys:
                    raise ValueError(f"stage '{stage.key}': 'after' names unknown stage '{before}'")
            try:
                stage.gate_params  # noqa: B018 - validates the parameters
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise ValueError(f"stage '{stage.key}': params: {problems}") from None
        try:
            tuple(TopologicalSorter({s.key: s.after for s in self.stages}).static_order())
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise ValueError(f"stages form a cycle: {cycle}") from None
        deciding = [s.key for s in self.stages if s.stage_kind.decides]
        if len(deciding) != 1:
            raise ValueError(f"exactly one deciding stage is required, found {deciding or 'none'}")
        decider = self.stage(deciding[0])
        if self.major_decision and not getattr(decider.gate_params,
                                               "requires_legality_review", True):
            raise ValueError(
                f"stage '{decider.key}': params.requires_legality_review: false is not "
                "allowed for a major decision (major_decision: true): Decree 713 Art. 25 "
                "requires a legality review before the collective decision"
            )
        if getattr(decider.gate_params, "requires_legality_review", False) and not any(
            self.stage(k).kind == "legality_review" for k in self.upstream(decider.key)
        ):
            raise ValueError(
                f"stage '{decider.key}' needs a legality_review stage before it "
                "(Decree 713 Art. 25)" + ("" if self.major_decision
                                          else ", or params.requires_legality_review: false")
            )
        return self

    def stage(self, key: str) -> StageDefinition:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    @property
    def stage_keys(self) -> list[str]:
        return [s.key for s in self.stages]

    @property
    def deciding_stage(self) -> StageDefinition:
        return next(s for s in self.stages if s.stage_kind.decides)

    @property
    def closing_stages(self) -> list[StageDefinition]:
        """The stages no other stage waits for: completing the last of them closes the case."""
        waited_for = {k for s in self.stages for k in s.after}
        return [s for s in self.stages if s.key not in waited_for]

    def stages_of_kind(self, kind: str) -> list[StageDefinition]:
        return [s for s in self.stages if s.kind == kind]

    def downstream(self, key: str) -> set[str]:
        """Every stage that waits, directly or transitively, for `key`."""
        return {s.key for s in self.stages if key in self.upstream(s.key)}

    def upstream(self, key: str) -> set[str]:
        """Every stage that must be completed, directly or transitively, before `key`."""
        seen: set[str] = set()
        pending = list(self.stage(key).after)
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.stage(current).after)
        return seen


def parse_procedure(data: Any, *, source: str) -> ProcedureDefinition:
    try:
        return ProcedureDefinition.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'procedure'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ProcedureError(f"procedure {source}: {problems}") from None


def load_procedure(name_or_path: str) -> ProcedureDefinition:
    """Load a bundled procedure by id (e.g. 'decree-713') or a YAML/JSON file by path."""
    bundled = BUNDLED_DIR / f"{name_or_path}.yaml"
    path = bundled if bundled.is_file() else Path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml")))
        raise ProcedureError(f"procedure '{name_or_path}': no such bundled id ({known}) or file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProcedureError(f"procedure {path}: not valid YAML/JSON: {exc}") from None
    return parse_procedure(data, source=str(path))
