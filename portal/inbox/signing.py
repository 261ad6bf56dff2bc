"""Signing an expert's opinion in the browser, with the expert's own Ed25519 key.

The page's script (`portal/static/inbox-sign.js`) posts the form here first; the server
builds the opinion exactly as it will record it (with what dueprocess holds filled in) and
answers the bytes to sign: the RFC 8785 JSON of `ExpertOpinionEvidence.signed_bytes()`.
The browser signs them with WebCrypto (a PKCS#8 key file read locally, or a
non-extractable key kept in its IndexedDB), fills in the signature and submits; the
recording function verifies it against the expert's registered keys as from any channel.
The private key never reaches the server.
"""

from __future__ import annotations

import base64
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.services.cases import get_case
from dueprocess.settings import get_settings
from models.evidence_schemas import ExpertOpinionEvidence
from models.procedure import ProcedureDefinition
from portal.inbox.forms import FormProblem, evidence_from_form
from portal.inbox.prefill import prefill
from portal.inbox.routes import CaseId, StageKey, can_see
from portal.inbox.sessions import csrf_ok, current_session, same_origin

router = APIRouter(prefix="/inbox", include_in_schema=False)
SCRIPT = Path(__file__).resolve().parents[1] / "static" / "inbox-sign.js"


@router.get("/sign.js")
def script() -> Response:
    return Response(SCRIPT.read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})


def _problem(status: int, text: str) -> JSONResponse:
    return JSONResponse({"problems": [text]}, status_code=status)


@router.post("/cases/{case_id}/stages/{stage_key}/signing-payload")
async def signing_payload(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    """The bytes the expert signs, as the server will verify them (base64 and as text)."""
    me = current_session(request)
    if me is None:
        return _problem(401, "AUTHENTICATED: no inbox session: log in first")
    form = await request.form()
    if not same_origin(request) or not csrf_ok(me.csrf, form.get("csrf")):
        return _problem(403, "CSRF: the form did not come from this portal's page")
    if not can_see(handle=me.handle, case_id=case_id, stage_key=stage_key):
        return _problem(404, "No task of yours is at this address.")  # as the task page
    try:
        with session_scope() as session:
            procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
        if stage_key not in procedure.stage_keys or \
                procedure.stage(stage_key).stage_kind.evidence is not ExpertOpinionEvidence:
            raise NotFound(f"stage '{stage_key}' of case {case_id} takes no signed opinion")
        evidence = await evidence_from_form(
            ExpertOpinionEvidence, form, max_document_bytes=get_settings().max_document_bytes,
            prefill=prefill(case_id=case_id, stage_key=stage_key, handle=me.handle))
        opinion = ExpertOpinionEvidence.model_validate(evidence)
    except NotFound as exc:
        return _problem(404, str(exc))
    except FormProblem as exc:
        return _problem(422, str(exc))
    except ValidationError as exc:
        return JSONResponse({"problems": [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]},
            status_code=422)
    signed = opinion.signed_bytes()
    return JSONResponse({"payload": base64.b64encode(signed).decode(),
                         "text": signed.decode()})
