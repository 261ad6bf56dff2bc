"""Benchmark: one event of an implementation item reaching its 10,000 followers.

Measures, in the same run and against the same loopback webhook receiver (its own
process), the delay from the event (the item's progress notice queued and committed, as
`record_progress_as` does) to the last follower's delivery through the outbox (fan-out,
leased batches, concurrent Apprise sends, every outcome recorded), against a bare
sequential Apprise send of the same message to the same count of followers.

Run: .venv/bin/python bench/followers_bench.py [--followers 10000] [--baseline N]
The baseline is timed on N followers (default: all) and compared as a rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")

from bench.notify_bench import receiver_counts, start_receiver  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="followers-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir),
                       "DUEPROCESS_NOTIFY_CONCURRENCY": str(args.concurrency)})

    import apprise
    from sqlalchemy import insert

    from dueprocess.composition.journal import wire
    from dueprocess.contact_secrets import encrypt, url_key
    from dueprocess.db import migrate, session_scope
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.settings import get_notify_settings
    from dueprocess.stack.processes import free_port
    from models.base import utcnow
    from models.implementation import ImplementationItem
    from models.notices import Subscriber
    from notifications.delivery import deliver_in_processes
    from notifications.followers import item_tag, queue_item_event

    wire()  # before the first write
    migrate()
    port = free_port()
    receiver = start_receiver(port, 0.0)
    try:
        now = utcnow()
        with session_scope() as session:
            case = open_case(session, request=read_case_file(
                ROOT / "dueprocess" / "demo" / "case.yaml"))
            item = ImplementationItem(
                case_id=case.id, title="Lifts for old residential buildings",
                department="District Housing Bureau", level="district",
                registered_by="bench", registered_at=now, registered_on=now.date())
            session.add(item)
            session.flush()
            item_id = item.id or 0
        urls = [f"json://127.0.0.1:{port}/f/{n}" for n in range(args.followers)]
        with session_scope() as session:
            session.execute(insert(Subscriber), [
                {"url_key": url_key(u), "url_ciphertext": encrypt(u), "privacy_url": u,
                 "tags": [item_tag(item_id)], "status": "confirmed", "created_at": now,
                 "confirmed_at": now} for u in urls])

        load_before = os.getloadavg()
        started = time.perf_counter()
        with session_scope() as session:  # the event: its notice commits with it
            followed = session.get(ImplementationItem, item_id)
            assert followed is not None
            notice = queue_item_event(session, item=followed, event="progress",
                                      summary="30%: lift shafts dug in 3 buildings",
                                      subject_id="bench-1", now=utcnow())
            title, body = notice.subject, notice.body_text
        report = deliver_in_processes(1, settings=get_notify_settings())
        ours = time.perf_counter() - started
        counts = receiver_counts(port)
        assert report.delivered == args.followers, report
        assert counts["accepted"] == args.followers, counts

        sample = urls[: args.baseline or args.followers]
        started = time.perf_counter()
        delivered = 0
        for url in sample:
            bare = apprise.Apprise()
            bare.add(url)
            delivered += bool(bare.notify(body=body, title=title))
        bare_seconds = time.perf_counter() - started
        assert delivered == len(sample)
        load_after = os.getloadavg()
    finally:
        receiver.terminate()
        receiver.wait()

    our_rate, bare_rate = args.followers / ours, len(sample) / bare_seconds
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (1-min load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after: shared with other "
          f"work), Python {platform.python_version()}, apprise {apprise.__version__}, "
          "SQLite (embedded)")
    print(f"event -> last of {args.followers} followers delivered: {ours:.2f} s = "
          f"{our_rate:.0f}/s (outbox, concurrency {args.concurrency}, every outcome "
          "recorded; the deliver-notices schedule adds at most its interval)")
    print(f"bare sequential Apprise send: {len(sample)} in {bare_seconds:.2f} s = "
          f"{bare_rate:.0f}/s")
    print(f"ratio: {our_rate / bare_rate:.1f}x; budget 300 s: "
          f"{'met' if ours < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
