"""Tables of what follows a decision (Decree 713 Art. 36–37): an evaluation after the
decision, and an adjustment or stop of it, each a case of its own linked to the decided
case it follows; residents' requests for an evaluation; and the mark that an evaluation
is due (on the schedule, or because enough residents asked).

`FollowUp`, `EvaluationRequest` and `EvaluationDue` are written once and never changed
(on PostgreSQL, database triggers refuse UPDATE and DELETE). Each is a record on the
followed case's own chain of follow-ups (`follow-up-<case id>`), so a decision's
after-life is exported and verified on its own. `RequestCode` is working state, like a
ballot's voter codes: only a code's digest is stored, and it is spent once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime
from models.one_time_codes import Assurance


def follow_up_chain(case_id: str) -> str:
    return f"follow-up-{case_id}"


class FollowUpKind(StrEnum):
    EVALUATION = "evaluation"  # Art. 36: evaluation after the decision
    ADJUSTMENT = "adjustment"  # Art. 37: a major adjustment, through the procedure again
    STOP = "stop"  # Art. 37: stopping the decision's implementation, likewise


class StartedBy(StrEnum):
    ORGAN = "organ"  # the decision organ's own initiative
    SCHEDULE = "schedule"  # the evaluation fell due after the configured time
    RESIDENTS = "residents"  # the configured number of residents asked for it


class FollowUp(SQLModel, table=True):
    """A case opened to evaluate, adjust or stop the decision of the case it follows."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", unique=True, max_length=32)
    follows: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    kind: str = Field(max_length=16)
    started_by: str = Field(max_length=16)
    opened_by: str = Field(max_length=64)
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvaluationRequest(SQLModel, table=True):
    """One resident's request that a decision be evaluated, under a keyed pseudonym of
    the channel that confirmed it (no resident's address is stored or published)."""

    __table_args__ = (UniqueConstraint("case_id", "pseudonym"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    pseudonym: str = Field(max_length=64)
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    assurance: str = Field(default=Assurance.CHANNEL.value, max_length=16,
                           description="verified or channel: how the resident was confirmed")


class EvaluationDue(SQLModel, table=True):
    """The evaluation of a decision fell due: the officials were told, once."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", unique=True, max_length=32)
    reason: str = Field(max_length=16, description="schedule or residents")
    requests: int = Field(ge=0, description="Residents' requests counted when it fell due")
    detected_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class RequestCode(SQLModel, table=True):
    """A one-time code sent to a resident's channel to confirm a request."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    pseudonym: str = Field(max_length=64)
    code_sha256: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    attempts: int = Field(default=0, description="Wrong attempts; it dies at the limit")
