"""Managing people, credentials, keys and assignments needs the right role; a wrong role is
refused with the rule named and audited, and every act is a journal (log) event."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.administration import (
    SYSTEM_SCOPE,
    issue_token_as,
    link_oidc_as,
    register_key_as,
    register_person_as,
    revoke_as,
    set_password_as,
)
from dueprocess.services.audited_actions import assign_as
from dueprocess.services.bootstrap import init_admin
from dueprocess.services.identity import authenticate, verify_password
from models.evidence import Refusal
from models.people import Credential, Person, PersonCreate, Role
from tests.support import ADMIN, admin_token, published_events, token_for, watch_events


def counts() -> tuple[int, int]:
    with session_scope() as session:
        return (session.exec(select(func.count()).select_from(Person)).one(),
                session.exec(select(func.count()).select_from(Credential)).one())


def audited(error: Refused, *, action: str, by: str | None) -> Refusal:
    with session_scope() as session:
        refusal = session.get(Refusal, error.refusal_id)
    assert refusal is not None and refusal.case_id == SYSTEM_SCOPE
    assert refusal.submitted_by == by and refusal.reasons[0]["action"] == action
    return refusal


def public_key() -> str:
    return base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


MALLORY = PersonCreate(handle="mallory", name="Mallory", role=Role.RISK_ASSESSOR, unit="X")


def test_the_first_administrator_is_created_once() -> None:
    token = admin_token()
    with session_scope() as session:
        person = authenticate(session, token)
        assert person is not None and person.handle == ADMIN
        assert person.role == Role.ADMINISTRATOR
    before = counts()
    with pytest.raises(Refused, match=r"\[BOOTSTRAP-ONCE, ASVS 2\.5\.1\] an administrator "
                                      r"exists already") as info:
        init_admin(handle="eve.admin", name="Eve", channel="cli")
    assert counts() == before
    audited(info.value, action="bootstrap", by="eve.admin")


@pytest.mark.parametrize("token", [None, "dp_forged", "reviewer"])
def test_without_an_administrator_token_nothing_is_managed(case_id: str,
                                                           token: str | None) -> None:
    actor = None
    if token == "reviewer":
        token, actor = token_for("liu.yang"), "liu.yang"
    before = counts()
    attempts = [
        lambda: register_person_as(person=MALLORY, token=token, channel="cli"),
        lambda: issue_token_as(handle="liu.yang", token=token, channel="cli"),
        lambda: register_key_as(handle="prof.zhang", public_key=public_key(), token=token,
                                channel="api"),
        lambda: set_password_as(handle="sun.hao", password="a long password!", token=token,
                                channel="cli"),
        lambda: link_oidc_as(handle="sun.hao", issuer="https://idp", subject="x",
                             token=token, channel="cli"),
    ]
    for attempt in attempts:
        with pytest.raises(Refused) as info:
            attempt()
        rule = info.value.problems[0].rule
        assert rule == ("ADMINISTRATOR" if actor else "AUTHENTICATED"), info.value
        if actor:
            assert "only an administrator may" in str(info.value)
        audited(info.value, action=audited_action(attempt), by=actor)
    assert counts() == before  # nothing stored but the audit records


def audited_action(attempt: object) -> str:
    code = attempt.__code__.co_names  # type: ignore[attr-defined]
    return {"register_person_as": "person.register", "issue_token_as": "credential.issue",
            "register_key_as": "key.register", "set_password_as": "credential.password",
            "link_oidc_as": "credential.oidc"}[next(n for n in code if n.endswith("_as"))]


def test_an_administrator_manages_people_and_credentials_and_the_log_records_it(
    case_id: str,
) -> None:
    watch_events()
    token = admin_token()
    person = register_person_as(person=PersonCreate(
        handle="wu.fei", name="Wu Fei", role=Role.RISK_ASSESSOR, unit="District Stability "
        "Office"), token=token, channel="cli")
    credential_id, new_token = issue_token_as(handle="wu.fei", label="laptop", token=token,
                                              channel="cli")
    key = register_key_as(handle="wu.fei", public_key=public_key(), token=token, channel="cli")
    set_password_as(handle="wu.fei", password="correct horse battery", token=new_token,
                    channel="cli")  # a person sets their own portal password
    with session_scope() as session:
        assert verify_password(session, handle="wu.fei", password="correct horse battery")
        assert verify_password(session, handle="wu.fei", password="wrong password!!") is None
    # Anyone but the holder or an administrator may not revoke a credential.
    with pytest.raises(Refused, match="ADMINISTRATOR"):
        revoke_as(credential_id=credential_id, token=token_for("liu.yang"), channel="cli")
    revoke_as(credential_id=credential_id, token=new_token, channel="cli")  # their own
    with session_scope() as session:
        assert authenticate(session, new_token) is None
    events = [e for e in published_events(SYSTEM_SCOPE)
              if e.subject_id in {person.id, credential_id, key.id} or
              e.body.get("holder") == "wu.fei"]
    kinds = [e.kind for e in events]
    assert kinds[:3] == ["person.registered", "credential.issued", "key.registered"]
    assert "credential.revoked" in kinds and kinds.count("credential.issued") == 2
    assert all(e.person == ADMIN for e in events[:3])
    text = json.dumps([e.body for e in events])
    assert new_token not in text and "argon2" not in text  # fingerprints only


def test_assignments_need_an_official_of_the_unit_or_the_organ(case_id: str) -> None:
    with session_scope() as session:
        session.add(Person(handle="gao.qiang", name="Gao Qiang", role=Role.RISK_ASSESSOR,
                           unit="District Stability Office"))
    with pytest.raises(Refused, match="AUTHENTICATED") as info:
        assign_as(case_id=case_id, stage_key="risk_assessment", handle="gao.qiang",
                  actor="wang.fang", channel="cli")
    assert info.value.refusal_id is not None
    with pytest.raises(Refused, match=r"\[ASSIGNER, Art\. 11\] 'liu\.yang' may not assign"):
        assign_as(case_id=case_id, stage_key="risk_assessment", handle="gao.qiang",
                  actor="liu.yang", channel="cli", token=token_for("liu.yang"))
    watch_events()
    made = assign_as(case_id=case_id, stage_key="risk_assessment", handle="gao.qiang",
                     actor="guo.deputy", channel="cli", token=token_for("guo.deputy"))
    [event] = [e for e in published_events(case_id) if e.kind == "assignment.made"]
    assert event.subject_id == made.id and event.person == "guo.deputy" and event.digest
    with session_scope() as session:
        refusals = session.exec(select(Refusal).where(Refusal.case_id == case_id)
                                .order_by(Refusal.id)).all()  # type: ignore[arg-type]
    assert [r.reasons[0]["rule"] for r in refusals] == ["AUTHENTICATED", "ASSIGNER"]


def test_the_system_scope_records_are_in_a_log_that_verifies() -> None:
    from sqlalchemy import text as sql

    from dueprocess.ledger import verify_log

    admin_token()  # at least the bootstrap's records
    with session_scope() as session:
        kinds = set(session.connection().execute(sql(
            "SELECT kind FROM logleaf WHERE case_id = :scope"), {"scope": SYSTEM_SCOPE}
        ).scalars())
    assert {"person", "credential"} <= kinds, kinds
    verify_log()  # raises LogTampered naming the item if the log and the rows differ
