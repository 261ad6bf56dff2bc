"""Evaluation after the decision (Art. 36): when an evaluation of a decided case falls due."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EvaluationSettings(BaseSettings):
    """Evaluation after the decision (Art. 36, the `implementation` capability): when an
    evaluation of a decided case falls due."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    evaluation_after_days: int = Field(
        default=365, ge=1, le=3650,
        description="Art. 36: an evaluation falls due this many days after the decision "
        "was recorded (the watchdog's schedule marks it and tells the officials)",
    )
    evaluation_request_threshold: int = Field(
        default=100, ge=1, le=1_000_000,
        description="Art. 36: this many residents' confirmed requests make an evaluation due",
    )
    evaluation_channel_requests_count: bool = Field(
        default=False,
        description="Whether requests confirmed only by a one-time code sent to a channel "
        "(assurance `channel`) count toward the threshold; requests of verified residents "
        "always count. Off: one person with several channels cannot reach it alone",
    )
    evaluation_request_attempt_budget: int = Field(
        default=1_000, ge=1, le=10_000_000,
        description="Wrong request codes a decision takes in all; past it every request code "
        "for that decision is refused (EVAL-REQUEST-GUESS-BUDGET)",
    )


def get_evaluation_settings() -> EvaluationSettings:
    return EvaluationSettings()  # read per call: a sweep or a confirmation is rare
