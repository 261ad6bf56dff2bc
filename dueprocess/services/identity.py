"""Who is acting: people's credentials, stored so that the database holds no usable secret.

Every write names a person and proves it; a handle alone is never enough. The proofs:
- an API token (CLI, API), shown once when issued and stored as its SHA-256;
- on the Prefect form, whose input Prefect keeps in its own database until the gate has
  taken it (then the gate deletes it), a proof that is no reusable secret: a single-use
  form code bound to case, stage and person (stored only as a keyed digest, consumed by
  the evidence it proves; a refused submission leaves it valid), or an Ed25519 signature
  by the person's registered key over case, stage, person and evidence digest;
- a portal inbox login (OIDC, or a local argon2id password), verified by the portal and
  handed in as a `PortalLogin`.
Ed25519 keys are registered by their public half; the private half never reaches us.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import keyed_digest
from dueprocess.errors import DueProcessError, NotFound, Refused
from dueprocess.rules import signatures
from dueprocess.rules.engine import Unmet
from models.base import utcnow
from models.evidence import EvidenceItem
from models.people import Credential, CredentialKind, CredentialPublic, FormCode, Person, Role

TOKEN_PREFIX = "dp_"
FORM_CODE_PREFIX = "fc_"
FORM_CODE_TTL = timedelta(hours=72)
MIN_PASSWORD_LENGTH = 12
ARTICLE = "ASVS 6.2"
FORM_ARTICLE = "ASVS 6.2, 2.8"
# Who may act for the organ outside a stage: moderate, open ballots and follow-ups.
OFFICIALS = frozenset({Role.OFFICIAL, Role.PARTICIPATION_OFFICER, Role.ADMINISTRATOR})
_HASHER = PasswordHasher()  # argon2id with the library's current parameters


@cache
def _dummy_hash() -> str:
    """Verified when the handle has no password, so that a missing account takes as long;
    made on first use, not at import (argon2 costs every CLI command ~0.5 s)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class PortalLogin:
    """A login the portal inbox verified (its signed session names the person)."""

    handle: str
    method: str  # "oidc" or "password"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def form_code_digest(code: str) -> str:
    """A form code as stored: keyed with the key kept outside the data directory, so a
    copy of the database alone cannot test guesses against it."""
    return keyed_digest("form-code", code)


def get_person(session: Session, handle: str) -> Person:
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    if person is None:
        raise NotFound(f"person '{handle}' is not registered")
    return person


def is_administrator(person: Person | None) -> bool:
    return person is not None and person.role == Role.ADMINISTRATOR


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


NO_CREDENTIAL = ("no credential presented: a write needs your API token (--token or "
                 "DUEPROCESS_TOKEN), a form code or signature on the Prefect form, or a "
                 "portal login; a handle alone is not accepted")


def identity_problems(
    session: Session, *, handle: str, token: str | None, channel: str,
    login: PortalLogin | None = None,
) -> list[Unmet]:
    """Why the claimed identity is not accepted (empty: it is). Every channel needs a
    credential: a token, or a login the portal verified."""
    if token is not None:
        person = authenticate(session, token)
        if person is None:
            return [Unmet("AUTHENTICATED", ARTICLE, "the token is not valid or was revoked")]
        if person.handle != handle:
            return [Unmet("AUTHENTICATED", ARTICLE,
                          f"the token belongs to '{person.handle}', not to '{handle}'")]
        return []
    if login is not None:
        if login.handle != handle:
            return [Unmet("AUTHENTICATED", ARTICLE,
                          f"you are logged in as '{login.handle}', not as '{handle}'")]
        return []
    return [Unmet("AUTHENTICATED", ARTICLE, f"'{handle}': {NO_CREDENTIAL}")]


def authenticated_person(session: Session, *, token: str | None) -> Person:
    """The person an active token belongs to; `Refused` (rule AUTHENTICATED) otherwise."""
    if not token:
        raise Refused([Unmet("AUTHENTICATED", ARTICLE, NO_CREDENTIAL)])
    person = authenticate(session, token)
    if person is None:
        raise Refused([Unmet("AUTHENTICATED", ARTICLE, "the token is not valid or was revoked")])
    return person


# --- The Prefect form's proof -----------------------------------------------------------

def form_proof_message(*, case_id: str, stage_key: str, handle: str,
                       evidence_sha256: str) -> bytes:
    """What a form code is bound to and what a form signature signs."""
    return f"dueprocess-form-v1\n{case_id}\n{stage_key}\n{handle}\n{evidence_sha256}".encode()


def issue_form_code(
    session: Session, *, case_id: str, stage_key: str, person: Person, evidence_sha256: str,
    now: datetime | None = None, ttl: timedelta = FORM_CODE_TTL,
) -> str:
    """A single-use code for the Prefect form (shown once; stored as its keyed digest).
    `evidence_sha256` is what it was asked for, kept for the record: the code proves the
    person's submission to this case stage whatever its evidence, so that a refusal does
    not use it up."""
    now = now or utcnow()
    code = FORM_CODE_PREFIX + secrets.token_urlsafe(24)
    assert person.id is not None
    session.add(FormCode(code_sha256=form_code_digest(code), case_id=case_id, stage_key=stage_key,
                         person_id=person.id, evidence_sha256=evidence_sha256, issued_at=now,
                         expires_at=now + ttl))
    session.flush()
    return code


def _refuse_form(message: str) -> list[Unmet]:
    return [Unmet("FORM-PROOF", FORM_ARTICLE, message)]


def form_proof_problems(
    session: Session, *, proof: str | None, handle: str, case_id: str, stage_key: str,
    evidence_sha256: str, now: datetime,
) -> list[Unmet]:
    """Why the form's proof does not show that `handle` submitted this evidence (empty:
    it does). A valid form code is consumed in the caller's transaction."""
    if not proof:
        return _refuse_form(
            f"'{handle}': the form needs a proof: a code from `dueprocess form-code "
            f"{case_id} {stage_key} --file EVIDENCE.json`, or your Ed25519 signature of the "
            "evidence; a handle alone is not accepted")
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    if person is None:
        return _refuse_form(f"'{handle}' is not registered")
    if proof.startswith(FORM_CODE_PREFIX):
        return _consume_code(session, proof=proof, person=person, case_id=case_id,
                             stage_key=stage_key, evidence_sha256=evidence_sha256, now=now)
    message = form_proof_message(case_id=case_id, stage_key=stage_key, handle=handle,
                                 evidence_sha256=evidence_sha256)
    keys = session.exec(select(Credential.public_key).where(
        Credential.person_id == person.id, Credential.kind == CredentialKind.ED25519,
        col(Credential.revoked_at).is_(None),
    )).all()
    if any(key and signatures.verify(key, message, proof) for key in keys):
        return []
    return _refuse_form(f"the proof is neither a form code nor a signature by a registered "
                        f"key of '{handle}' over this case, stage and evidence")


def _consume_code(
    session: Session, *, proof: str, person: Person, case_id: str, stage_key: str,
    evidence_sha256: str, now: datetime,
) -> list[Unmet]:
    code = session.exec(select(FormCode).where(
        FormCode.code_sha256 == form_code_digest(proof)).with_for_update()).first()
    if code is None:
        return _refuse_form("the form code is not valid")
    if (code.case_id, code.stage_key, code.person_id) != (case_id, stage_key, person.id):
        return _refuse_form("the form code was issued for another case, stage or person: "
                            "ask for a code for this case stage")
    if code.consumed_at is not None:
        # A retry of the very submission it proved is answered from the stored evidence.
        stored = session.exec(select(EvidenceItem.id).where(
            EvidenceItem.case_id == case_id, EvidenceItem.stage_key == stage_key,
            EvidenceItem.recorded_by == person.handle,
            EvidenceItem.payload_sha256 == evidence_sha256)).first()
        return [] if stored is not None else _refuse_form("the form code was already used")
    if code.expires_at <= now:
        return _refuse_form(f"the form code expired at {code.expires_at:%Y-%m-%d %H:%M} UTC")
    code.consumed_at = now
    session.add(code)
    return []


# --- The portal inbox's logins ----------------------------------------------------------

def set_password(session: Session, *, handle: str, password: str,
                 now: datetime | None = None) -> Credential:
    """Set the person's portal password (the old one is revoked); stored as argon2id."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DueProcessError(f"password: at least {MIN_PASSWORD_LENGTH} characters "
                              "(ASVS 2.1.1)")
    person = get_person(session, handle)
    now = now or utcnow()
    for old in session.exec(select(Credential).where(
            Credential.person_id == person.id, Credential.kind == CredentialKind.PASSWORD,
            col(Credential.revoked_at).is_(None))):
        old.revoked_at = now
        session.add(old)
    hashed = _HASHER.hash(password)
    assert person.id is not None
    credential = Credential(person_id=person.id, kind=CredentialKind.PASSWORD,
                            label="portal password", secret_hash=hashed,
                            fingerprint=hashlib.sha256(hashed.encode()).hexdigest())
    session.add(credential)
    session.flush()
    return credential


def verify_password(session: Session, *, handle: str, password: str) -> Person | None:
    """The person, if the password is theirs and active; None otherwise (in similar time)."""
    row = session.exec(
        select(Person, Credential).join(Credential, col(Credential.person_id) == col(Person.id))
        .where(Person.handle == handle, Credential.kind == CredentialKind.PASSWORD,
               col(Credential.revoked_at).is_(None))
    ).first()
    stored = row[1].secret_hash if row is not None and row[1].secret_hash else _dummy_hash()
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return row[0] if row is not None else None


def oidc_fingerprint(issuer: str, subject: str) -> str:
    return hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()


def link_oidc_subject(session: Session, *, handle: str, issuer: str,
                      subject: str) -> Credential:
    """Let the OIDC subject `subject` of `issuer` log in to the inbox as `handle`."""
    person = get_person(session, handle)
    fingerprint = oidc_fingerprint(issuer, subject)
    taken = session.exec(select(Credential).where(
        Credential.kind == CredentialKind.OIDC, Credential.fingerprint == fingerprint,
        col(Credential.revoked_at).is_(None))).first()
    if taken is not None:
        if taken.person_id == person.id:
            return taken
        raise DueProcessError(f"subject: '{subject}' of {issuer} is already linked to "
                              "another person; revoke that link first")
    assert person.id is not None
    credential = Credential(person_id=person.id, kind=CredentialKind.OIDC,
                            label=f"OIDC {issuer}"[:100], fingerprint=fingerprint)
    session.add(credential)
    session.flush()
    return credential


def person_for_oidc(session: Session, *, issuer: str, subject: str) -> Person | None:
    return session.exec(
        select(Person).join(Credential, col(Credential.person_id) == col(Person.id)).where(
            Credential.kind == CredentialKind.OIDC,
            Credential.fingerprint == oidc_fingerprint(issuer, subject),
            col(Credential.revoked_at).is_(None))
    ).first()


def signature_of_form(private_key: Ed25519PrivateKey, *, case_id: str,
                      stage_key: str, handle: str, evidence_sha256: str) -> str:
    """A reviewer's form signature (what `dueprocess form-code --key` prints)."""
    return signatures.sign(private_key, form_proof_message(
        case_id=case_id, stage_key=stage_key, handle=handle, evidence_sha256=evidence_sha256))


def require_official(session: Session, *, actor: str, token: str | None, channel: str,
                     rule: str, rules: str, may: str) -> None:
    """`actor` is authenticated and an official, a participation officer or an
    administrator; otherwise `Refused` names `rule` and what they may not do."""
    problems = identity_problems(session, handle=actor, token=token, channel=channel)
    if problems:
        raise Refused(problems)
    person = get_person(session, actor)
    if person.role not in OFFICIALS and not is_administrator(person):
        raise Refused([Unmet(rule, rules, f"'{actor}' ({person.role}) may not {may}: "
                             "officials and participation officers may")])
