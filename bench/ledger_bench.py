"""Benchmark the ledger's Merkle code against bare hashlib on this machine.

(a) Verifying a whole log: re-hash every leaf from its record bytes and recompute the
    root, compared with 2·N bare ``sha256(data).digest()`` calls in a Python loop timed
    in the same run (the target is at most 2× that baseline; a log of N leaves needs
    about 2·N hashes, N leaves + N-1 nodes, so 2× leaves room for no more than the
    hashing itself costs).
(b) Generating and verifying one inclusion (and consistency) proof on a built tree:
    median over many random indices.

    .venv/bin/python bench/ledger_bench.py               # 1,000,000 leaves
    .venv/bin/python bench/ledger_bench.py --leaves 10000 --check

The database side (appends, `dueprocess verify`, proofs from the database) is
bench/ledger_append_bench.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from ledger.canonical import canonical_bytes
from ledger.merkle import (
    MerkleLog,
    MerkleTree,
    leaf_hashes,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

TARGET_RATIO = 2.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_records(n: int) -> list[bytes]:
    """Small records already in RFC 8785 form, built by formatting (canonicalising a
    million dicts through rfc8785 would take far longer than the thing we measure)."""
    prev = "x3hQm0w2G0n0Zl2H5p6pP9r8Jt8cC0rR0Ue6Zb0xq4E="
    kinds = ("evidence", "transition", "notice", "refusal", "decision")
    records = [
        (
            f'{{"case_id":"2025-BAU-{i // 8:06d}","case_prev":"{prev}","case_seq":{i % 8},'
            f'"kind":"{kinds[i % 5]}","note":"record {i}"}}'
        ).encode()
        for i in range(n)
    ]
    for sample in (records[0], records[-1]):  # the shortcut must really be canonical
        assert canonical_bytes(json.loads(sample)) == sample
    return records


def verify_log(records: list[bytes]) -> bytes:
    return root_from_leaf_hashes(leaf_hashes(records))


def baseline(records: list[bytes]) -> None:
    sha256 = hashlib.sha256
    for _ in range(2):
        for data in records:
            sha256(data).digest()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ns(fn: Callable[[int], object], args: list[int]) -> float:
    samples = []
    for a in args:
        start = time.perf_counter_ns()
        fn(a)
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples)


def roots_at(hashes: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """Roots of many prefixes in one incremental pass (old roots for consistency)."""
    log, roots = MerkleLog(), {}
    for h in hashes:
        log.append(h)
        if log.size in sizes:
            roots[log.size] = log.root()
    return roots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a); best is kept")
    parser.add_argument("--proofs", type=int, default=2000, help="samples for (b)")
    parser.add_argument("--check", action="store_true", help="exit 1 if (a) misses 2x")
    args = parser.parse_args()
    n = args.leaves
    if n < 2:
        parser.error("--leaves must be at least 2")

    print(f"machine:  {platform.platform()} | {platform.machine()} | {cpu_model()}")
    print(f"cpus:     {os.cpu_count()}")
    print(f"python:   {platform.python_implementation()} {platform.python_version()}")
    print(f"openssl:  {ssl.OPENSSL_VERSION}")
    print()

    records = make_records(n)
    avg = sum(map(len, records)) / n
    hashes = leaf_hashes(records)
    log = MerkleLog()
    append_s = timed(lambda: log.extend(hashes))
    expected = log.root()  # computed by the independent incremental path
    print(f"log:      {n:,} leaves, records avg {avg:.0f} bytes")
    per_leaf = append_s / n * 1e6
    print(f"          (incremental MerkleLog append: {append_s:.3f} s, {per_leaf:.2f} µs/leaf)")

    verify_times, base_times = [], []
    for _ in range(args.repeat):  # interleaved so drift hits both alike
        root: bytes = b""

        def run() -> None:
            nonlocal root
            root = verify_log(records)

        verify_times.append(timed(run))
        assert root == expected, "verification produced the wrong root"
        base_times.append(timed(lambda: baseline(records)))
    best_verify, best_base = min(verify_times), min(base_times)
    ratio = best_verify / best_base
    print()
    print("(a) verify whole log (leaf hashes from record bytes + root), best of", args.repeat)
    label_v, label_b = f"verify {n:,} leaves:", f"{2 * n:,} bare sha256().digest():"
    width = max(len(label_v), len(label_b))
    print(f"    {label_v:<{width}} {best_verify:.3f} s")
    print(f"    {label_b:<{width}} {best_base:.3f} s")
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"    ratio: {ratio:.2f}x  (target ≤ {TARGET_RATIO:.0f}x: {verdict})")

    tree_s = timed(lambda: MerkleTree(hashes))
    tree = MerkleTree(hashes)
    rng = random.Random(6962)
    indices = [rng.randrange(n) for _ in range(args.proofs)]
    proofs = {i: tree.inclusion_proof(i) for i in indices}
    root = tree.root
    gen = median_ns(tree.inclusion_proof, indices)
    ver = median_ns(
        lambda i: verify_inclusion(
            leaf_hash=hashes[i], index=i, tree_size=n, proof=proofs[i], root=root
        ),
        indices,
    )
    olds = [rng.randrange(1, n) for _ in range(args.proofs)]
    cproofs = {m: tree.consistency_proof(m) for m in olds}
    old_roots = roots_at(hashes, set(olds))
    cgen = median_ns(tree.consistency_proof, olds)
    cver = median_ns(
        lambda m: verify_consistency(
            old_size=m, new_size=n, old_root=old_roots[m], new_root=root, proof=cproofs[m]
        ),
        olds,
    )
    print()
    print(f"(b) proofs on a built tree (building all levels once: {tree_s:.3f} s)")
    print(f"    inclusion proof ({len(proofs[indices[0]])} hashes), median of {len(indices)}:")
    print(f"      generate {gen / 1000:.1f} µs   verify {ver / 1000:.1f} µs")
    print(f"    consistency proof, median of {len(olds)}:")
    print(f"      generate {cgen / 1000:.1f} µs   verify {cver / 1000:.1f} µs")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
