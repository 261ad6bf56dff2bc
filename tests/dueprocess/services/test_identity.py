"""Credentials are stored hashed or public only; the CLI and the API carry an identity
that a token proves; the Prefect form names its recorder."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services.identity import authenticate, issue_token, register_public_key, revoke
from dueprocess.services.recording import record_evidence, record_submission
from models.evidence import Refusal
from models.people import Credential

Issue = Callable[[str], tuple[int, str]]


@pytest.fixture
def token_for() -> Iterator[Callable[[str], tuple[int, str]]]:
    """Issue tokens; revoked after the test, so the people of the shared demo case record
    without one again."""
    issued: list[int] = []

    def issue(handle: str) -> tuple[int, str]:
        with session_scope() as session:
            credential, token = issue_token(session, handle=handle, label="test")
            assert credential.id is not None
            issued.append(credential.id)
            return credential.id, token

    yield issue
    with session_scope() as session:
        for credential_id in issued:
            revoke(session, credential_id=credential_id)


def test_a_token_is_stored_only_as_its_sha256(case_id: str, token_for: Issue) -> None:
    credential_id, token = token_for("liu.yang")
    with session_scope() as session:
        stored = session.get(Credential, credential_id)
        assert stored is not None
        assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        row = session.connection().execute(text("SELECT * FROM credential WHERE id = :id"),
                                           {"id": credential_id}).one()
        assert token not in {str(v) for v in row}
        person = authenticate(session, token)
        assert person is not None and person.handle == "liu.yang"


def test_a_token_holder_must_present_it_on_the_cli(case_id: str, token_for: Issue) -> None:
    _, token = token_for("li.wei")
    with pytest.raises(Refused) as info:
        record_evidence(case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
                        evidence=submissions.PARTICIPATION, channel="cli")
    [problem] = info.value.problems
    assert problem.rule == "AUTHENTICATED" and "holds an API token" in problem.message
    with session_scope() as session:
        audit = session.get(Refusal, info.value.refusal_id)
        assert audit is not None and audit.submitted_by == "li.wei" and audit.channel == "cli"
    item = record_evidence(case_id=case_id, stage_key="public_participation",
                           recorded_by="li.wei", evidence=submissions.PARTICIPATION,
                           channel="cli", token=token)
    assert item.recorded_by == "li.wei"


def test_a_token_proves_only_its_own_holder(case_id: str, token_for: Issue) -> None:
    credential_id, token = token_for("sun.hao")
    with pytest.raises(Refused, match=r"the token belongs to 'sun\.hao', not to 'liu\.yang'"):
        record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                        evidence=submissions.RISK, channel="api", token=token)
    with session_scope() as session:
        revoke(session, credential_id=credential_id)
    with pytest.raises(Refused, match=r"AUTHENTICATED.*not valid or was revoked"):
        record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="sun.hao",
                        evidence=submissions.RISK, channel="api", token=token)


def test_the_prefect_form_records_in_the_name_it_carries(case_id: str) -> None:
    item = record_submission(case_id=case_id, channel="prefect-form", default_key="form-id-1",
                             raw={"recorded_by": "liu.yang", "risk_assessment": submissions.RISK})
    assert item.recorded_by == "liu.yang" and item.channel == "prefect-form"
    with pytest.raises(Refused):
        record_submission(case_id=case_id, channel="prefect-form", default_key="form-id-2",
                          raw={"recorded_by": "qian.yu", "risk_assessment": submissions.RISK})
    with session_scope() as session:
        audit = session.exec(select(Refusal).where(Refusal.case_id == case_id,
                                                   Refusal.idempotency_key == "form-id-2")).one()
    assert audit.submitted_by == "qian.yu" and audit.stage_key == "risk_assessment"
    assert "ASSIGNED-RECORDER" in {r["rule"] for r in audit.reasons}


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
                        evidence=forged, channel="test")
    assert [p.rule for p in info.value.problems] == ["EX-SIGNED"]
    assert "does not verify with the registered key of 'prof.zhang'" in str(info.value)
    item = record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="prof.zhang",
                           evidence=submissions.EXPERTS["prof.zhang"], channel="test")
    assert item.payload["signature_ed25519"] == submissions.EXPERTS["prof.zhang"][
        "signature_ed25519"]
