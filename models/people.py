"""People who act in a procedure, their credentials, and their per-case stage assignments.

Roles follow Decree 713: officials of the undertaking unit open cases and revise drafts;
each stage has its reviewer role; the members and the head of the decision organ are
people whose `unit` is the organ. Credentials are stored so that the database never
holds a usable secret: API tokens as SHA-256 digests, key pairs as their public half.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, timestamp_field

HANDLE_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class Role(StrEnum):
    OFFICIAL = "official"  # undertaking unit (承办单位)
    PARTICIPATION_OFFICER = "participation_officer"
    EXPERT = "expert"
    RISK_ASSESSOR = "risk_assessor"
    LEGAL_REVIEWER = "legal_reviewer"  # legal department (负责合法性审查的部门)
    MEETING_SECRETARY = "meeting_secretary"
    ORGAN_MEMBER = "organ_member"  # member of the decision organ's meeting
    ORGAN_HEAD = "organ_head"  # administrative head (行政首长)
    PUBLICATION_OFFICER = "publication_officer"
    FILING_OFFICER = "filing_officer"  # files normative documents with the higher authority
    PUBLIC = "public"
    ADMINISTRATOR = "administrator"  # manages people, credentials and keys (not a reviewer)


ORGAN_ROLES = frozenset({Role.ORGAN_MEMBER, Role.ORGAN_HEAD})


class PersonBase(SQLModel):
    handle: str = Field(regex=HANDLE_PATTERN, max_length=64, description="Login-style handle")
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64, description="e.g. legal_reviewer, expert")
    unit: str = Field(default="", max_length=200, description="Department or institution")
    expertise: str = Field(default="", max_length=200,
                           description="An expert's field of expertise (filled into opinions)")


class PersonCreate(PersonBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    role: Role = Field(description="One of the procedure roles")
    public_key: str | None = Field(
        default=None, max_length=200,
        description="Ed25519 public key (base64 of 32 bytes, or PEM) for signed opinions",
    )


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = timestamp_field()


class PersonPublic(BaseModel):
    handle: str
    name: str
    role: str
    unit: str


class Assignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "stage_key", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    stage_key: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id")
    assigned_at: datetime = timestamp_field()


class CredentialKind(StrEnum):
    API_TOKEN = "api_token"  # bearer token for the CLI and the API; stored as its SHA-256
    ED25519 = "ed25519"  # public key; the private key never reaches dueprocess
    PASSWORD = "password"  # the portal inbox's local login; stored as an argon2id hash
    OIDC = "oidc"  # an OpenID Connect subject; fingerprint = SHA-256 of issuer NUL subject


class Credential(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=16, description="a CredentialKind")
    label: str = Field(default="", max_length=100)
    token_sha256: str | None = Field(default=None, max_length=64, unique=True)
    public_key: str | None = Field(default=None, max_length=64, description="base64, 32 bytes")
    fingerprint: str = Field(max_length=64, description="SHA-256 of the token or the key bytes")
    secret_hash: str | None = Field(default=None, max_length=200,
                                    description="argon2id hash of a portal password")
    created_at: datetime = timestamp_field()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class FormCode(SQLModel, table=True):
    """A single-use code proving a reviewer's identity on the Prefect form.

    Issued to an authenticated person for one case and stage; stored only as a keyed
    digest (HMAC-SHA256 under the form-code key), so neither this table nor a copy of it
    yields a code. It is consumed by the evidence it proves, not by a refusal, and the gate
    deletes the form input (code included) from Prefect once the case database holds it.
    `evidence_sha256` is the digest the code was issued for, kept for the record.
    """

    id: int | None = Field(default=None, primary_key=True)
    code_sha256: str = Field(max_length=64, unique=True,
                             description="HMAC-SHA256 of the code (the name predates the key)")
    case_id: str = Field(max_length=32, index=True)
    stage_key: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id")
    evidence_sha256: str = Field(max_length=64)
    issued_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    consumed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class InboxLogin(SQLModel, table=True):
    """A portal inbox session held on the server: the cookie carries a random token whose
    SHA-256 is `token_sha256`. It opens the inbox while it is not ended, not expired, and
    the credential it logged in with is not revoked (a password change revokes the old
    password), so logout, a password change and a revocation end it at once."""

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    credential_id: int = Field(foreign_key="credential.id")
    method: str = Field(max_length=16, description="password or oidc")
    user_agent: str = Field(default="", max_length=200)
    started_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ended_why: str = Field(default="", max_length=32)


class CredentialPublic(BaseModel):
    id: int
    handle: str
    kind: CredentialKind
    label: str
    fingerprint: str
    created_at: datetime
    revoked_at: datetime | None


class InterestDeclarationCreate(BaseModel):
    """An expert's declaration of interests in one case (Decree 713 Art. 20)."""

    model_config = ConfigDict(extra="forbid")

    direct_interest: bool = PydanticField(description="A direct interest in the matter")
    interests: str = PydanticField(
        min_length=1, max_length=5000, description="What was declared, or 'none'"
    )
    declared_on: date


class InterestDeclaration(SQLModel, table=True):
    """Append-only: the latest declaration of an expert for a case stage counts."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    stage_key: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id")
    direct_interest: bool
    interests: str = Field(sa_column=Column(Text, nullable=False))
    declared_on: date
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = timestamp_field()


class PanelNote(SQLModel, table=True):
    """How an expert panel was composed to include differing views (Art. 20).

    Append-only: the latest note of a case stage counts.
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    stage_key: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = timestamp_field()
