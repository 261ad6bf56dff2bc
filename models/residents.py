"""The resident register: who may vote on the programme's ballots as a verified resident.

An administrator imports the register (`dueprocess programme register-import`) as the
city's census office keeps it: pseudonymous ids, each with its street and community, never
a name. The ids are the subjects the city's identity platform (OpenID Connect) gives those
residents, so a resident who logs in is found in the register by issuer and subject. Each
import is a whole register: the newest import is the register in force. Imports are
logged (count and file digest; the ids themselves are not published).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime

REGISTER_CHAIN = "resident-register"  # the log chain of the register's imports


class ResidentRegister(SQLModel, table=True):
    """One import of the register (never changed)."""

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=300, description="The OIDC issuer whose subjects the "
                        "register's ids are")
    residents: int = Field(ge=0)
    file_sha256: str = Field(max_length=64)
    imported_by: str = Field(max_length=64)
    imported_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Resident(SQLModel, table=True):
    """One resident of one import of the register."""

    __table_args__ = (UniqueConstraint("register_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    register_id: int = Field(foreign_key="residentregister.id")
    resident_id: str = Field(max_length=255, description="Pseudonymous id (OIDC subject)")
    street: str = Field(max_length=100)
    community: str = Field(max_length=100)
