"""`dueprocess demo --inbox` as a newcomer runs it: its own data directory, a case waiting
for reviewers, a login through the local OpenID Connect provider as a reviewer, the task in
the inbox in zh-CN; Ctrl-C stops it and leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from dueprocess.stack.processes import free_port
from dueprocess.stack.startup import reference_seconds

pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), pytest.mark.skipif(
    bool(os.environ.get("DUEPROCESS_TEST_DATABASE_URL")),
    reason="the demo runs on the embedded default (SQLite), whatever the suite's database")]


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def test_the_inbox_demo_waits_for_reviewers_who_log_in_with_oidc(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUEPROCESS_", "PREFECT_"))}
    env |= {"DUEPROCESS_DATA_DIR": str(tmp_path / "data"), "DUEPROCESS_PORTAL_PORT": str(port),
            "COLUMNS": "200"}
    demo = subprocess.Popen(
        [sys.executable, "-c", "from dueprocess.commands.app import main; main()", "demo",
         "--inbox"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(demo.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + max(300, 100 * reference_seconds())
        while not any("Press Ctrl-C to stop." in line for line in lines):
            assert demo.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "".join(lines)[-3000:]
            time.sleep(0.2)
        out = "".join(lines)
        portal = f"http://127.0.0.1:{port}"
        assert f"The inbox is up: {portal}/inbox" in out
        assert re.search(r"prof\.chen\s+\S.*: expert_review", out), out
        assert re.search(r"liu\.yang\s+\S.*: risk_assessment", out), out
        case_id = re.search(r"Case (dp-\d{4}-[0-9a-f]{6}):", out).group(1)  # type: ignore[union-attr]
        with httpx.Client(base_url=portal, timeout=30) as browser:
            start = browser.get("/inbox/login/oidc")
            assert start.status_code == 303, start.text
            answer = httpx.post(start.headers["location"], data={"sub": "liu.yang"}, timeout=30)
            assert answer.status_code == 302, answer.text
            callback = urlparse(answer.headers["location"])
            assert browser.get(f"{callback.path}?{callback.query}").status_code == 200
            inbox = browser.get("/inbox")
            assert inbox.status_code == 200 and case_id in inbox.text
            assert "风险评估" in inbox.text  # the reviewer's task, in zh-CN
        children = _children(demo.pid)
        assert children  # the Prefect server and the served deployments
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=max(120, 30 * reference_seconds()))
        reader.join(timeout=10)
    assert demo.returncode == 0, "".join(lines)[-3000:]
    assert "stopped; no process of the demo is left" in "".join(lines)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]
