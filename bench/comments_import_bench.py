"""Benchmark: a bulk upload of comments (`dueprocess comments import`) on PostgreSQL.

The file is JSONL in the shape of a mass-comment docket: a share of unique comments, the
rest copies of a few campaign templates with small edits. The run measures:
- the upload: every line checked, staged with COPY, stored in batches of 10,000 with one
  transparency-log record per batch;
- the same file uploaded again (stores nothing);
- baseline, in the same run: a bare COPY of the same rows into a table of the same shape
  with no checks, no keys and no log (the floor for moving the rows into PostgreSQL).

Run: .venv/bin/python bench/comments_import_bench.py [--comments 1000000]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_comments_import]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")

from bench.comments_bench import fresh_postgres_database  # noqa: E402

TEMPLATES = [
    "我坚决反对将A区高峰时段停车费提高到每小时10元，这会加重通勤居民的负担，请保留现行收费标准。",
    "建议保留十五分钟免费接送时段并延长到三十分钟，方便学校和医院周边的家长和病人家属。",
    "支持调整停车收费，但收入应当专款用于增加公共停车位和改善公交服务，并每年公开账目。",
    "夜间居民停车证费率不应上涨，老旧小区没有地下车库，居民只能在路边停车。",
]


def docket(count: int, unique_share: float, seed: int) -> list[str]:
    """JSONL lines: unique comments and campaign copies with small edits."""
    rng = random.Random(seed)
    lines = []
    for n in range(count):
        if rng.random() < unique_share:
            words = "".join(rng.choice("停车收费居民交通公交学校医院时段费率道路安全环境")
                            for _ in range(rng.randint(30, 90)))
            body = f"第{n}号意见：{words}"
        else:
            body = rng.choice(TEMPLATES)
            if rng.random() < 0.3:  # a small edit: a name, a place or punctuation
                body = body.replace("，", rng.choice(["，", ",", "、"]), 1) + rng.choice(
                    ["", "谢谢！", f"（{rng.randint(1, 30)}号楼居民）"])
        record = {"body": body} if n % 3 else {"body": body, "author": f"居民{n}"}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--unique-share", type=float, default=0.06)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                  "bench_comments_import")
    args = parser.parse_args()
    fresh_postgres_database(args.database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="comments-import-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir),
                       "DUEPROCESS_DATABASE_URL": args.database_url})

    import sqlalchemy as sa

    from dueprocess.composition.journal import wire
    from dueprocess.db import get_engine, migrate, session_scope
    from dueprocess.demo.credentials import token_for
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.progress import advance_case
    from portal.comments.upload import import_comments

    wire()  # before the first write: the case and the uploads are logged
    migrate()
    with session_scope() as session:
        case = open_case(session, request=read_case_file(
            ROOT / "dueprocess" / "demo" / "case.yaml"))
    advance_case(case_id=case.id)  # the participation stage opens
    path = data_dir / "docket.jsonl"
    lines = docket(args.comments, args.unique_share, seed=14)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    size_mb = path.stat().st_size / 1e6

    # Baseline: a bare COPY of the same (author, body) rows, no checks, keys or log.
    engine = get_engine()
    records = [json.loads(line) for line in lines]
    del lines
    with engine.connect() as connection:
        connection.execute(sa.text(
            "CREATE TABLE bare_comment (id serial PRIMARY KEY, case_id varchar(32), "
            "author varchar(100), body text)"))
        connection.commit()
        started = time.perf_counter()
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                "COPY bare_comment (case_id, author, body) FROM STDIN") as copy:
            for record in records:
                copy.write_row((case.id, record.get("author"), record["body"]))
        connection.commit()
        bare_seconds = time.perf_counter() - started
    del records

    token = token_for("li.wei")  # the participation officer's API token
    with path.open("rb") as stream:
        first = import_comments(case_id=case.id, stream=stream, filename=path.name,
                                imported_by="li.wei", token=token)
    with path.open("rb") as stream:
        again = import_comments(case_id=case.id, stream=stream, filename=path.name,
                                imported_by="li.wei", token=token)
    assert first.stored == args.comments, first
    assert again.stored == 0 and again.batches == 0, again
    with engine.connect() as connection:
        stored = connection.execute(sa.text(
            "SELECT count(*) FROM comment WHERE case_id = :c"), {"c": case.id}).scalar()
        leaves = connection.execute(sa.text(
            "SELECT count(*) FROM logleaf WHERE case_id = :c AND record LIKE "
            "'%comments.imported%'"), {"c": case.id}).scalar()
        server = connection.execute(sa.text("SHOW server_version")).scalar()
    assert stored == args.comments and leaves == first.batches, (stored, leaves)

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (load average "
          f"{os.getloadavg()[0]:.1f}: shared with other work), Python "
          f"{platform.python_version()}, PostgreSQL {server} on the same machine")
    print(f"file: {args.comments} comments, {args.unique_share:.0%} unique, {size_mb:.0f} MB JSONL")
    print(f"upload: {first.stored} stored in {first.seconds:.1f} s = "
          f"{first.stored / first.seconds:,.0f}/s, {first.batches} batches = "
          f"{leaves} log records")
    print(f"same file again: {again.stored} stored, {again.already_stored} already stored, "
          f"in {again.seconds:.1f} s")
    print(f"baseline, bare COPY of the same rows (no checks, keys or log): {bare_seconds:.1f} s "
          f"= {args.comments / bare_seconds:,.0f}/s; upload/bare ratio "
          f"{first.seconds / bare_seconds:.1f}")


if __name__ == "__main__":
    main()
