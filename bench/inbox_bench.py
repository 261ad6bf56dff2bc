"""Benchmark: the reviewer inbox list at scale on PostgreSQL.

Fills a benchmark database with --tasks open stages (cases of the decree-713 procedure,
each with all its stages open) and a reviewer who sees --visible of them: half by name
(assignments), half as a candidate (their role is the candidate group). Then measures
`portal.inbox.tasklist.open_tasks`, the list the inbox page shows: the one query, the
deadlines, the counts of three saved filters and one of them selected; and, in the same
run, a plain indexed SELECT of the same stage rows by primary key as the baseline. Prints
p50 / p95 of each, their ratio and the machine.

Run: .venv/bin/python bench/inbox_bench.py [--tasks 100000] [--visible 1000] [--runs 200]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_inbox]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.comments_bench import fresh_postgres_database  # noqa: E402


def fill(*, tasks: int, visible: int) -> tuple[int, list[int]]:
    """Cases with every stage open, bulk-inserted (the rows, not the acts: the benchmark
    reads); returns the reviewer's person id and the ids of the stage rows they see."""
    import sqlalchemy as sa
    from sqlmodel import col

    from dueprocess.db import get_engine
    from models.cases import DecisionCase
    from models.inbox_tasks import StageCandidate
    from models.people import Assignment, Person
    from models.procedure import load_procedure
    from models.stages import Stage

    procedure = load_procedure("decree-713")
    keys = list(procedure.stage_keys)
    raw = procedure.model_dump(mode="json")
    cases = -(-tasks // len(keys))
    now = datetime.now(UTC)
    engine = get_engine()
    with engine.begin() as connection:
        reviewer = connection.execute(sa.insert(Person).values(
            handle="bench.reviewer", name="Bench Reviewer", role="risk_assessor",
            unit="Bench Unit", expertise="", created_at=now).returning(col(Person.id))
        ).scalar_one()
        made = 0
        for start in range(0, cases, 1000):
            batch = range(start, min(cases, start + 1000))
            connection.execute(sa.insert(DecisionCase), [dict(
                id=f"bench-{i}", title=f"Bench case {i}", summary="", organ="Bench organ",
                undertaking_unit="Bench unit", proposal_source="government", legal_basis=[],
                procedure_id=procedure.id, procedure=raw, status="open", opened_by="bench",
                opened_at=now - timedelta(days=i % 90)) for i in batch])
            rows = []
            for i in batch:
                for n, key in enumerate(keys):
                    if made < tasks:
                        rows.append(dict(case_id=f"bench-{i}", key=key, status="open",
                                         opened_at=now - timedelta(days=(i + n) % 60)))
                        made += 1
            connection.execute(sa.insert(Stage), rows)
        # Spread the reviewer's tasks over the cases: by name, then as a candidate.
        step = max(1, cases // visible)
        chosen = [(f"bench-{(j * step) % cases}", keys[j % len(keys)]) for j in range(visible)]
        named, offered = chosen[: visible // 2], chosen[visible // 2:]
        if named:
            connection.execute(sa.insert(Assignment), [dict(
                case_id=c, stage_key=k, person_id=reviewer, assigned_at=now) for c, k in named])
        if offered:
            connection.execute(sa.insert(StageCandidate), [dict(
                case_id=c, stage_key=k, kind="role", value="risk_assessor", added_by="bench",
                added_at=now) for c, k in offered])
        connection.execute(sa.text("ANALYZE"))
        ids = [int(row[0] or 0) for row in connection.execute(
            sa.select(col(Stage.id)).where(sa.tuple_(col(Stage.case_id), col(Stage.key))
                                           .in_(chosen)))]
    return int(reviewer or 0), ids


def timed(fn: object, runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--visible", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_inbox")
    args = parser.parse_args()
    fresh_postgres_database(args.database_url)
    os.environ["DUEPROCESS_DATABASE_URL"] = args.database_url

    import sqlalchemy as sa
    from sqlmodel import col

    from dueprocess.composition.journal import wire
    from dueprocess.db import get_engine, migrate, session_scope
    from models.people import Person
    from models.stages import Stage, StageStatus
    from portal.inbox.tasklist import Criteria, open_tasks, save_filter

    wire()
    migrate()
    started = time.perf_counter()
    reviewer, ids = fill(tasks=args.tasks, visible=args.visible)
    filled = time.perf_counter() - started
    now = datetime.now(UTC)
    with session_scope() as session:
        person = session.get(Person, reviewer)
        assert person is not None
        save_filter(session, person, name="overdue", criteria=Criteria(overdue_only=True),
                    now=now)
        save_filter(session, person, name="one case", criteria=Criteria(case_id="bench-0"),
                    now=now)
        chosen = save_filter(session, person, name="due in a week", now=now,
                             criteria=Criteria(due_before=now + timedelta(days=7))).id
    with session_scope() as session:
        person = session.get(Person, reviewer)
        assert person is not None
        listed = open_tasks(session, person, now=now, selected=chosen)
        assert listed.everything == args.visible, (listed.everything, args.visible)

        def inbox() -> None:
            open_tasks(session, person, now=now, selected=chosen)

        plain = sa.select(col(Stage.case_id), col(Stage.key), col(Stage.opened_at)).where(
            sa.column("id").in_(ids))

        def baseline() -> None:
            assert len(session.execute(plain).all()) == len(ids)

        timed(inbox, 5)  # warm
        timed(baseline, 5)
        inbox_ms, baseline_ms = timed(inbox, args.runs), timed(baseline, args.runs)
        with get_engine().connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(Stage).where(
                col(Stage.status) == StageStatus.OPEN)).scalar_one()
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, PostgreSQL")
    print(f"open tasks {total:,} (filled in {filled:.1f} s); the reviewer sees {args.visible:,}"
          f" ({args.visible // 2:,} by name, the rest as a candidate); selected filter lists "
          f"{listed.total:,}, counts {[(f.name, f.count) for f in listed.filters]}")
    for label, values in (("inbox list + counts + filter", inbox_ms),
                          ("plain indexed SELECT (baseline)", baseline_ms)):
        print(f"{label}: p50 {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms "
              f"({args.runs} runs)")
    print(f"ratio p95 inbox / baseline: {p95(inbox_ms) / p95(baseline_ms):.1f}x; "
          f"target p95 <= 200 ms: {'met' if p95(inbox_ms) <= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
