"""Benchmark: campaign clustering (`portal.comments.clusters.find_clusters`) — accuracy on the
labelled synthetic set, and time on a mass-comment docket.

Accuracy: pairwise precision and recall against the labels, and the true counts (unique
comments, campaigns) against the truth, for several seeds. Time: the docket of
bench/comments_import_bench.py (a share of unique comments, the rest campaign copies with
small edits); baseline in the same run: grouping by exact text only (a dict of digests),
the floor every clustering pays.

Run: .venv/bin/python bench/comments_clusters_bench.py [--comments 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.comments_import_bench import docket  # noqa: E402
from portal.comments.clusters import NUM_PERM, SHINGLE, THRESHOLD, find_clusters  # noqa: E402
from tests.portal.labelled_comments import (  # noqa: E402
    labelled_set,
    opposites_together,
    pair_scores,
    stance_set,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--unique-share", type=float, default=0.06)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs (load average "
          f"{os.getloadavg()[0]:.1f}: shared with other work), Python "
          f"{platform.python_version()}; MinHash {NUM_PERM} permutations, character "
          f"{SHINGLE}-grams, threshold {THRESHOLD}")
    for seed in (18, 19, 20, 21, 22):
        items = labelled_set(seed=seed, unique=1000)
        labels = [label for _, label in items]
        result = find_clusters(list(enumerate(text for text, _ in items)))
        predicted: list[object] = [result.leader_of.get(i) for i in range(len(items))]
        precision, recall = pair_scores(labels, predicted)
        true_unique = sum(label.startswith("u") for label in labels)
        print(f"labelled set seed {seed}: {len(items)} comments ({true_unique} unique, 8 "
              f"campaigns): precision {precision:.4f}, recall {recall:.4f}; counted "
              f"{sum(p is None for p in predicted)} unique, "
              f"{len(set(result.leader_of.values()))} campaigns")

    for seed in (18, 19, 20, 21, 22):  # plus stance pairs and short texts, each side apart
        items = stance_set(seed=seed, unique=1000)
        labels = [label for _, label in items]
        result = find_clusters(list(enumerate(text for text, _ in items)))
        predicted = [result.leader_of.get(i) for i in range(len(items))]
        precision, recall = pair_scores(labels, predicted)
        print(f"with stance pairs and short texts, seed {seed}: {len(items)} comments: "
              f"precision {precision:.4f}, recall {recall:.4f}; clusters holding both sides "
              f"of a pair: {len(opposites_together(labels, predicted))}")

    bodies = [json.loads(line)["body"] for line in docket(args.comments, args.unique_share, 14)]
    started = time.perf_counter()
    groups: dict[str, int] = {}
    for body in bodies:
        digest = hashlib.sha256(body.encode()).hexdigest()
        groups[digest] = groups.get(digest, 0) + 1
    exact_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = find_clusters(enumerate(bodies))
    seconds = time.perf_counter() - started
    clusters = len(set(result.leader_of.values()))
    print(f"docket: {len(bodies)} comments, {args.unique_share:.0%} written as unique")
    print(f"clustering: {seconds:.1f} s = {len(bodies) / seconds:,.0f}/s; {clusters} campaigns "
          f"holding {len(result.leader_of)} comments, {len(bodies) - len(result.leader_of)} "
          "unique")
    print(f"baseline, exact-text grouping only: {exact_seconds:.1f} s, {len(groups)} distinct "
          f"texts; clustering/baseline ratio {seconds / exact_seconds:.1f}")


if __name__ == "__main__":
    main()
