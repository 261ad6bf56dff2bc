"""Managing people and credentials, as audited commands an administrator gives.

Each command authenticates the actor by their API token, checks the ADMINISTRATOR rule
(a person may revoke their own credential and set their own portal password), acts in
one transaction, and publishes a journal event carrying ids and fingerprints only
(`person.registered`, `credential.issued`, `credential.revoked`, `key.registered`), so
the transparency log records who changed who may act. A refusal is audited in the
system scope: no case is involved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.permissions import administrator
from dueprocess.services import identity
from dueprocess.services.cases import register_person
from dueprocess.services.payloads import canonical_sha256
from dueprocess.services.refusal_audit import audit_refusal
from models.base import utcnow
from models.people import Credential, Person, PersonCreate

# The journal scope of events and refusals that concern no case.
SYSTEM_SCOPE = "system"


def person_digest(person: Person) -> str:
    return canonical_sha256({"handle": person.handle, "name": person.name,
                             "role": person.role, "unit": person.unit})


def publish_person(session: Session, person: Person, *, by: str | None, now: datetime) -> None:
    publish(session, CaseEvent(
        case_id=SYSTEM_SCOPE, kind="person.registered", occurred_at=now, person=by,
        subject_id=person.id, digest=person_digest(person),
        body={"handle": person.handle, "role": person.role},
    ))


def publish_credential(session: Session, credential: Credential, *, kind: str, handle: str,
                       by: str | None, now: datetime) -> None:
    """A credential event: the fingerprint, never the secret or its stored hash."""
    publish(session, CaseEvent(
        case_id=SYSTEM_SCOPE, kind=kind, occurred_at=now, person=by,
        subject_id=credential.id, digest=credential.fingerprint,
        body={"holder": handle, "credential_kind": credential.kind,
              "fingerprint": credential.fingerprint},
    ))


@contextmanager
def _as_actor(*, token: str | None, audit: str, action: str, channel: str, now: datetime,
              subject: str | None = None) -> Iterator[tuple[Session, Person]]:
    """One transaction with the authenticated actor; a refusal is audited afterwards."""
    actor: str | None = None
    try:
        with session_scope() as session:
            person = identity.authenticated_person(session, token=token)
            actor = person.handle
            problems = administrator(person.role, person.handle, action,
                                     own=subject is not None and subject == person.handle)
            if problems:
                raise Refused(problems)
            yield session, person
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=SYSTEM_SCOPE, action=audit,
            stage_key=None, submitted_by=actor, channel=channel, idempotency_key=None,
            problems=refused.problems, now=now)
        raise


def register_person_as(*, person: PersonCreate, token: str | None, channel: str,
                       now: datetime | None = None) -> Person:
    """Register a person (an existing handle is never changed)."""
    now = now or utcnow()
    with _as_actor(token=token, audit="person.register", action="register people",
                   channel=channel, now=now) as (session, actor):
        registered = register_person(session, person)
        publish_person(session, registered, by=actor.handle, now=now)
        return registered


def issue_token_as(*, handle: str, label: str = "", token: str | None, channel: str,
                   now: datetime | None = None) -> tuple[int, str]:
    """An API token for `handle`: (credential id, the token, shown only now)."""
    now = now or utcnow()
    with _as_actor(token=token, audit="credential.issue",
                   action=f"issue tokens (for '{handle}')", channel=channel,
                   now=now) as (session, actor):
        credential, new_token = identity.issue_token(session, handle=handle, label=label)
        publish_credential(session, credential, kind="credential.issued", handle=handle,
                           by=actor.handle, now=now)
        assert credential.id is not None
        return credential.id, new_token


def register_key_as(*, handle: str, public_key: str, label: str = "", token: str | None,
                    channel: str, now: datetime | None = None) -> Credential:
    """Register an Ed25519 public key for `handle` (signed opinions and form proofs)."""
    now = now or utcnow()
    with _as_actor(token=token, audit="key.register",
                   action=f"register signing keys (for '{handle}')",
                   channel=channel, now=now) as (session, actor):
        credential = identity.register_public_key(session, handle=handle,
                                                  public_key=public_key, label=label)
        publish_credential(session, credential, kind="key.registered", handle=handle,
                           by=actor.handle, now=now)
        return credential


def revoke_as(*, credential_id: int, token: str | None, channel: str,
              now: datetime | None = None) -> Credential:
    """Revoke a credential: an administrator's, or one's own."""
    now = now or utcnow()
    with session_scope() as session:
        owner = _owner(session, credential_id)
    with _as_actor(token=token, audit="credential.revoke",
                   action=f"revoke credentials (#{credential_id})",
                   channel=channel, now=now, subject=owner) as (session, actor):
        credential = identity.revoke(session, credential_id=credential_id, now=now)
        publish_credential(session, credential, kind="credential.revoked",
                           handle=owner or "?", by=actor.handle, now=now)
        return credential


def set_password_as(*, handle: str, password: str, token: str | None, channel: str,
                    now: datetime | None = None) -> Credential:
    """Set a portal password: an administrator for anyone, a person for themself."""
    now = now or utcnow()
    with _as_actor(token=token, audit="credential.password",
                   action=f"set passwords (for '{handle}')", channel=channel,
                   now=now, subject=handle) as (session, actor):
        credential = identity.set_password(session, handle=handle, password=password, now=now)
        publish_credential(session, credential, kind="credential.issued", handle=handle,
                           by=actor.handle, now=now)
        return credential


def link_oidc_as(*, handle: str, issuer: str, subject: str, token: str | None, channel: str,
                 now: datetime | None = None) -> Credential:
    """Let an OIDC subject log in to the portal inbox as `handle`."""
    now = now or utcnow()
    with _as_actor(token=token, audit="credential.oidc",
                   action=f"link logins (for '{handle}')", channel=channel,
                   now=now) as (session, actor):
        credential = identity.link_oidc_subject(session, handle=handle, issuer=issuer,
                                                subject=subject)
        publish_credential(session, credential, kind="credential.issued", handle=handle,
                           by=actor.handle, now=now)
        return credential


def _owner(session: Session, credential_id: int) -> str | None:
    credential = session.get(Credential, credential_id)
    person = session.get(Person, credential.person_id) if credential is not None else None
    return person.handle if person is not None else None
