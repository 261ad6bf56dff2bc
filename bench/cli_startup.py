"""Start-up time of the read commands `dueprocess cases` and `dueprocess status`, against a
bare `python -c "import sqlmodel, typer, rich"` measured in the same run.

The target: each command starts in at most 2x the baseline. Rounds are interleaved
(baseline, cases, status, baseline, …) so that a change of load on a shared machine
hits all three alike; the figures are the median and the best of each.

    .venv/bin/python bench/cli_startup.py              # 7 rounds
    .venv/bin/python bench/cli_startup.py --rounds 15 --check

Runs on a fresh SQLite case database in a temporary directory with one case opened
(no Prefect server: PREFECT_API_URL is unset, so `status` makes no Prefect call).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, "-c", "import sqlmodel, typer, rich"]
CLI = [sys.executable, "-m", "dueprocess.commands"]
TARGET = 2.0


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {load}")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - started


def cli(arguments: list[str], env: dict[str, str]) -> str:
    """Run a `dueprocess` command (not measured); its output, or its error on failure."""
    done = subprocess.run([*CLI, *arguments], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"dueprocess {' '.join(arguments[:2])} failed:\n"
                         f"{done.stderr}{done.stdout}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {TARGET}x")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dp-cli-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
        env.update(DUEPROCESS_DATA_DIR=tmp, DUEPROCESS_DATABASE_URL=f"sqlite:///{tmp}/cases.db",
                   DUEPROCESS_ALLOW_SIMULATED_TIME="true")  # the demo case's clock
        case_file = str(ROOT / "dueprocess/demo/case.yaml")
        cli(["init"], env)
        # A write needs a credential: an administrator registers the case file's people and
        # gives its official a token, who opens the case (the CLI wires each process).
        admin = cli(["init-admin", "bench.admin", "--name", "Bench Admin"], env).split()[-1]
        cli(["people", "import", case_file], {**env, "DUEPROCESS_TOKEN": admin})
        official = cli(["credentials", "token", "wang.fang"],
                       {**env, "DUEPROCESS_TOKEN": admin}).split()[-1]
        opened = cli(["open", case_file, "--no-start"], {**env, "DUEPROCESS_TOKEN": official})
        case_id = opened.split("Opened case ", 1)[1].split(":", 1)[0].strip()
        commands = {"baseline (import sqlmodel, typer, rich)": BASELINE,
                    "dueprocess cases": [*CLI, "cases"],
                    f"dueprocess status {case_id}": [*CLI, "status", case_id]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the page cache, not measured
            timed(command, env)
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command, env))
    print(machine())
    print(f"{args.rounds} interleaved rounds; seconds, median (best)")
    base_name = next(iter(commands))
    base_median = statistics.median(times[base_name])
    base_best = min(times[base_name])
    worst = 0.0
    for name, values in times.items():
        median, best = statistics.median(values), min(values)
        ratio = median / base_median
        worst = max(worst, ratio)
        print(f"  {name:44s} {median:6.2f} ({best:5.2f})   {ratio:4.2f}x median, "
              f"{best / base_best:4.2f}x best")
    print(f"target: each command <= {TARGET:g}x the baseline; worst median ratio {worst:.2f}x")
    return 1 if args.check and worst > TARGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
