"""Who is recording: people's credentials, stored so that the database holds no secret.

An API token is shown once when issued and stored as its SHA-256; an Ed25519 key pair is
registered by its public half (its private half never reaches dueprocess). A person who
holds an active token must present it on the token channels (the CLI and the API); the
Prefect form carries the recorder's handle and relies on the Prefect server's own access
control.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.errors import DueProcessError, NotFound
from dueprocess.rules import signatures
from dueprocess.rules.engine import Unmet
from models.base import utcnow
from models.people import Credential, CredentialKind, CredentialPublic, Person

TOKEN_PREFIX = "dp_"
TOKEN_CHANNELS = frozenset({"cli", "api"})
ARTICLE = "ASVS 6.2"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_person(session: Session, handle: str) -> Person:
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    if person is None:
        raise NotFound(f"person '{handle}' is not registered")
    return person


def issue_token(session: Session, *, handle: str, label: str = "") -> tuple[Credential, str]:
    """A new API token for the person: (stored credential, the token, shown only now)."""
    person = get_person(session, handle)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = token_sha256(token)
    assert person.id is not None
    credential = Credential(person_id=person.id, kind=CredentialKind.API_TOKEN, label=label,
                            token_sha256=digest, fingerprint=digest)
    session.add(credential)
    session.flush()
    return credential, token


def register_public_key(
    session: Session, *, handle: str, public_key: str, label: str = ""
) -> Credential:
    """Register an Ed25519 public key (PEM or base64); the same key twice is one credential."""
    person = get_person(session, handle)
    try:
        key = signatures.public_key_text(public_key)
    except signatures.KeyProblem as exc:
        raise DueProcessError(f"public_key of '{handle}': {exc}") from None
    existing = session.exec(select(Credential).where(
        Credential.person_id == person.id, Credential.public_key == key,
        col(Credential.revoked_at).is_(None),
    )).first()
    if existing is not None:
        return existing
    assert person.id is not None
    credential = Credential(person_id=person.id, kind=CredentialKind.ED25519, label=label,
                            public_key=key, fingerprint=signatures.key_fingerprint(key))
    session.add(credential)
    session.flush()
    return credential


def revoke(session: Session, *, credential_id: int, now: datetime | None = None) -> Credential:
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(f"credential #{credential_id} not found")
    if credential.revoked_at is None:
        credential.revoked_at = now or utcnow()
        session.add(credential)
    return credential


def list_credentials(session: Session, *, handle: str) -> list[CredentialPublic]:
    person = get_person(session, handle)
    rows = session.exec(select(Credential).where(Credential.person_id == person.id)
                        .order_by(col(Credential.id)))
    return [CredentialPublic(id=c.id or 0, handle=handle, kind=CredentialKind(c.kind),
                             label=c.label, fingerprint=c.fingerprint, created_at=c.created_at,
                             revoked_at=c.revoked_at) for c in rows]


def authenticate(session: Session, token: str) -> Person | None:
    """The person an active token belongs to, or None."""
    row = session.exec(
        select(Person).join(Credential, col(Credential.person_id) == col(Person.id)).where(
            Credential.token_sha256 == token_sha256(token),
            Credential.kind == CredentialKind.API_TOKEN, col(Credential.revoked_at).is_(None),
        )
    ).first()
    return row


def identity_problems(
    session: Session, *, handle: str, token: str | None, channel: str
) -> list[Unmet]:
    """Why the claimed identity is not accepted on this channel (empty: it is)."""
    if token is not None:
        person = authenticate(session, token)
        if person is None:
            return [Unmet("AUTHENTICATED", ARTICLE, "the token is not valid or was revoked")]
        if person.handle != handle:
            return [Unmet("AUTHENTICATED", ARTICLE,
                          f"the token belongs to '{person.handle}', not to '{handle}'")]
        return []
    if channel in TOKEN_CHANNELS and session.exec(
        select(Credential.id).join(Person, col(Person.id) == col(Credential.person_id)).where(
            Person.handle == handle, Credential.kind == CredentialKind.API_TOKEN,
            col(Credential.revoked_at).is_(None),
        )
    ).first() is not None:
        return [Unmet("AUTHENTICATED", ARTICLE,
                      f"'{handle}' holds an API token: present it (--token or DUEPROCESS_TOKEN)")]
    return []
