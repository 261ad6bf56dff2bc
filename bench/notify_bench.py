"""Benchmark: notify 10,000 subscribers through a local webhook receiver.

Compares, in the same run and against the same receiver (a separate process on loopback):
  * dueprocess: fan-out + leased batches + concurrent Apprise sends over keep-alive
    connections + batched outcomes, everything recorded in the case database (embedded
    default: SQLite), from one process or --processes N sharing the queue;
  * baseline: a naive sequential Apprise loop (one Apprise object per subscriber, one
    notify() after the other), recording nothing.

Run: .venv/bin/python bench/notify_bench.py [--subscribers 10000] [--baseline N]
The baseline is timed on N subscribers (default: all) and compared as a rate.
--latency S makes the receiver answer after S seconds, as a remote endpoint would.
Prints the CPU time per message of the sending process and of the receiver (Linux /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")


def receiver_counts(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        return dict(json.loads(response.read()))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_receiver(port: int, delay: float) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "notifications.transport.receiver", "--port",
                                str(port), "--delay", str(delay)], cwd=ROOT,
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()  # "receiving on …"
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1,
                        help="Delivery processes sharing the queue through the leases")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="Receiver answers after this many seconds (a remote endpoint)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir),
                       "DUEPROCESS_NOTIFY_CONCURRENCY": str(args.concurrency)})

    import apprise
    from sqlalchemy import insert
    from sqlmodel import select

    from dueprocess.composition.journal import wire
    from dueprocess.contact_secrets import encrypt, url_key
    from dueprocess.db import migrate, session_scope
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.progress import advance_case
    from dueprocess.settings import get_notify_settings
    from dueprocess.stack.processes import free_port
    from models.base import utcnow
    from models.notices import Notice, Subscriber
    from notifications.delivery import deliver_in_processes

    wire()  # before the first write (the delivery processes are wired as this one is)
    migrate()
    port = free_port()
    receiver = start_receiver(port, args.latency)
    try:
        urls = [f"json://127.0.0.1:{port}/s/{n}" for n in range(args.subscribers)]
        now = utcnow()
        with session_scope() as session:
            session.execute(insert(Subscriber), [
                {"url_key": url_key(u), "url_ciphertext": encrypt(u), "privacy_url": u,
                 "tags": ["public"], "status": "confirmed", "created_at": now,
                 "confirmed_at": now} for u in urls])
            case = open_case(session, request=read_case_file(
                ROOT / "dueprocess" / "demo" / "case.yaml"))
        advance_case(case_id=case.id)  # queues the call for comments to "public"
        with session_scope() as session:
            notice = session.exec(select(Notice).where(
                Notice.case_id == case.id, Notice.kind == "call_for_comments")).one()
            title, body = notice.subject, notice.body_text

        load_before = os.getloadavg()
        receiver_cpu, sender_cpu = cpu_seconds(receiver.pid), time.process_time()
        started = time.perf_counter()
        report = deliver_in_processes(args.processes, settings=get_notify_settings())
        ours = time.perf_counter() - started
        our_cpu = (time.process_time() - sender_cpu, cpu_seconds(receiver.pid) - receiver_cpu)
        counts = receiver_counts(port)
        assert report.delivered == args.subscribers, report
        assert counts["accepted"] == args.subscribers, counts

        sample = urls[: args.baseline or args.subscribers]
        receiver_cpu, sender_cpu = cpu_seconds(receiver.pid), time.process_time()
        started = time.perf_counter()
        delivered = 0
        for url in sample:
            naive = apprise.Apprise()
            naive.add(url)
            delivered += bool(naive.notify(body=body, title=title))
        naive_seconds = time.perf_counter() - started
        naive_cpu = (time.process_time() - sender_cpu, cpu_seconds(receiver.pid) - receiver_cpu)
        assert delivered == len(sample)
        load_after = os.getloadavg()
    finally:
        receiver.terminate()
        receiver.wait()

    our_rate = args.subscribers / ours
    naive_rate = len(sample) / naive_seconds
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (1-min load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after: shared with other "
          "work), Python "
          f"{platform.python_version()}, apprise {apprise.__version__}, SQLite (embedded)")
    print(f"receiver: loopback webhook in its own process, answering after "
          f"{args.latency * 1000:.0f} ms")
    per_message = "CPU per message: sender {:.2f} ms, receiver {:.2f} ms"
    print(f"dueprocess delivery: {args.subscribers} subscribers in {ours:.2f} s = "
          f"{our_rate:.0f}/s (concurrency {args.concurrency}, {args.processes} process(es), "
          "every outcome recorded)")
    print("  " + per_message.format(*(1000 * c / args.subscribers for c in our_cpu))
          + (" (this process only)" if args.processes > 1 else ""))
    print(f"naive sequential Apprise loop: {len(sample)} in {naive_seconds:.2f} s = "
          f"{naive_rate:.0f}/s")
    print("  " + per_message.format(*(1000 * c / len(sample) for c in naive_cpu)))
    print(f"ratio: {our_rate / naive_rate:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
