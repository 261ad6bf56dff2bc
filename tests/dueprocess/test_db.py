"""The SQLite case database shared by processes: a process that makes a second engine for
the file (its engine cache evicted the first) must not lose another process's commits."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from dueprocess.db import _engine_for

WRITE_AND_CLOSE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("INSERT INTO note VALUES (?)", (sys.argv[2],))
connection.close()
"""


def _another_process_writes(path: Path, note: str) -> None:
    subprocess.run([sys.executable, "-c", WRITE_AND_CLOSE, str(path), note], check=True)


def test_a_second_engine_for_the_file_keeps_every_process_s_commits(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    url = f"sqlite:///{path}"
    first = _engine_for(url)
    held = first.connect()  # a pooled connection this process keeps open, as a server does
    with held.begin():
        held.execute(text("CREATE TABLE note (text TEXT)"))
    _engine_for.cache_clear()  # evicted: the next use makes a new engine for the same file
    second = _engine_for(url)
    for n in range(2):  # the processes take turns, as the CLI and a test session do
        _another_process_writes(path, f"other {n}")
        with held.begin():
            held.execute(text("INSERT INTO note VALUES (:text)"), {"text": f"this {n}"})
    held.close()
    for engine in (first, second):
        engine.dispose()
    with sqlite3.connect(path) as reader:
        notes = sorted(row[0] for row in reader.execute("SELECT text FROM note"))
    assert notes == ["other 0", "other 1", "this 0", "this 1"]

