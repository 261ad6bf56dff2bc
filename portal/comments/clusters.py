"""Mass-comment campaigns: exact and near-duplicate clusters of a case's comments, and the
true counts (unique comments against campaign copies) that the adoption statement reports.

How comments are clustered (`find_clusters`):
1. Each text is normalised (NFKC, case-folded, without spaces, punctuation and symbols),
   so copies that differ only in those are exact copies: grouped by digest, no MinHash.
2. Each distinct normalised text gets a MinHash (datasketch) of its character shingles
   (2 characters by default: Chinese has no spaces between words, most words are two
   characters, and character n-grams need no dictionary; `jieba` words when asked for and
   installed: word bigrams, measured, found only 62 % of copy pairs at the same threshold).
3. Texts of opposite stance never share a cluster (`stance`): a sentence and its opposite
   (同意/不同意, 赞成/反对, 保留/不保留, support/oppose) share most shingles. Texts with a
   different number of negations (不, 没有, not, …) are in separate LSH indexes; within one,
   a text for (赞成, 支持, 同意, …) never joins a cluster against (反对, 拒绝, …), nor the
   reverse. A text with neither may join either: a campaign copy whose edit broke its
   marker ("反的对") still counts with its campaign, and is no opposite of anything.
4. Leader clustering over MinHash LSH: texts in id order; a text joins the most similar
   earlier leader whose estimated Jaccard similarity reaches the threshold (and merges the
   clusters of every other such leader: it bridges them), else it leads a new cluster.
   Only leaders are indexed, so a campaign of a million near-copies costs one LSH query
   each, not a million comparisons.

A cluster's key is `campaign-<receipt of its first comment>`: stable while comments are
added. `cluster_case_comments` stores each member's cluster (`CommentCluster`) and logs the
assignment's digest as a `comments.clustered` case event, so the counts the adoption
statement reports can be recomputed and checked by anyone holding the comments. The
participation gate (rule PP-EVERY-OPINION-ANSWERED) then needs every cluster answered by
a response naming its key, and that answer covers exactly the cluster's members.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.services.cases import get_case
from models.base import utcnow
from models.notices import Comment, CommentCluster

KEY_PREFIX = "campaign-"
KEY_PATTERN = re.compile(r"campaign-[A-Z0-9][A-Z0-9-]*[A-Z0-9]")
NUM_PERM = 128
SEED = 713  # fixed: the same comments always give the same clusters
THRESHOLD = 0.6  # estimated Jaccard similarity of shingle sets for a near-copy
SHINGLE = 2
MIN_CAMPAIGN = 2  # copies that make a cluster


_NOT_WORD = re.compile(r"[\W_]+")  # spaces, punctuation and symbols, in any script


def normalise(text: str) -> str:
    """The text without what copies vary freely: width, case, spaces, punctuation, symbols."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


# Stance markers by class. A text's stance is how many of each class it holds, so "同意" (FOR)
# and "不同意" (NEG + FOR), "赞成" and "反对", "保留" and "不保留" all differ; campaign
# copies keep their markers (their edits are signatures, particles, punctuation, order).
# Longest first, so "没有" is one negation, not "没" and "有".
STANCE_CLASSES: dict[str, tuple[str, ...]] = {
    "for": ("赞成", "赞同", "支持", "同意", "拥护", "support", "supports", "supported",
            "supporting", "agree", "agrees", "agreed", "favor", "favour", "approve"),
    "against": ("反对", "拒绝", "抵制", "否决", "oppose", "opposes", "opposed", "opposing",
                "against", "reject", "rejects", "rejected", "disagree", "disagrees"),
    "negation": ("没有", "不", "没", "无", "未", "别", "勿", "莫", "not", "no", "never", "nor",
                 "cannot", "n't"),
}
_MARKER_CLASS = {marker: name for name, markers in STANCE_CLASSES.items() for marker in markers}
_MARKERS = re.compile("|".join(
    re.escape(m) if not m.isascii() else (r"n't(?![a-z])" if m == "n't"
                                          else rf"(?<![a-z]){m}(?![a-z])")
    for m in sorted(_MARKER_CLASS, key=len, reverse=True)))  # an English word between any
# two non-letters: "not" is not in "nothing", but is in "我not同意" (no \b between 我 and n)


def stance(text: str) -> tuple[int, int, int]:
    """(for, against, negation) markers in a text, NFKC and case-folded (an English marker
    is a whole word: "not" is not found in "nothing"); `find_clusters` keeps apart texts
    with different negations, and texts for from texts against."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    found = [_MARKER_CLASS[m] for m in _MARKERS.findall(folded)]
    return found.count("for"), found.count("against"), found.count("negation")


def _agree(lean: int, other: int) -> bool:
    """Whether two leanings (+1 for, -1 against, 0 neither) may share a cluster."""
    return lean == other or lean == 0 or other == 0


def shingles(text: str, *, size: int = SHINGLE, words: bool = False) -> set[bytes]:
    """Character n-grams of a normalised text (or its words with jieba, if asked)."""
    if words:
        import jieba  # deferred: optional (the dev extra), only for word shingles

        return {t.encode() for t in jieba.lcut(text) if t.strip()}
    if len(text) <= size:
        return {text.encode()}
    return {text[i:i + size].encode() for i in range(len(text) - size + 1)}


@dataclass(frozen=True)
class Clustering:
    """Each clustered comment's leader (the first comment of its cluster), by comment id;
    comments in no cluster are left out."""

    leader_of: dict[int, int]
    comments: int

    def sizes(self) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for leader in self.leader_of.values():
            sizes[leader] = sizes.get(leader, 0) + 1
        return sizes


def find_clusters(
    comments: Iterable[tuple[int, str]], *, threshold: float = THRESHOLD,
    num_perm: int = NUM_PERM, words: bool = False, min_size: int = MIN_CAMPAIGN,
) -> Clustering:
    """Cluster (id, text) pairs, given in id order, into exact and near-duplicate copies."""
    from datasketch import (  # deferred: numpy and scipy (1 s); the portal never clusters
        MinHash,
        MinHashLSH,
    )

    exact: dict[str, list[int]] = {}  # normalised-text digest -> comment ids
    texts: dict[str, str] = {}
    stances: dict[str, tuple[int, int, int]] = {}  # digest -> the stance of its first body
    seen: dict[str, str] = {}  # body as sent -> its normalised digest (copies are common)
    total = 0
    for comment_id, body in comments:
        total += 1
        known = seen.get(body)
        if known is not None:
            digest = known
        else:
            text = normalise(body)
            digest = seen[body] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
            if digest not in texts:
                texts[digest], stances[digest] = text, stance(body)
        members = exact.get(digest)
        if members is None:
            exact[digest] = [comment_id]
        else:
            members.append(comment_id)
    digests = list(exact)  # in order of each text's first comment
    # CRC-32 of a shingle is enough input for MinHash's permutations, at a fifth of SHA-1.
    hashes = MinHash.bulk([shingles(texts[d], words=words) for d in digests],
                          num_perm=num_perm, seed=SEED, hashfunc=zlib.crc32)
    # Candidates come from a lower LSH threshold than the one a pair must reach, so that
    # pairs just above it are rarely missed; each candidate's similarity is then estimated.
    # One index per number of negations: a text meets only leaders with as many.
    indexes: dict[int, Any] = {}
    leaning: dict[str, int] = {}  # a cluster's root -> +1 for, -1 against, 0 neither yet
    parent: dict[str, str] = {}  # union-find over leaders: leaders a text bridges merge

    def root(digest: str) -> str:
        while parent[digest] != digest:
            parent[digest] = parent[parent[digest]]
            digest = parent[digest]
        return digest

    joined: dict[str, str] = {}  # digest -> the leader it joined (itself for a leader)
    signatures: dict[str, Any] = {}
    for digest, minhash in zip(digests, hashes, strict=True):
        in_favour, against, negations = stances[digest]
        lean = (in_favour > against) - (against > in_favour)
        lsh = indexes.get(negations)
        if lsh is None:
            lsh = indexes[negations] = MinHashLSH(
                threshold=max(0.05, threshold - 0.1), num_perm=num_perm)
        close = [(minhash.jaccard(signatures[c]), c) for c in lsh.query(minhash)]
        close = sorted((s, c) for s, c in close
                       if s >= threshold and _agree(lean, leaning[root(c)]))
        if not close:
            lsh.insert(digest, minhash)
            signatures[digest] = minhash
            parent[digest] = joined[digest] = digest
            leaning[digest] = lean
            continue
        joined[digest] = close[-1][1]
        target = root(close[-1][1])
        leaning[target] = leaning[target] or lean
        for _, leader in close[:-1]:  # it bridges these clusters, unless they disagree
            other = root(leader)
            if other != target and _agree(leaning[other], leaning[target]):
                parent[other] = target
                leaning[target] = leaning[target] or leaning[other]
    leader_text = {d: root(joined[d]) for d in digests}
    groups: dict[str, list[int]] = {}
    for digest in digests:
        groups.setdefault(leader_text[digest], []).extend(exact[digest])
    leader_of: dict[int, int] = {}
    for members in groups.values():
        if len(members) >= min_size:
            first = min(members)
            leader_of.update((m, first) for m in members)
    return Clustering(leader_of=leader_of, comments=total)


class ClusterPublic(BaseModel):
    key: str = Field(description="campaign-<receipt of its first comment>: name it in the "
                                 "response that answers the cluster")
    size: int
    sample: str = Field(description="The text of its first comment")


class CampaignCounts(BaseModel):
    """True counts of a case's comments (ACUS Recommendation 2021-1)."""

    case_id: str
    comments: int = Field(description="Comments received")
    unique: int = Field(description="Comments in no campaign cluster")
    campaign_copies: int = Field(description="Comments in campaign clusters")
    campaigns: int = Field(description="Campaign clusters (exact or near-duplicate copies)")
    distinct_opinions: int = Field(description="unique + campaigns: what the responses answer")
    unclustered: int = Field(description="Comments received since the clusters were computed "
                                         "(`dueprocess comments clusters` counts them in)")
    clusters: list[ClusterPublic] = Field(description="The largest clusters")
    statement: str = Field(description="A sentence for the adoption statement")


@dataclass(frozen=True)
class ClusterRun:
    comments: int
    clusters: int
    clustered: int
    digest: str
    seconds: float


def cluster_case_comments(*, case_id: str, words: bool = False) -> ClusterRun:
    """Cluster every comment of a case, store the membership and log its digest."""
    started = time.perf_counter()
    with session_scope() as session:
        get_case(session, case_id)
        rows = [(int(i or 0), r, b) for i, r, b in session.exec(
            select(Comment.id, Comment.receipt_number, Comment.body).where(
                Comment.case_id == case_id).order_by(col(Comment.id)))]
        receipts = {r[0]: r[1] for r in rows}
        result = find_clusters(((r[0], r[2]) for r in rows), words=words)
        del rows
        session.exec(delete(CommentCluster).where(
            col(CommentCluster.case_id) == case_id))
        keys = {leader: KEY_PREFIX + receipts[leader] for leader in set(result.leader_of.values())}
        table = CommentCluster.__table__  # type: ignore[attr-defined]
        members = sorted(result.leader_of.items())
        ids = sorted(receipts)
        for start in range(0, len(ids), 20_000):
            session.connection().execute(table.insert(), [
                {"comment_id": i, "case_id": case_id,
                 "cluster_key": keys.get(result.leader_of.get(i, -1))}
                for i in ids[start:start + 20_000]])
        hasher = hashlib.sha256()
        for member, leader in members:
            hasher.update(f"{receipts[member]} {keys[leader]}\n".encode())
        digest = hasher.hexdigest()
        publish(session, CaseEvent(
            case_id=case_id, kind="comments.clustered", occurred_at=utcnow(), digest=digest,
            body={"comments": result.comments, "clusters": len(keys),
                  "clustered": len(members), "threshold": THRESHOLD, "num_perm": NUM_PERM,
                  "shingles": "jieba-words" if words else f"char-{SHINGLE}"},
        ))
    return ClusterRun(comments=result.comments, clusters=len(keys), clustered=len(members),
                      digest=digest, seconds=time.perf_counter() - started)


def cluster_sizes(session: Session, *, case_id: str) -> dict[str, int]:
    """Each stored campaign cluster of a case and how many comments it has."""
    return {key: size for key, size in session.exec(
        select(CommentCluster.cluster_key, func.count()).where(
            CommentCluster.case_id == case_id, col(CommentCluster.cluster_key).is_not(None),
        ).group_by(col(CommentCluster.cluster_key))) if key is not None}


def campaign_counts(session: Session, *, case_id: str, largest: int = 20) -> CampaignCounts:
    """The case's true counts and its largest clusters, from the stored clusters."""
    total = session.exec(select(func.count()).select_from(Comment).where(
        Comment.case_id == case_id)).one()
    sizes = cluster_sizes(session, case_id=case_id)
    copies = sum(sizes.values())
    # Every comment clustered has a row (None for a unique one): the rest came later.
    seen = session.exec(select(func.count()).select_from(CommentCluster).where(
        CommentCluster.case_id == case_id)).one()
    top = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:largest]
    samples = {}
    for key, _size in top:
        receipt = key.removeprefix(KEY_PREFIX)
        samples[key] = session.exec(select(Comment.body).where(
            Comment.receipt_number == receipt)).first() or ""
    unique = total - copies
    statement = (
        f"{total} comments were received: {unique} unique comments and {copies} copies "
        f"in {len(sizes)} campaign clusters (identical or near-identical texts), "
        f"{unique + len(sizes)} distinct opinions in all; each campaign cluster is "
        "answered once, and its answer covers every copy.")
    return CampaignCounts(
        case_id=case_id, comments=total, unique=unique, campaign_copies=copies,
        campaigns=len(sizes), distinct_opinions=unique + len(sizes),
        unclustered=total - seen,
        clusters=[ClusterPublic(key=k, size=n, sample=samples[k][:500]) for k, n in top],
        statement=statement,
    )
