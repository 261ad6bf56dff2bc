"""Benchmark: capacity of the stack.

- waiting: N cases (default 1,000) each waiting at its first gate on the embedded
  default (`dueprocess up`'s processes: a Prefect server on SQLite and the served
  deployments). Reports the processes held while they wait (the target is zero: a
  suspended run holds none) and the memory of the stack. Runs are started in batches so
  that the machine never starts more than `--batch` flow processes at once.
- decisions: N cases (default 200) driven to their decision concurrently on scale-out
  (two API servers on PostgreSQL with Redis, cases on PostgreSQL, two process workers),
  as cases per minute, with the peak memory of the stack.

    python bench/capacity_stack.py waiting [--cases 1000] [--batch 25]
    python bench/capacity_stack.py decisions [--cases 200] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import contextvars
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUIET = {"DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "0",
         "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "0"}


def processes(marker: str) -> list[tuple[int, str, int]]:
    """(pid, command, RSS bytes) of live processes whose environment has marker=value."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            rss = int((entry / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
        found.append((int(entry.name), command, rss))
    return found


class MemoryWatch:
    """Samples the stack's total RSS every second; keeps the peak."""

    def __init__(self, marker: str) -> None:
        self.marker, self.peak, self.stop = marker, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(1):
            self.peak = max(self.peak, sum(rss for *_, rss in processes(self.marker)))


def machine() -> str:
    return (f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def flow_processes(found: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    return [p for p in found if "prefect.engine" in p[1] or "flow_run" in p[1]]


def count_waiting(client: Any, run_ids: list[Any]) -> int:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    waiting = 0
    for start in range(0, len(run_ids), 200):
        waiting += client.count_flow_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=run_ids[start:start + 200]),
            state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))))
    return waiting


def waiting(args: argparse.Namespace) -> None:
    from prefect.client.orchestration import get_client

    from dueprocess.stack import local_prefect_server, prefect_environment, served_deployments

    data_dir = Path(tempfile.mkdtemp(prefix="dueprocess-capacity-")) / "data"
    marker = f"DUEPROCESS_DATA_DIR={data_dir}"
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), **QUIET,
                       "DUEPROCESS_DATABASE_URL": f"sqlite:///{data_dir / 'cases.db'}"})
    with local_prefect_server(data_dir) as api_url, served_deployments(data_dir, api_url):
        os.environ.update(prefect_environment(data_dir, api_url))
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from dueprocess.cases import open_case, read_case_file
        from dueprocess.db import migrate, session_scope
        from dueprocess.prefect_link import start_case_run
        from tests.conftest import DEMO_CASE

        migrate()
        idle = sum(rss for *_, rss in processes(marker))
        watch = MemoryWatch(marker)
        started = time.perf_counter()
        run_ids: list[Any] = []
        with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
            request = read_case_file(DEMO_CASE)
            while len(run_ids) < args.cases:
                batch = []
                for _ in range(min(args.batch, args.cases - len(run_ids))):
                    with session_scope() as session:
                        case_id = open_case(session, request=request).id
                    batch.append(start_case_run(case_id))
                run_ids += batch
                while count_waiting(client, batch) < len(batch):
                    time.sleep(1)
                print(f"  {len(run_ids)} cases waiting at their first gate "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            elapsed = time.perf_counter() - started
            time.sleep(5)  # let the last flow processes exit
            assert count_waiting(client, run_ids) == len(run_ids)
            found = processes(marker)
        watch.stop.set()
    held = flow_processes(found)
    print(machine())
    print(f"{args.cases} cases waiting at a gate on the embedded default (SQLite Prefect "
          f"server + served deployments), started in batches of {args.batch}")
    print(f"  all waiting after {elapsed:.0f} s ({args.cases / elapsed * 60:.0f} cases/min "
          f"brought to their first gate)")
    print(f"  flow-run processes held while they wait: {len(held)} (target 0)")
    print(f"  processes of the stack: {len(found)}: " + ", ".join(
        sorted({c.split()[2] if len(c.split()) > 2 else c for _, c, _ in found})))
    print(f"  memory of the stack (RSS): idle {idle / 2**20:.0f} MiB, with "
          f"{args.cases} waiting {sum(r for *_, r in found) / 2**20:.0f} MiB, "
          f"peak while starting {watch.peak / 2**20:.0f} MiB")


def decisions(args: argparse.Namespace) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.scaleout.harness import pointed_at, scale_out, wait_for_workers

    work_dir = Path(tempfile.mkdtemp(prefix="dueprocess-capacity-scaleout-"))
    marker = f"DUEPROCESS_DATA_DIR={work_dir / 'data'}"
    with scale_out(work_dir, workers=2, worker_env=QUIET) as stack, \
            pointed_at(stack.cases_url, stack.api_urls[0]):
        wait_for_workers(stack)
        from dueprocess.cases import open_case, read_case_file
        from dueprocess.db import session_scope
        from dueprocess.prefect_link import resume_after_recording, start_case_run
        from dueprocess.recording import record_evidence
        from dueprocess.status import case_view
        from tests.conftest import DEMO_CASE
        from tests.support import VALID_STEPS

        def drive(case_id: str) -> None:
            with temporary_settings({PREFECT_API_URL: stack.api_urls[0]}):
                start_case_run(case_id)
                for stage, by, evidence in VALID_STEPS:
                    item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                                           evidence=evidence, channel="bench")
                    resume_after_recording(item, timeout=600)

        request = read_case_file(DEMO_CASE)
        with session_scope() as session:
            case_ids = [open_case(session, request=request).id for _ in range(args.cases)]
        idle = sum(rss for *_, rss in processes(marker))
        watch = MemoryWatch(marker)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            context = contextvars.copy_context()
            list(pool.map(lambda c: context.copy().run(drive, c), case_ids))
        elapsed = time.perf_counter() - started
        watch.stop.set()
        closed = sum(case_view(c).case.status.value == "closed" for c in case_ids)
    print(machine())
    print(f"{args.cases} cases driven to their decision on scale-out (2 Prefect API servers "
          f"on PostgreSQL + Redis, cases on PostgreSQL, 2 process workers, 1 s polling), "
          f"{args.concurrency} at a time")
    print(f"  {closed}/{args.cases} closed in {elapsed:.0f} s: "
          f"{closed / elapsed * 60:.1f} cases per minute "
          f"({closed * len(VALID_STEPS) / elapsed:.2f} transitions/s)")
    print(f"  memory of the stack (RSS): idle {idle / 2**20:.0f} MiB, "
          f"peak {watch.peak / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    wait = parts.add_parser("waiting")
    wait.add_argument("--cases", type=int, default=1000)
    wait.add_argument("--batch", type=int, default=25)
    decide = parts.add_parser("decisions")
    decide.add_argument("--cases", type=int, default=200)
    decide.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    {"waiting": waiting, "decisions": decisions}[args.part](args)


if __name__ == "__main__":
    main()
