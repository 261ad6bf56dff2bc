"""Benchmark: public comment submissions per second over HTTP (`dueprocess portal`, one
uvicorn process), from concurrent keep-alive clients on loopback, on the embedded default
(SQLite) or on PostgreSQL (--database-url).

Each accepted comment is validated, its case's comment window read (no lock on the case
row), stored with its receipt number in its own transaction and logged as a case event.
For reference, the same run measures a read-only request (GET /api/notices?limit=1) on the
same server, and pages through the stored comments with GET .../comments?after=.

Run: .venv/bin/python bench/comments_bench.py [--comments 2000] [--clients 16] [--workers 2]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_comments]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")


def hammer(port: int, method: str, path: str, bodies: list[bytes],
           latencies: list[float], statuses: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for body in bodies:
        started = time.perf_counter()
        connection.request(method, path, body=body or None,
                           headers={"Content-Type": "application/json"} if body else {})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        statuses.append(response.status)
    connection.close()


def run(port: int, method: str, path: str, bodies: list[bytes],
        clients: int) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    statuses: list[int] = []
    threads = [threading.Thread(target=hammer, args=(port, method, path, bodies[i::clients],
                                                     latencies, statuses))
               for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def fresh_postgres_database(url: str) -> None:
    """Drop and create the database named in *url* (a benchmark's own, never a shared one)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    assert parsed.database and parsed.database.startswith("bench"), \
        "--database-url must name a database whose name starts with 'bench'"
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    engine.dispose()


def page_through(port: int, case_id: str, limit: int) -> tuple[int, int, float]:
    """Read every comment page by page; return (comments, pages, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    seen = pages = 0
    after: int | None = None
    started = time.perf_counter()
    while True:
        query = f"limit={limit}" + (f"&after={after}" if after is not None else "")
        connection.request("GET", f"/api/cases/{case_id}/comments?{query}")
        response = connection.getresponse()
        page = json.loads(response.read())
        assert response.status == 200, page
        seen += len(page["comments"])
        pages += 1
        after = page["next_cursor"]
        if after is None:
            break
    connection.close()
    return seen, pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes (1: `dueprocess portal` itself)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a database to create afresh (dropped first)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="comments-bench-"))
    database = {}
    if args.database_url:
        fresh_postgres_database(args.database_url)
        database = {"DUEPROCESS_DATABASE_URL": args.database_url}
    env = {**os.environ, "DUEPROCESS_DATA_DIR": str(data_dir), **database,
           # One client address sends everything here: lift the per-client limit.
           "DUEPROCESS_COMMENT_RATE_COUNT": str(10**9)}
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), **database})

    from dueprocess.composition.journal import wire
    from dueprocess.db import migrate, session_scope
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.progress import advance_case
    from dueprocess.stack.processes import free_port

    wire()  # this process opens the case (the portal's processes wire themselves)
    migrate()
    with session_scope() as session:
        case = open_case(session, request=read_case_file(
            ROOT / "dueprocess" / "demo" / "case.yaml"))
    advance_case(case_id=case.id)  # the comment window opens
    port = free_port()
    command = [sys.executable, "-c", "from dueprocess.commands.app import main; main()", "portal",
               "--port", str(port)]
    if args.workers > 1:  # the same app, in several processes (each its own intake writer)
        command = [sys.executable, "-m", "uvicorn", "dueprocess.composition.portal:create_app",
                   "--factory", "--port", str(port), "--workers", str(args.workers),
                   "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/cases", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        bodies = [json.dumps({"body": f"意见 {n}: 建议延长免费停车时段。" * 5,
                              "author": f"居民{n}"}).encode() for n in range(args.comments)]
        seconds, latencies, statuses = run(port, "POST", f"/api/cases/{case.id}/comments",
                                           bodies, args.clients)
        read_seconds, read_latencies, read_statuses = run(
            port, "GET", "/api/notices?limit=1", [b""] * args.comments, args.clients)
        paged, pages, page_seconds = page_through(port, case.id, 500)
    finally:
        server.terminate()
        server.wait()
    assert statuses.count(201) == args.comments, {s: statuses.count(s) for s in set(statuses)}
    assert read_statuses.count(200) == args.comments
    from portal.comments.submission import comments_for_case

    with session_scope() as session:
        stored = comments_for_case(session, case_id=case.id).count
    assert stored == args.comments == paged, (stored, paged)
    engine_name = "PostgreSQL" if args.database_url else "SQLite (embedded default)"

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (load average "
          f"{os.getloadavg()[0]:.1f}: shared with other work), Python "
          f"{platform.python_version()}; portal: uvicorn, {args.workers} process(es), "
          f"{engine_name}")
    print(f"comments: {args.comments} accepted in {seconds:.2f} s = "
          f"{args.comments / seconds:.0f}/s with {args.clients} keep-alive clients "
          f"(p50 {p(latencies, 50):.1f} ms, p95 {p(latencies, 95):.1f} ms); all stored")
    print(f"reference, read-only GET /api/notices?limit=1: {args.comments / read_seconds:.0f}/s "
          f"(p50 {p(read_latencies, 50):.1f} ms); comment/read ratio "
          f"{(args.comments / seconds) / (args.comments / read_seconds):.2f}")
    print(f"paging: {paged} comments read in {pages} pages of 500 in {page_seconds:.2f} s")


if __name__ == "__main__":
    main()
