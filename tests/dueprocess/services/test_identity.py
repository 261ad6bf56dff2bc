"""Every write proves who makes it: tokens stored hashed, no write on a handle alone, and
the Prefect form's proof (a single-use code or a signature bound to the evidence)."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, text
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services.form_codes import form_digest
from dueprocess.services.identity import (
    PortalLogin,
    authenticate,
    get_person,
    issue_form_code,
    issue_token,
    register_public_key,
    revoke,
    signature_of_form,
)
from dueprocess.services.recording import record_evidence, record_submission
from models.base import utcnow
from models.evidence import EvidenceItem, Refusal
from models.people import Credential, FormCode
from tests.support import advance_to_step, form_code_for, token_for


@pytest.fixture
def case_id(open_demo_case: Any) -> str:
    """A demo case on the day of its risk assessment (case clock): the typed dates of the
    risk report have happened."""
    case: str = open_demo_case()
    advance_to_step(case, "risk_assessment")
    return case


def evidence_count(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(EvidenceItem)
                            .where(EvidenceItem.case_id == case_id)).one()


def refused_and_audited(case_id: str, **kwargs: object) -> Refused:
    """Assert the write is refused, audited with its channel, and stores no evidence."""
    before = evidence_count(case_id)
    with pytest.raises(Refused) as info:
        record_evidence(case_id=case_id, **kwargs)  # type: ignore[arg-type]
    assert evidence_count(case_id) == before
    with session_scope() as session:
        audit = session.get(Refusal, info.value.refusal_id)
        assert audit is not None and audit.channel == kwargs["channel"]
        assert audit.submitted_by == kwargs["recorded_by"]
        assert audit.reasons[0]["rule"] == info.value.problems[0].rule
    return info.value


def test_a_token_is_stored_only_as_its_sha256(case_id: str) -> None:
    with session_scope() as session:
        credential, token = issue_token(session, handle="liu.yang", label="test")
    with session_scope() as session:
        stored = session.get(Credential, credential.id)
        assert stored is not None
        assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        row = session.connection().execute(text("SELECT * FROM credential WHERE id = :id"),
                                           {"id": credential.id}).one()
        assert token not in {str(v) for v in row}
        person = authenticate(session, token)
        assert person is not None and person.handle == "liu.yang"


@pytest.mark.parametrize("channel", ["cli", "api", "portal", "test"])
def test_no_write_is_accepted_on_a_handle_alone(case_id: str, channel: str) -> None:
    # liu.yang holds no token of their own in a fresh case database or holds one: either
    # way the handle alone proves nothing.
    error = refused_and_audited(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                                evidence=submissions.RISK, channel=channel)
    [problem] = error.problems
    assert problem.rule == "AUTHENTICATED" and "a handle alone is not accepted" in problem.message


def test_a_token_proves_only_its_own_holder(case_id: str) -> None:
    token = token_for("sun.hao")
    error = refused_and_audited(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                                evidence=submissions.RISK, channel="api", token=token)
    assert "the token belongs to 'sun.hao', not to 'liu.yang'" in str(error)
    with session_scope() as session:
        credential, own = issue_token(session, handle="liu.yang", label="short-lived")
        assert credential.id is not None
        revoke(session, credential_id=credential.id)
    error = refused_and_audited(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                                evidence=submissions.RISK, channel="cli", token=own)
    assert "AUTHENTICATED" in str(error) and "not valid or was revoked" in str(error)
    forged = refused_and_audited(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                                 evidence=submissions.RISK, channel="cli", token="dp_guess")
    assert "not valid" in str(forged)


def test_a_portal_login_proves_only_its_own_person(case_id: str) -> None:
    error = refused_and_audited(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                                evidence=submissions.RISK, channel="portal",
                                login=PortalLogin("sun.hao", "password"))
    assert "logged in as 'sun.hao', not as 'liu.yang'" in str(error)
    item = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                           evidence=submissions.RISK, channel="portal",
                           login=PortalLogin("liu.yang", "oidc"))
    assert item.recorded_by == "liu.yang"


def form(case_id: str, key: str, by: str, proof: str | None, evidence: dict[str, object]
         ) -> EvidenceItem:
    raw: dict[str, object] = {"recorded_by": by, "risk_assessment": evidence}
    if proof is not None:
        raw["proof"] = proof
    return record_submission(case_id=case_id, channel="prefect-form", default_key=key, raw=raw)


def form_refusal(case_id: str, key: str, by: str, proof: str | None,
                 evidence: dict[str, object] = submissions.RISK) -> list[str]:
    before = evidence_count(case_id)
    with pytest.raises(Refused):
        form(case_id, key, by, proof, evidence)
    assert evidence_count(case_id) == before
    with session_scope() as session:
        audit = session.exec(select(Refusal).where(Refusal.case_id == case_id,
                                                   Refusal.idempotency_key == key)).one()
    assert audit.channel == "prefect-form" and audit.submitted_by == by
    return [f"{r['rule']}: {r['message']}" for r in audit.reasons]


def test_the_prefect_form_needs_a_proof_bound_to_the_case_stage_and_person(
        case_id: str) -> None:
    # The reported hole: recorded_by alone, as anyone with access to Prefect's API sends it.
    [reason] = form_refusal(case_id, "f-1", "liu.yang", None)
    assert reason.startswith("FORM-PROOF") and "a handle alone is not accepted" in reason
    [reason] = form_refusal(case_id, "f-2", "liu.yang", "dp_" + "x" * 43)
    assert reason.startswith("FORM-PROOF")
    # Another person's code proves nothing here.
    code = form_code_for(case_id, "risk_assessment", "liu.yang", submissions.RISK)
    [reason] = form_refusal(case_id, "f-3", "sun.hao", code)
    assert "another case, stage or person" in reason
    # Evidence a rule refuses does not use the code up: the corrected evidence is
    # recorded with it, once.
    blank = {**submissions.RISK, "departments_consulted": []}
    [reason] = form_refusal(case_id, "f-4", "liu.yang", code, blank)
    assert reason.startswith("RA-REPORT-CONTENTS")
    item = form(case_id, "f-5", "liu.yang", code, submissions.RISK)
    assert item.recorded_by == "liu.yang" and item.channel == "prefect-form"
    with session_scope() as session:
        stored = session.exec(select(FormCode).where(FormCode.case_id == case_id,
                                                     FormCode.consumed_at.is_not(None))).all()  # type: ignore[union-attr]
        assert len(stored) == 1 and code not in str(stored[0])
        # A keyed digest: not the code's plain SHA-256, which anyone could test guesses by.
        assert stored[0].code_sha256 != hashlib.sha256(code.encode()).hexdigest()
    assert form(case_id, "f-5", "liu.yang", code, submissions.RISK).id == item.id  # a retry
    other = {**submissions.RISK, "response_plan": "A different plan."}
    reused = form_refusal(case_id, "f-6", "liu.yang", code, other)
    assert "the form code was already used" in reused[0]


def test_an_expired_form_code_is_refused(case_id: str) -> None:
    digest = form_digest(case_id=case_id, stage_key="risk_assessment",
                         evidence=submissions.RISK)
    with session_scope() as session:
        code = issue_form_code(session, case_id=case_id, stage_key="risk_assessment",
                               person=get_person(session, "liu.yang"), evidence_sha256=digest,
                               now=utcnow() - timedelta(days=4))
    [reason] = form_refusal(case_id, "f-expired", "liu.yang", code)
    assert "the form code expired" in reason


def test_a_form_signature_by_the_registered_key_is_a_proof(case_id: str) -> None:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    with session_scope() as session:
        register_public_key(session, handle="liu.yang", public_key=public)
    digest = form_digest(case_id=case_id, stage_key="risk_assessment",
                         evidence=submissions.RISK)
    # Signed by a key that is not liu.yang's: refused.
    stranger = signature_of_form(Ed25519PrivateKey.generate(), case_id=case_id,
                                 stage_key="risk_assessment", handle="liu.yang",
                                 evidence_sha256=digest)
    [reason] = form_refusal(case_id, "s-1", "liu.yang", stranger)
    assert "neither a form code nor a signature by a registered key of 'liu.yang'" in reason
    signed = signature_of_form(key, case_id=case_id, stage_key="risk_assessment",
                               handle="liu.yang", evidence_sha256=digest)
    # The same signature does not carry over to other evidence.
    form_refusal(case_id, "s-2", "liu.yang", signed,
                 {**submissions.RISK, "response_plan": "A different plan."})
    item = form(case_id, "s-3", "liu.yang", signed, submissions.RISK)
    assert item.recorded_by == "liu.yang"


def test_a_public_key_is_registered_in_its_raw_form_and_a_bad_one_is_named(
    case_id: str,
) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with session_scope() as session:
        credential = register_public_key(session, handle="dr.zhou", public_key=pem)
        assert credential.public_key == base64.b64encode(raw).decode()
        assert credential.fingerprint == hashlib.sha256(raw).hexdigest()
        again = register_public_key(session, handle="dr.zhou",
                                    public_key=base64.b64encode(raw).decode())
        assert again.id == credential.id
        with pytest.raises(DueProcessError, match=r"public_key of 'dr\.zhou': an Ed25519 "
                                                  r"public key has 32 bytes, this one 3"):
            register_public_key(session, handle="dr.zhou", public_key="AAAA")


def test_a_signature_that_does_not_verify_is_refused(case_id: str) -> None:
    forged = {**submissions.EXPERTS["prof.zhang"],
              "opinion": "Peak pricing is not supported by the data."}
    with pytest.raises(Refused) as info:
        record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="prof.zhang",
                        evidence=forged, channel="test", token=token_for("prof.zhang"))
    assert [p.rule for p in info.value.problems] == ["EX-SIGNED"]
    assert "does not verify with the registered key of 'prof.zhang'" in str(info.value)
    item = record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="prof.zhang",
                           evidence=submissions.EXPERTS["prof.zhang"], channel="test",
                           token=token_for("prof.zhang"))
    assert item.payload["signature_ed25519"] == submissions.EXPERTS["prof.zhang"][
        "signature_ed25519"]


def test_a_resume_through_prefects_api_with_a_handle_alone_is_refused_at_the_gate(
    case_id: str,
) -> None:
    """What the flow does with `POST /api/flow_runs/{id}/resume` input: the reported hole."""
    from dueprocess.services.gate_waits import consume_wait, prepare_wait
    from dueprocess.services.progress import advance_case

    progress = advance_case(case_id=case_id)
    wait = prepare_wait(case_id=case_id, flow_run_id="run-form",
                        stage_keys=progress.open_stages)
    outcome = consume_wait(case_id=case_id, key=wait.key, raw={
        "recorded_by": "liu.yang", "risk_assessment": submissions.RISK})
    assert outcome.evidence_id is None and outcome.refusal_id is not None
    assert outcome.reasons[0].startswith("[FORM-PROOF, ASVS 6.2, 2.8]")
    assert evidence_count(case_id) == 0
    wait = prepare_wait(case_id=case_id, flow_run_id="run-form",
                        stage_keys=progress.open_stages)
    proof = form_code_for(case_id, "risk_assessment", "liu.yang", submissions.RISK)
    outcome = consume_wait(case_id=case_id, key=wait.key, raw={
        "recorded_by": "liu.yang", "risk_assessment": submissions.RISK, "proof": proof})
    assert outcome.evidence_id is not None and evidence_count(case_id) == 1
