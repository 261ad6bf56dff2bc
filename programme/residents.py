"""Verified residents: the resident register an administrator imports, and the votes of the
residents in it.

The register (`models.residents`) is a CSV file with exactly the columns `resident_id`,
`street` and `community`; a column it does not know, one it lacks, an empty value or an id
listed twice is refused naming the column or line (RESIDENT-REGISTER), and nothing is
stored. Each import is logged on the `resident-register` chain (the count and the file's
SHA-256, not the ids) and becomes the register in force.

A resident logs in with OpenID Connect at the city's identity platform (the issuer the
register was imported for); their person is the keyed hash of issuer and subject, so the
same person is one voter however often they log in, and their pseudonym on a ballot is
keyed per ballot from it, as every voter's is. Their votes are stored at the `verified`
assurance level (`programme.vote_intake`), where one-time codes give `channel`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.journal import CaseEvent, publish
from dueprocess.services.identity import require_official
from dueprocess.services.refusal_audit import audited
from models.one_time_codes import Assurance
from models.programme import Ballot, Roll, Vote, ballot_chain
from models.residents import REGISTER_CHAIN, Resident, ResidentRegister
from programme.ballots import pseudonym
from programme.errors import RULES, refused
from programme.vote_intake import PendingVote, enqueue

COLUMNS = ("resident_id", "street", "community")
REGISTER_IMPORTED = "register.imported"
_LIMITS = {"resident_id": 255, "street": 100, "community": 100}


def parse_register(text: str) -> list[dict[str, str]]:
    """The rows of a register file; `Refused` (RESIDENT-REGISTER) names the column or line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise refused("RESIDENT-REGISTER", f"column {unknown[0]!r} is not a register "
                          f"column; the columns are {', '.join(COLUMNS)}")
        lacking = [name for name in COLUMNS if name not in header]
        if lacking:
            raise refused("RESIDENT-REGISTER", f"column {lacking[0]!r} is missing; the "
                          f"columns are {', '.join(COLUMNS)}")
        rows: list[dict[str, str]] = []
        seen: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            if None in raw or any(value is None for value in raw.values()):
                raise refused("RESIDENT-REGISTER", f"line {line}: {len(COLUMNS)} values "
                              "expected, one per column")
            row = {name.strip(): value.strip() for name, value in raw.items()}
            for name in COLUMNS:
                if not row[name]:
                    raise refused("RESIDENT-REGISTER", f"line {line}: {name} is empty")
                if len(row[name]) > _LIMITS[name]:
                    raise refused("RESIDENT-REGISTER", f"line {line}: {name} is longer than "
                                  f"{_LIMITS[name]} characters")
            if row["resident_id"] in seen:
                raise refused("RESIDENT-REGISTER", f"line {line}: resident_id is listed "
                              f"before, on line {seen[row['resident_id']]}")
            seen[row["resident_id"]] = line
            rows.append(row)
    except csv.Error as exc:
        raise refused("RESIDENT-REGISTER", f"line {reader.line_num}: not CSV ({exc})") from None
    if not rows:
        raise refused("RESIDENT-REGISTER", "the register lists no resident")
    return rows


def import_register_as(*, data: bytes, issuer: str, actor: str, token: str | None,
                       channel: str) -> ResidentRegister:
    """Import a whole register for `issuer`'s subjects; it replaces the one in force."""
    with audited(case_id=REGISTER_CHAIN, action="import_register", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        require_official(session, actor=actor, token=token, channel=channel,
                         rule="RESIDENT-REGISTER-OFFICIAL", rules=RULES,
                         may="import the resident register")
        issuer = issuer.strip().rstrip("/")  # as the login names it (and OIDC compares it)
        if not issuer.startswith(("https://", "http://")) or len(issuer) > 300:
            raise refused("RESIDENT-REGISTER", "issuer: the identity platform's OIDC issuer "
                          "URL (https://…), at most 300 characters")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise refused("RESIDENT-REGISTER", "file: the register is UTF-8 CSV") from None
        rows = parse_register(text)
        register = ResidentRegister(
            issuer=issuer, residents=len(rows), file_sha256=hashlib.sha256(data).hexdigest(),
            imported_by=actor, imported_at=system_now())
        session.add(register)
        session.flush()
        assert register.id is not None
        session.connection().execute(Resident.__table__.insert(), [  # type: ignore[attr-defined]
            {"register_id": register.id, **row} for row in rows])
        publish(session, CaseEvent(
            case_id=REGISTER_CHAIN, kind=REGISTER_IMPORTED, occurred_at=register.imported_at,
            person=actor, subject_id=register.id,
            body={"register_id": register.id, "issuer": issuer, "residents": len(rows),
                  "file_sha256": register.file_sha256}))
        session.expunge(register)
        return register


def resident(session: Session, *, issuer: str, subject: str) -> Resident | None:
    """The resident `subject` of `issuer` in the register in force, if listed (one query:
    every verified vote asks)."""
    newest = select(func.max(ResidentRegister.id)).scalar_subquery()
    return session.exec(select(Resident).join(
        ResidentRegister, col(ResidentRegister.id) == col(Resident.register_id)).where(
        col(Resident.register_id) == newest, ResidentRegister.issuer == issuer,
        Resident.resident_id == subject)).first()


def person_key(*, issuer: str, subject: str) -> str:
    """One person, however often they log in: the keyed hash of issuer and subject."""
    return keyed_digest("verified-resident", f"{issuer}\n{subject}")


# Whether the ballot is on the public roll and the resident is in the register in force,
# in one round trip: every verified vote asks before it joins the intake's batch.
_ballot = Ballot.__table__.c  # type: ignore[attr-defined]
_resident = Resident.__table__.c  # type: ignore[attr-defined]
_register = ResidentRegister.__table__.c  # type: ignore[attr-defined]
_NEWEST = sa.select(sa.func.max(_register.id)).scalar_subquery()
_MAY_VOTE = sa.select(
    sa.select(_ballot.roll).where(_ballot.id == sa.bindparam("ballot")).scalar_subquery(),
    sa.exists().where(_resident.register_id == _NEWEST,
                      _resident.resident_id == sa.bindparam("subject"),
                      _register.id == _resident.register_id,
                      _register.issuer == sa.bindparam("issuer")))


def cast_resident_vote(*, ballot_id: int, issuer: str, subject: str, choices: list[int],
                       now: datetime | None = None) -> Vote:
    """Count a verified resident's vote: listed in the register in force, once per ballot."""
    received_at = now or system_now()
    with audited(case_id=ballot_chain(ballot_id), action="cast_vote", stage_key=None,
                 person=None, channel="portal"):
        with session_scope() as session:
            roll, listed = session.connection().execute(_MAY_VOTE, {
                "ballot": ballot_id, "subject": subject, "issuer": issuer}).one()
        if roll is None:
            raise NotFound(f"ballot #{ballot_id} does not exist")
        if roll != Roll.PUBLIC:
            raise refused("VOTE-ROLL", f"ballot #{ballot_id} is for the {roll} roll: experts "
                          "vote with their token")
        if not listed:
            raise refused("VOTE-RESIDENT", "you are not in the resident register in force, "
                          f"so you cannot vote on ballot #{ballot_id} as a verified resident")
        voter = pseudonym(ballot_id, f"resident:{person_key(issuer=issuer, subject=subject)}")
        return enqueue(PendingVote(ballot_id=ballot_id, choices=list(choices),
                                   received_at=received_at, pseudonym=voter,
                                   assurance=Assurance.VERIFIED)).result()
