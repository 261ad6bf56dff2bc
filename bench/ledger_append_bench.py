"""Benchmark the database side of the transparency log on this machine.

(a) Append N leaves (default 100,000) through the real append path (the journal handler
    `log_case_event`: lock the log head, find the case's chain tail, build and hash the
    RFC 8785 record, update the Merkle frontier), on SQLite and on PostgreSQL, in
    transactions of --batch events, compared with plain INSERTs of the same record bytes
    into a scratch table in the same run (the baseline: what storing the records costs
    without the log). Also one event per transaction for --single events (each commit
    waits for the disk, as a recording does).
(b) On the resulting log: `dueprocess verify` over the whole database, signing and
    publishing a tree head, and an inclusion proof read from the database (load the leaf
    hashes, build the tree, generate, verify).

    .venv/bin/python bench/ledger_append_bench.py
    .venv/bin/python bench/ledger_append_bench.py --leaves 10000 --postgres ''   # SQLite only

The pure in-memory figures (1,000,000-leaf verify vs 2,000,000 bare sha256) are
bench/ledger_bench.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CASES = 1000  # events spread over this many cases, so chain look-ups are real


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def use_database(url: str, data_dir: Path) -> None:
    """Point dueprocess at *url* (fresh, then migrated) and *data_dir*."""
    os.environ["DUEPROCESS_DATABASE_URL"] = url
    os.environ["DUEPROCESS_DATA_DIR"] = str(data_dir)
    os.environ.pop("DUEPROCESS_TREE_HEAD_DIR", None)
    os.environ.pop("DUEPROCESS_LOG_SIGNING_KEY", None)
    from dueprocess.db import migrate
    from dueprocess.settings import get_settings

    get_settings.cache_clear()
    migrate()


def append_events(count: int, batch: int, offset: int) -> None:
    from dueprocess.db import session_scope
    from dueprocess.journal import CaseEvent
    from dueprocess.ledger.log import log_case_event
    from models.base import utcnow

    done = 0
    while done < count:
        with session_scope() as session:
            for n in range(done, min(done + batch, count)):
                i = offset + n
                log_case_event(session, CaseEvent(
                    case_id=f"dp-bench-{i % CASES:06d}", kind="notice.published",
                    occurred_at=utcnow(), stage_key="public_participation",
                    body={"channel": "mailto", "subscribers": i % 50, "n": i},
                ))
        done = min(done + batch, count)


def baseline_inserts(count: int, batch: int) -> None:
    """The same kind of record bytes, INSERTed without lock, chain or Merkle work."""
    from sqlalchemy import text

    from dueprocess.db import session_scope
    from ledger import canonical_bytes, leaf_hash
    from models.base import utcnow

    with session_scope() as session:
        session.connection().execute(text(
            "CREATE TABLE bench_plain (n INTEGER PRIMARY KEY, case_id VARCHAR(64), "
            "record TEXT, leaf_hash VARCHAR(64))"
        ))
    done = 0
    while done < count:
        with session_scope() as session:
            rows = []
            for i in range(done, min(done + batch, count)):
                record = {"case_id": f"dp-bench-{i % CASES:06d}", "kind": "notice",
                          "case_seq": i // CASES, "case_prev": None,
                          "event": "notice.published", "occurred_at": str(utcnow()),
                          "body": {"channel": "mailto", "subscribers": i % 50, "n": i}}
                data = canonical_bytes(record)
                rows.append({"n": i, "c": record["case_id"], "r": data.decode(),
                             "h": leaf_hash(data).hex()})
            for row in rows:  # one statement per row, as the ORM append does
                session.connection().execute(
                    text("INSERT INTO bench_plain VALUES (:n, :c, :r, :h)"), row
                )
        done = min(done + batch, count)


def proof_from_database(samples: int) -> tuple[float, float, float, int]:
    """(load+build seconds, median generate µs, median verify µs, proof length)."""
    import random

    from sqlmodel import col, select

    from dueprocess.db import session_scope
    from ledger import MerkleTree, verify_inclusion
    from models.ledger import LogLeaf

    start = time.perf_counter()
    with session_scope() as session:
        hashes = [bytes.fromhex(h) for h in session.exec(
            select(LogLeaf.leaf_hash).order_by(col(LogLeaf.leaf_index)))]
    tree = MerkleTree(hashes)
    build = time.perf_counter() - start
    rng = random.Random(6962)
    indices = [rng.randrange(tree.size) for _ in range(samples)]
    gen, ver = [], []
    for i in indices:
        t0 = time.perf_counter_ns()
        proof = tree.inclusion_proof(i)
        t1 = time.perf_counter_ns()
        verify_inclusion(leaf_hash=hashes[i], index=i, tree_size=tree.size, proof=proof,
                         root=tree.root)
        t2 = time.perf_counter_ns()
        gen.append(t1 - t0)
        ver.append(t2 - t1)
    return build, statistics.median(gen) / 1000, statistics.median(ver) / 1000, len(proof)


def run(label: str, url: str, data_dir: Path, args: argparse.Namespace) -> None:
    use_database(url, data_dir)
    n, batch = args.leaves, args.batch
    print(f"\n{label}: {url.split('@')[-1] if '@' in url else url} "
          "(load {:.1f})".format(os.getloadavg()[0]))
    base = timed(lambda: baseline_inserts(n, batch))
    append = timed(lambda: append_events(n, batch, 0))
    print(f"  (a) {n:,} leaves in transactions of {batch}:")
    print(f"      log append        {append:7.2f} s   {n / append:9,.0f} leaves/s")
    print(f"      plain INSERT      {base:7.2f} s   {n / base:9,.0f} rows/s   "
          f"(log / plain = {append / base:.2f}x)")
    single = timed(lambda: append_events(args.single, 1, n))
    print(f"      one event per transaction ({args.single:,}): {single:.2f} s, "
          f"{args.single / single:,.0f} leaves/s, {single / args.single * 1000:.2f} ms each")

    from dueprocess.ledger import publish_tree_head, verify_log

    total = n + args.single
    report = None

    def verify() -> None:
        nonlocal report
        report = verify_log()

    sign = timed(lambda: publish_tree_head(announce=lambda _: None))
    check = timed(verify)
    assert report is not None and report.tree_size == total
    print(f"  (b) on the {total:,}-leaf log:")
    print(f"      sign + publish a tree head (re-hash all records): {sign:.2f} s")
    print(f"      dueprocess verify (whole log, heads, rows):       {check:.2f} s")
    build, gen, ver, length = proof_from_database(args.proofs)
    print(f"      inclusion proof: load hashes + build tree {build:.2f} s, then "
          f"generate {gen:.1f} µs, verify {ver:.1f} µs (median of {args.proofs}, "
          f"{length} hashes)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="events per transaction")
    parser.add_argument("--single", type=int, default=2_000,
                        help="extra events appended one per transaction")
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--postgres", default=POSTGRES_SERVER,
                        help="server URL for a scratch database ('' to skip PostgreSQL)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    args = parser.parse_args()
    from dueprocess.composition.journal import wire

    wire()  # before the first write: the log appends its records at each commit

    print(f"machine:  {platform.platform()} | {platform.machine()} | {cpu_model()}")
    print(f"cpus:     {os.cpu_count()}")
    print(f"python:   {platform.python_implementation()} {platform.python_version()}")
    print(f"sqlite:   {sqlite3.sqlite_version} (WAL, synchronous=FULL default)")
    # The machine is shared: the load says how much of it the figures below had.
    print("load:     {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg()))

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        if not args.no_sqlite:
            run("SQLite", f"sqlite:///{tmp}/bench.db", Path(tmp), args)
        if args.postgres:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            from dueprocess.db import _engine_for

            name = f"ledger_bench_{secrets.token_hex(4)}"
            admin = create_engine(make_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar_one()
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.postgres).set(database=name).render_as_string(False)
            try:
                run(f"PostgreSQL {version}", url, Path(tmp) / "pg", args)
            finally:
                _engine_for(url).dispose()
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
