"""Recording evidence over HTTP: `POST /api/cases/{case}/stages/{stage}/evidence` with the
recorder's API token as a bearer token. The same recording function as every channel: a
request without a valid token is refused (rule AUTHENTICATED), audited, stores nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound, Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services.cases import get_case
from dueprocess.services.identity import ARTICLE, NO_CREDENTIAL, authenticate
from dueprocess.services.recording import record_evidence
from dueprocess.services.refusal_audit import RECORD, audit_refusal
from dueprocess.web.errors import Problem, decode_utf8, validation_message
from models.base import utcnow

router = APIRouter(prefix="/api", tags=["reviewers"])
CHANNEL = "api"
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
StageKey = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")]


class EvidenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence: dict[str, Any] = Field(description="The stage's evidence (its schema)")
    recorded_by: str | None = Field(default=None, max_length=64,
                                    description="Your handle; default: the token's holder")
    idempotency_key: str | None = Field(default=None, max_length=200)


class RefusalProblem(BaseModel):
    detail: str
    refusal_id: int | None = Field(description="The audit record of the refusal")
    rules: list[str] = Field(description="The rules that refused it")


ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: {"model": Problem} for code in (400, 403, 404, 413, 415)},
    401: {"model": RefusalProblem, "description": "No valid credential (AUTHENTICATED)"},
    422: {"model": RefusalProblem | Problem, "description": "Refused by a rule or the schema"},
}


class EvidenceReceipt(BaseModel):
    evidence_id: int
    stage_key: str
    recorded_by: str
    sha256: str


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _refusal(refused: Refused, status: int) -> JSONResponse:
    return JSONResponse({"detail": str(refused), "refusal_id": refused.refusal_id,
                         "rules": [p.rule for p in refused.problems]}, status_code=status)


@router.post("/cases/{case_id}/stages/{stage_key}/evidence", status_code=201,
             response_model=EvidenceReceipt, responses=ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": EvidenceCreate.model_json_schema()}}}})
async def record_evidence_api(case_id: CaseId, stage_key: StageKey, request: Request) -> Any:
    """Record stage evidence as the holder of the bearer token."""
    token = _bearer(request)
    try:
        body = EvidenceCreate.model_validate_json(decode_utf8(await request.body()))
    except ValidationError as exc:
        return JSONResponse({"detail": validation_message(exc)}, status_code=422)
    except DueProcessError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
    recorded_by = body.recorded_by
    if recorded_by is None and token is not None:
        with session_scope() as session:
            holder = authenticate(session, token)
            recorded_by = holder.handle if holder is not None else None
    try:
        if recorded_by is None:
            # No handle and no valid token: refused here, audited like the service does.
            problem = Unmet("AUTHENTICATED", ARTICLE, NO_CREDENTIAL if token is None
                            else "the token is not valid or was revoked")
            with session_scope() as session:
                get_case(session, case_id)
            refused = Refused([problem])
            refused.refusal_id = audit_refusal(
                case_id=case_id, action=RECORD, stage_key=stage_key, submitted_by=None,
                channel=CHANNEL, idempotency_key=None, problems=refused.problems, now=utcnow())
            raise refused
        item = record_evidence(case_id=case_id, stage_key=stage_key, recorded_by=recorded_by,
                               evidence=body.evidence, idempotency_key=body.idempotency_key,
                               channel=CHANNEL, token=token)
    except Refused as refused:
        unauthenticated = refused.problems[0].rule == "AUTHENTICATED"
        return _refusal(refused, 401 if unauthenticated else 422)
    except NotFound as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    return EvidenceReceipt(evidence_id=item.id or 0, stage_key=item.stage_key,
                           recorded_by=item.recorded_by, sha256=item.payload_sha256)
