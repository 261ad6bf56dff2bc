"""The running system: events, supervision deadlines, recovery, `dueprocess up`."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from dueprocess.errors import DueProcessError

# Days an open stage may stay open before the watchdog escalates, by stage key or kind.
# Public participation runs a 30-day comment window (Art. 15) plus time to sort the
# opinions; legality review needs at least 7 working days (Art. 27), about 10 calendar
# days, plus reporting; publication is due within 15 days (the procedure's default).
DEFAULT_STAGE_DEADLINE_DAYS: dict[str, int] = {
    "public_participation": 45,
    "expert_review": 30,
    "risk_assessment": 30,
    "legality_review": 20,
    "collective_decision": 30,
    "publication": 15,
    "filing": 30,
}
FALLBACK_STAGE_DEADLINE_DAYS = 30


class OpsSettings(BaseSettings):
    """The running system: Prefect events, supervision deadlines, recovery of crashed runs
    and the Prefect server of `dueprocess up`. A bad value raises an error naming its
    variable."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    prefect_events: bool = Field(
        default=True,
        description="Emit every case event as a `dueprocess.*` Prefect event (only when "
        "PREFECT_API_URL names a server; never starts an ephemeral one).",
    )
    advance_on_record: bool = Field(
        default=True,
        description="Open the next stage as soon as evidence is committed, in the process "
        "that recorded it, instead of when the case's flow run next wakes up.",
    )
    stage_deadline_days: dict[str, int] = Field(
        default_factory=dict,
        description="JSON object: stage key or stage kind -> days it may stay open before "
        "`deadline.missed` is emitted and escalated; merged over the defaults.",
    )
    watchdog_interval_seconds: int = Field(
        default=300, ge=0,
        description="Schedule of the deadline-watchdog deployment; 0: no schedule.",
    )
    runner_process_limit: int = Field(
        default=8, ge=1,
        description="Flow-run processes the runner of `dueprocess up`/`serve` runs at once; "
        "further runs wait until one ends (a suspended case run holds none).",
    )
    max_run_attempts: int = Field(
        default=5, ge=1,
        description="How often a crashed or failed flow run of a case is restarted "
        "before the case is left for an operator (shown in `dueprocess status`).",
    )
    work_pool: str = Field(
        default="dueprocess", min_length=1,
        description="Process work pool of the scale-out deployments (deployments/prefect.yaml).",
    )
    ui_host: str = Field(
        default="127.0.0.1", description="Address the Prefect server of `dueprocess up` binds."
    )
    ui_port: int = Field(
        default=4200, ge=1, le=65535, description="Port of that server (API and UI)."
    )

    @field_validator("stage_deadline_days")
    @classmethod
    def _positive_days(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(key for key, days in value.items() if days < 1)
        if bad:
            raise ValueError(f"days must be at least 1 (stages: {', '.join(bad)})")
        return value

    def deadline_days(self, stage_key: str, stage_kind: str) -> int:
        """Days the stage may stay open: by key, then by kind, then the defaults."""
        merged = {**DEFAULT_STAGE_DEADLINE_DAYS, **self.stage_deadline_days}
        for name in (stage_key, stage_kind):
            if name in self.stage_deadline_days:
                return self.stage_deadline_days[name]
        return merged.get(stage_key) or merged.get(stage_kind) or FALLBACK_STAGE_DEADLINE_DAYS


@lru_cache(maxsize=1)
def get_ops_settings() -> OpsSettings:
    """The settings; a bad value raises an error naming its environment variable."""
    try:
        return OpsSettings()
    except SettingsError as exc:  # a JSON setting that is not JSON
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        raise DueProcessError(
            f"invalid setting: DUEPROCESS_{field.upper()}: not valid JSON"
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"DUEPROCESS_{str(error['loc'][0]).upper()}: {error['msg']}"
            if error["loc"] else str(error["msg"])
            for error in exc.errors()
        )
        raise DueProcessError(f"invalid setting: {problems}") from None
