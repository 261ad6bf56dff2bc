"""Benchmark: witness cosigning, and the unsigned tail under comment intake (issue 22).

1. Cosigning: 1,000 checkpoints cosigned (C2SP cosignature/v1: message, timestamp, key ID,
   line) against bare Ed25519 signing of the same checkpoint texts, in the same run (ratio;
   best of 5 interleaved rounds each), and the same 1,000 checkpoints through a witness's
   whole add-checkpoint path (request parsing, the log's signature, an RFC 9162
   consistency proof, the state written with fsync before answering).
2. The unsigned tail: comments posted over HTTP to `dueprocess portal` for --seconds while
   this process signs a head as the sign-heads deployment does (every
   DUEPROCESS_MAX_UNSIGNED_SECONDS, default 60 s), asking two witnesses on loopback each
   time. Each leaf's age when a head first covered it is the head's signing time minus its
   append time (both from the case database): the p50/p99/max are printed; the bound is
   DUEPROCESS_MAX_UNSIGNED_SECONDS.

Run: .venv/bin/python bench/cosign_bench.py [--checkpoints 1000] [--seconds 75] [--clients 8]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.checkpoint import checkpoint_text, sign_note  # noqa: E402
from ledger.cosignature import WitnessSigner, cosign  # noqa: E402
from ledger.merkle import MerkleTree, leaf_hash  # noqa: E402
from ledger.witness_server import WitnessService  # noqa: E402


def cosigning(count: int) -> None:
    origin = "bench.example/dueprocess"
    hashes = [leaf_hash(n.to_bytes(8, "big")) for n in range(count + 1)]
    trees = [MerkleTree(hashes[:size]) for size in range(1, count + 1)]
    texts = [checkpoint_text(origin, tree.size, tree.root) for tree in trees]
    raw = Ed25519PrivateKey.generate()
    signer = WitnessSigner("bench.example/w1", raw)
    stamp = int(time.time())
    bare = cosigned = float("inf")
    for _ in range(5):  # interleaved rounds, best of each: the machine is shared
        started = time.perf_counter()
        for text in texts:
            raw.sign(text.encode())
        bare = min(bare, time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            cosign(text, signer, timestamp=stamp)
        cosigned = min(cosigned, time.perf_counter() - started)
    print(f"cosigning: {count} checkpoints: bare Ed25519 {bare * 1000:.1f} ms "
          f"({bare / count * 1e6:.0f} µs each), cosignature/v1 {cosigned * 1000:.1f} ms "
          f"({cosigned / count * 1e6:.0f} µs each): ratio {cosigned / bare:.2f}")

    log = Ed25519PrivateKey.generate()
    bodies = []
    for number, (tree, text) in enumerate(zip(trees, texts, strict=True)):
        old = trees[number - 1].size if number else 0
        proof = tree.consistency_proof(old) if old else []
        lines = "".join(base64.b64encode(p).decode() + "\n" for p in proof)
        bodies.append(f"old {old}\n{lines}\n{sign_note(text, origin, log)}".encode())
    with tempfile.TemporaryDirectory() as directory:
        service = WitnessService(signer=signer, state_path=Path(directory) / "state.json",
                                 logs={origin: log.public_key()})
        started = time.perf_counter()
        for body in bodies:
            assert service.add_checkpoint(body).status == 200
        served = time.perf_counter() - started
    print(f"witness add-checkpoint (parse, log signature, consistency proof, cosign, state "
          f"fsync'd): {count} in {served:.2f} s ({served / count * 1000:.2f} ms each): "
          f"ratio to bare signing {served / bare:.0f}")


def post_until(port: int, path: str, deadline: float, sent: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    while time.monotonic() < deadline:
        body = json.dumps({"body": f"意见 {n}: 建议延长免费停车时段。" * 5,
                           "author": f"居民{n}"}).encode()
        connection.request("POST", path, body=body,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 201, response.status
        n += 1
    sent.append(n)
    connection.close()


def unsigned_tail(seconds: float, clients: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="cosign-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir),
                       "DUEPROCESS_COMMENT_RATE_COUNT": str(10**9)})
    from rich.console import Console
    from sqlalchemy import text

    from dueprocess.composition.journal import wire
    from dueprocess.db import migrate, session_scope
    from dueprocess.demo.witnesses import demo_witnesses
    from dueprocess.ledger import get_transparency_settings, publish_tree_head
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.progress import advance_case
    from dueprocess.stack.processes import free_port

    wire()
    migrate()
    interval = get_transparency_settings().sign_heads_every_seconds or 60
    bound = get_transparency_settings().max_unsigned_seconds
    with session_scope() as session:
        case = open_case(session, request=read_case_file(
            ROOT / "dueprocess" / "demo" / "case.yaml"))
    advance_case(case_id=case.id)
    port = free_port()
    with demo_witnesses(data_dir, Console(file=io.StringIO())):
        server = subprocess.Popen(
            [sys.executable, "-c", "from dueprocess.commands.app import main; main()",
             "portal", "--port", str(port)], cwd=ROOT, env=dict(os.environ))
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/cases", timeout=2)
                    break
                except OSError:
                    if server.poll() is not None:
                        raise RuntimeError("the portal did not start") from None
                    time.sleep(0.2)
            publish_tree_head()  # the case's opening records: signed before the run
            started = time.monotonic()
            deadline = started + seconds
            sent: list[int] = []
            threads = [threading.Thread(target=post_until, args=(
                port, f"/api/cases/{case.id}/comments", deadline, sent)) for _ in range(clients)]
            for thread in threads:
                thread.start()
            signs = 0
            while any(t.is_alive() for t in threads):  # the sign-heads deployment's schedule
                time.sleep(min(interval, max(0.0, deadline - time.monotonic()) + 0.5))
                publish_tree_head()
                signs += 1
            for thread in threads:
                thread.join()
            publish_tree_head()  # the next scheduled run covers the rest
        finally:
            server.terminate()
            server.wait()
        with session_scope() as session:
            connection = session.connection()
            heads = connection.execute(text(
                "SELECT tree_size, published_at FROM publishedtreehead ORDER BY tree_size")).all()
            leaves = connection.execute(text(
                "SELECT leaf_index, appended_at FROM logleaf ORDER BY leaf_index")).all()
            cosigned = connection.execute(text(
                "SELECT COUNT(DISTINCT tree_size), COUNT(*) FROM witnesscosignature")).one()
    ages: list[float] = []
    head = 0
    for index, appended in leaves:
        while heads[head][0] <= index:
            head += 1
        published, appended_at = heads[head][1], appended
        if isinstance(published, str):  # SQLite hands back text
            from datetime import datetime
            published, appended_at = (datetime.fromisoformat(published),
                                      datetime.fromisoformat(appended))
        ages.append((published.replace(tzinfo=None) - appended_at.replace(tzinfo=None))
                    .total_seconds())
    run_leaves = ages[-sum(sent):]
    quantiles = statistics.quantiles(run_leaves, n=100)
    print(f"unsigned tail under comment intake: {sum(sent)} comments in {seconds:.0f} s "
          f"({sum(sent) / seconds:.0f}/s, {clients} clients), a head signed every "
          f"{interval} s ({signs} during the run, {len(heads)} in all; {cosigned[0]} heads "
          f"cosigned by the 2 witnesses, {cosigned[1]} cosignatures)")
    print(f"  age of a leaf when first covered by a signed head: p50 {quantiles[49]:.1f} s, "
          f"p99 {quantiles[98]:.1f} s, max {max(run_leaves):.1f} s "
          f"(bound DUEPROCESS_MAX_UNSIGNED_SECONDS = {bound} s: "
          f"{'within' if quantiles[98] <= bound else 'OVER'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoints", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=75.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (load average "
          f"{os.getloadavg()[0]:.1f}: shared with other work), Python "
          f"{platform.python_version()}")
    cosigning(args.checkpoints)
    unsigned_tail(args.seconds, args.clients)


if __name__ == "__main__":
    main()
