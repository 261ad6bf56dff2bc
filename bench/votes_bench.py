"""Benchmark vote intake with receipts, and the recount, of the programme (issues 13, 20).

On PostgreSQL (a fresh database `bench_votes`), in one run:

(a) vote intake: N public votes (default 20,000; --votes 100000 for the issue's figure)
    of verified residents through `cast_resident_vote` as the portal calls it after the
    resident's OIDC login (the resident looked up in the register in force, window and
    choices checked, the vote stored under the keyed pseudonym of issuer and subject, one
    log record per vote on the ballot's chain; votes arriving together share a
    transaction, `programme.vote_intake`), from --clients threads; the register of N
    residents is imported beforehand (not timed). With --codes: through
    `cast_public_vote` with one-time codes stored beforehand in bulk, as `issue_code`
    stores them (code looked up and spent). Meanwhile tree heads are signed every
    --sign-every seconds (what the sign-heads deployment does on its schedule), and every
    --sample-th voter fetches their receipt (`programme.receipts.fetch_receipt`) until a
    signed head covers the vote: receipt latency is from the vote's answer to the receipt.
    Every sampled receipt is then checked offline (`verify_receipt`).
    Baseline: plain INSERTs of the same vote rows into a scratch table with no index,
    check or log, one transaction per row, from the same number of threads.
(b) the recount: close the ballot, export its chain as a dossier, and recount it offline
    (`programme.recount`: every record's inclusion proof, the chain complete, every vote
    checked and counted).

    .venv/bin/python bench/votes_bench.py [--votes 20000] [--clients 16] [--sign-every 30]
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
ISSUER = "https://id.bench.example"


def fresh_database() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    return SERVER.rsplit("/", 1)[0] + f"/{DATABASE}"


def prepare(votes: int, data_dir: Path, verified: bool) -> tuple[int, list[int], list[str]]:
    """A migrated database, an official, a public ballot of 10 options (choose up to 3)
    open for an hour, and `votes` voters: residents in an imported register (their OIDC
    subjects), or one-time codes."""
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
    if verified:
        from programme.residents import import_register_as

        register = "resident_id,street,community\n" + "".join(
            f"sub-{i:08d},Zhongguancun,Keyu\n" for i in range(votes))
        import_register_as(data=register.encode(), issuer=ISSUER, actor=OFFICIAL,
                           token=token_for(OFFICIAL), channel="bench")
        return ballot.id, options, [f"sub-{i:08d}" for i in range(votes)]
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


class Receipts:
    """Sampled voters waiting for their receipts, a signer signing heads on a schedule and
    a poller fetching receipts in the order the votes were answered."""

    def __init__(self, sign_every: float) -> None:
        self.sign_every = sign_every
        self.waiting: list[tuple[float, str]] = []  # (answered at, receipt id)
        self.latencies: list[float] = []
        self.fetch_seconds: list[float] = []
        self.receipts: list[str] = []
        self.heads = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._sign, daemon=True),
                        threading.Thread(target=self._poll, daemon=True)]

    def start(self) -> Receipts:
        for thread in self.threads:
            thread.start()
        return self

    def voted(self, receipt_id: str) -> None:
        with self.lock:
            self.waiting.append((time.perf_counter(), receipt_id))

    def _sign(self) -> None:
        from dueprocess.ledger import publish_tree_head

        while not self.stop.wait(self.sign_every):
            publish_tree_head(announce=lambda _: None)
            self.heads += 1

    def _poll(self) -> None:
        from programme.receipts import ReceiptPending, fetch_receipt

        while not self.stop.wait(0.25):
            while True:
                with self.lock:
                    if not self.waiting:
                        break
                    answered, rid = self.waiting[0]
                started = time.perf_counter()
                try:
                    receipt = fetch_receipt(rid)
                except ReceiptPending:
                    break  # later votes are later leaves: wait for the next head
                done = time.perf_counter()
                with self.lock:
                    self.waiting.pop(0)
                self.fetch_seconds.append(done - started)
                self.latencies.append(done - answered)
                self.receipts.append(receipt.to_json())

    def finish(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.waiting and time.perf_counter() < deadline:
            time.sleep(0.25)
        self.stop.set()
        for thread in self.threads:
            thread.join()


def intake(ballot_id: int, options: list[int], voters: list[str], clients: int,
           sample: int, receipts: Receipts, verified: bool) -> float:
    from programme.ballots import cast_public_vote
    from programme.receipts import receipt_id
    from programme.residents import cast_resident_vote

    def one(index: int) -> None:
        choices = sorted({options[index % 10], options[(index * 7 + 3) % 10]})
        if verified:  # a logged-in resident: issuer and subject
            vote = cast_resident_vote(ballot_id=ballot_id, issuer=ISSUER,
                                      subject=voters[index], choices=choices)
        else:
            vote = cast_public_vote(ballot_id=ballot_id, code=voters[index], choices=choices)
        if index % sample == 0:
            assert vote.id is not None
            receipts.voted(receipt_id(ballot_id=ballot_id, vote_id=vote.id))

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(len(voters))))
    return time.perf_counter() - start


def checked_offline(receipts: list[str]) -> tuple[int, float]:
    from dueprocess.ledger import log_public_key_pem
    from programme.receipts import verify_receipt

    key = log_public_key_pem()
    assert key is not None
    start = time.perf_counter()
    for receipt in receipts:
        verify_receipt(receipt, trusted_public_key_pem=key)
    return len(receipts), time.perf_counter() - start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sign-every", type=float, default=30.0,
                        help="seconds between signed heads (DUEPROCESS_SIGN_HEADS_INTERVAL_"
                        "SECONDS of the sign-heads deployment)")
    parser.add_argument("--codes", action="store_true",
                        help="voters with one-time codes instead of verified residents")
    parser.add_argument("--sample", type=int, default=50,
                        help="every N-th voter fetches a receipt")
    args = parser.parse_args()
    print(f"machine:  {platform.platform()} | {os.cpu_count()} CPUs | Python "
          f"{platform.python_version()}")
    print("load:     {:.1f} {:.1f} {:.1f} (1, 5, 15 min) at start".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        verified = not args.codes
        ballot_id, options, voters = prepare(args.votes, Path(tmp) / "data", verified)
        receipts = Receipts(args.sign_every).start()
        took = intake(ballot_id, options, voters, args.clients, args.sample, receipts,
                      verified)
        receipts.finish(timeout=3 * args.sign_every)
        plain = baseline(args.votes, args.clients)
        print(f"(a) {args.votes:,} {'verified' if verified else 'code'} votes from "
              f"{args.clients} clients: {took:.1f} s = "
              f"{args.votes / took:,.0f} votes/s; plain INSERT {plain:.1f} s = "
              f"{args.votes / plain:,.0f} rows/s; ratio {took / plain:.2f}×")
        late, fetch = receipts.latencies, receipts.fetch_seconds
        print(f"    receipts: {len(late):,} of {len(late) + len(receipts.waiting):,} sampled "
              f"voters (every {args.sample}th) got theirs, heads signed every "
              f"{args.sign_every:.0f} s ({receipts.heads} signed); latency p50 "
              f"{percentile(late, 0.5):.1f} s, p99 {percentile(late, 0.99):.1f} s, max "
              f"{max(late):.1f} s; one fetch p50 {percentile(fetch, 0.5) * 1e3:.1f} ms, max "
              f"{max(fetch) * 1e3:.0f} ms (the first after a head "
              "builds its tree)")
        count, checking = checked_offline(receipts.receipts)
        print(f"    {count:,} receipts checked offline in {checking:.2f} s")
        exported, recounted, counted = recount_ballot(ballot_id, Path(tmp) / "export")
        print(f"(b) export {exported:.1f} s, offline recount of {counted:,} votes "
              f"{recounted:.1f} s")
    print("load:     {:.1f} {:.1f} {:.1f} (1, 5, 15 min) at end".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
