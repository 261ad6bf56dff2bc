"""`dueprocess demo --programme` as a newcomer runs it: its own data directory, its own
Prefect server, and a year of the programme from proposals to the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dueprocess.stack.startup import reference_seconds

# The demo's own deadline is derived from a measured reference start-up (below).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), pytest.mark.skipif(
    bool(os.environ.get("DUEPROCESS_TEST_DATABASE_URL")),
    reason="the demo runs on the embedded default (SQLite), whatever the suite's database")]


def test_a_year_of_the_programme_runs_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DUEPROCESS_", "PREFECT_"))}
    env |= {"DUEPROCESS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    demo = subprocess.run(
        [sys.executable, "-c", "from dueprocess.commands.app import main; main()", "demo",
         "--programme"], capture_output=True, text=True, cwd=tmp_path, env=env,
        timeout=max(600, 200 * reference_seconds()))
    out = demo.stdout
    assert demo.returncode == 0, out[-3000:] + demo.stderr[-3000:]
    assert "#6 merged into #2, #7 refused" in out
    assert "9 votes recounted, equal to the published tally" in out
    assert "the case is closed" in out and "Completed" in out
    assert "supervision: milestone" in out and "逾期督办" in out  # the escalation arrived
    report = (tmp_path / "data" / "programme" / "report-2027.csv").read_text().splitlines()
    assert report[1:] == [
        "District Stability Office,1,2,0,1,0,1,1,1,100.0,0.0,0,0,",  # 1 done late of 1 due
        "District Urban Management Commission,1,2,2,0,0,0,2,0,100.0,100.0,0,0,"]
    assert (tmp_path / "data" / "programme" / "report-2027.svg").read_text().startswith("<svg")
    dossier = out.split("Decision dossier")[-1]
    assert "verified" in dossier
    # The list case is closed: the reader is told to check that nothing was cut off.
    assert "Anyone can repeat this: dueprocess verify-dossier " in dossier
    assert " --require-closed\n" in dossier and "not closed yet" not in dossier
