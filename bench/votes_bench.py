"""Benchmark vote intake and the recount of the practical-matters programme (issue 13).

On PostgreSQL (a fresh database `bench_votes`), in one run:

(a) vote intake: N public votes (default 100,000) through `cast_public_vote` as the portal
    and CLI call it (code looked up and spent, window and choices checked, the vote stored
    under its pseudonym, one log record per vote on the ballot's chain; votes arriving
    together share a transaction, `programme.vote_intake`), from --clients threads; the
    codes are stored beforehand in bulk, as `issue_code` stores them (not timed).
    Baseline: plain INSERTs of the same vote rows into a scratch table with no index,
    check or log, one transaction per row, from the same number of threads.
(b) the recount: close the ballot, export its chain as a dossier, and recount it offline
    (`programme.recount`: every record's inclusion proof, the chain complete, every vote
    checked and counted).

    .venv/bin/python bench/votes_bench.py [--votes 100000] [--clients 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "bench_votes"
OFFICIAL = "bench.official"


def fresh_database() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    return SERVER.rsplit("/", 1)[0] + f"/{DATABASE}"


def prepare(votes: int, data_dir: Path) -> tuple[int, list[int], list[str]]:
    """A migrated database, an official, a public ballot of 10 options (choose up to 3)
    open for an hour, and `votes` one-time codes."""
    os.environ.update(DUEPROCESS_DATABASE_URL=fresh_database(), DUEPROCESS_DATA_DIR=str(data_dir),
                      DUEPROCESS_ALLOW_EXPOSED_SIGNING_KEY="true")
    from sqlmodel import col, select

    from dueprocess.clock import system_now
    from dueprocess.composition.journal import wire
    from dueprocess.db import migrate, session_scope
    from dueprocess.demo.credentials import token_for
    from dueprocess.settings import get_settings
    from models.people import Person
    from models.programme import BallotCreate, Level, ProposalCreate, VoterCode
    from programme.ballots import code_digest, open_ballot_as, pseudonym
    from programme.proposals import submit_proposal

    get_settings.cache_clear()
    wire()  # before the first write (the intake threads share this process's wiring)
    migrate()
    with session_scope() as session:
        session.add(Person(handle=OFFICIAL, name="Bench Official", role="official", unit="x"))
    options = [submit_proposal(request=ProposalCreate(
        category="交通", level=Level.DISTRICT, place="Haidian",
        description=f"Practical matter number {i} for the bench"), client="bench").id or 0
        for i in range(10)]
    now = system_now()
    ballot = open_ballot_as(request=BallotCreate(
        year=now.year, title="Bench ballot", roll="public", choose_up_to=3,
        opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=6),
        options=options), actor=OFFICIAL, token=token_for(OFFICIAL), channel="bench")
    assert ballot.id is not None
    codes = [f"{i:08d}" for i in range(votes)]
    expires = now + timedelta(hours=6)
    with session_scope() as session:  # what `issue_code` stores, one transaction for all
        session.connection().execute(VoterCode.__table__.insert(), [  # type: ignore[attr-defined]
            {"ballot_id": ballot.id, "pseudonym": pseudonym(ballot.id, f"mailto://v{i}@x.org"),
             "code_sha256": code_digest(ballot.id, code), "expires_at": expires,
             "used_at": None} for i, code in enumerate(codes)])
        # A code reads `<locator>-<secret>`: the locators are the rows' ids, in order.
        ids = session.exec(select(VoterCode.id).where(VoterCode.ballot_id == ballot.id)
                           .order_by(col(VoterCode.id))).all()
    return ballot.id, options, [f"{i}-{code}" for i, code in zip(ids, codes, strict=True)]


def intake(ballot_id: int, options: list[int], codes: list[str], clients: int) -> float:
    from programme.ballots import cast_public_vote

    def one(index: int) -> None:
        choices = sorted({options[index % 10], options[(index * 7 + 3) % 10]})
        cast_public_vote(ballot_id=ballot_id, code=codes[index], choices=choices)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(len(codes))))
    return time.perf_counter() - start


def baseline(votes: int, clients: int) -> float:
    import sqlalchemy as sa

    from dueprocess.settings import get_settings

    # Its own pool, one connection per client, as each client holds one.
    db = sa.create_engine(get_settings().resolved_database_url, pool_size=clients)
    with db.begin() as connection:
        connection.execute(sa.text("CREATE TABLE bench_plain_vote (id serial, ballot_id int, "
                                   "pseudonym text, choices text, cast_at timestamptz)"))
    insert = sa.text("INSERT INTO bench_plain_vote (ballot_id, pseudonym, choices, cast_at) "
                     "VALUES (1, :p, '[1, 4]', now())")
    local = threading.local()

    def one(index: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = db.connect()
        with local.connection.begin():
            local.connection.execute(insert, {"p": f"{index:064x}"})

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(votes)))
    return time.perf_counter() - start


def recount_ballot(ballot_id: int, out: Path) -> tuple[float, float, int]:
    from dueprocess.clock import system_now
    from dueprocess.demo.credentials import token_for
    from dueprocess.ledger import export_dossier, log_public_key_pem
    from models.programme import ballot_chain
    from programme.ballots import close_ballot_as
    from programme.recount import recount

    close_ballot_as(ballot_id=ballot_id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="bench", now=system_now() + timedelta(hours=7))
    start = time.perf_counter()
    export_dossier(ballot_chain(ballot_id), out, announce=lambda _: None, of_case=False)
    exported = time.perf_counter() - start
    key = log_public_key_pem()
    assert key is not None
    start = time.perf_counter()
    result = recount(out, trusted_public_key_pem=key)
    return exported, time.perf_counter() - start, result.votes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    print(f"machine:  {platform.platform()} | {os.cpu_count()} CPUs | Python "
          f"{platform.python_version()}")
    print("load:     {:.1f} {:.1f} {:.1f} (1, 5, 15 min) at start".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        ballot_id, options, codes = prepare(args.votes, Path(tmp) / "data")
        took = intake(ballot_id, options, codes, args.clients)
        plain = baseline(args.votes, args.clients)
        print(f"(a) {args.votes:,} votes from {args.clients} clients: {took:.1f} s = "
              f"{args.votes / took:,.0f} votes/s; plain INSERT {plain:.1f} s = "
              f"{args.votes / plain:,.0f} rows/s; ratio {took / plain:.2f}×")
        exported, recounted, counted = recount_ballot(ballot_id, Path(tmp) / "export")
        print(f"(b) export {exported:.1f} s, offline recount of {counted:,} votes "
              f"{recounted:.1f} s")
    print("load:     {:.1f} {:.1f} {:.1f} (1, 5, 15 min) at end".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
