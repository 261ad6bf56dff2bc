"""`dueprocess comments import` and `dueprocess comments clusters` from the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import token_for

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]


def dueprocess(*args: str | Path, as_: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script; `as_`: the person whose API token it presents."""
    token = {"DUEPROCESS_TOKEN": token_for(as_)} if as_ else {}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200", **token})


def test_import_twice_then_cluster(consulting_case: str, tmp_path: Path) -> None:
    upload = tmp_path / "letters.csv"
    upload.write_text("body,author\n请保留免费时段。,王\n请保留免费时段！,李\n公交优先,\n",
                      encoding="utf-8")
    first = dueprocess("comments", "import", consulting_case, upload, "--as", "li.wei",
                       as_="li.wei")
    assert first.returncode == 0, first.stderr
    assert "3 comments in letters.csv" in first.stdout and "3 stored in 1 logged" in first.stdout
    again = dueprocess("comments", "import", consulting_case, upload, "--as", "li.wei",
                       as_="li.wei")
    assert "0 stored in 0 logged batches, 3 already stored" in again.stdout

    clusters = dueprocess("comments", "clusters", consulting_case)
    assert clusters.returncode == 0, clusters.stderr
    assert "3 comments were received: 1 unique comments and 2 copies in 1 campaign" \
        in clusters.stdout


def test_a_refused_upload_names_line_and_field(consulting_case: str, tmp_path: Path) -> None:
    upload = tmp_path / "bad.jsonl"
    upload.write_text('{"body": "ok"}\n{"body": "ok", "mail": "x@y"}\n', encoding="utf-8")
    result = dueprocess("comments", "import", consulting_case, upload, "--as", "li.wei",
                       as_="li.wei")
    assert result.returncode == 2
    assert "line 2, field 'mail': unknown field" in result.stdout + result.stderr
    wrong = dueprocess("comments", "import", consulting_case, upload, "--as", "wang.fang",
                       as_="wang.fang")
    assert "'wang.fang' is not assigned" in wrong.stdout + wrong.stderr
