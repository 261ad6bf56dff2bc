"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification.

Written directly on ``hashlib`` because verifying a whole log is a hot loop: leaf and
node hashes are built with one ``bytes`` concatenation and one pre-bound ``sha256``
call each, and trees are reduced level by level with list comprehensions.

Conventions (RFC 9162 §2.1): leaf hash = SHA-256(0x00 ‖ data), node hash =
SHA-256(0x01 ‖ left ‖ right), the root of the empty tree is SHA-256(""), leaf indices are
0-based, and proofs are ordered from the leaf towards the root.

Level-by-level reduction (pair neighbours, carry an odd last node up unchanged) builds
exactly the RFC tree: at every level node ``j`` covers leaves ``[j·2^L, min((j+1)·2^L, n))``,
which is also how RFC 9162 splits at the largest power of two below ``n``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleLog",
    "MerkleTree",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root_from_leaf_data",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT: bytes = _sha256(b"").digest()


class ProofError(ValueError):
    """An inclusion or consistency proof does not verify."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def leaf_hashes(data: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many leaves (the fast path for re-hashing a whole log)."""
    sha = _sha256  # local name: saves a global lookup per leaf
    return [sha(b"\x00" + d).digest() for d in data]


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    sha = _sha256
    it = iter(level)
    # zip(it, it) pairs neighbours without slicing copies; an odd last node is carried.
    parents = [sha(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]
    if len(level) & 1:
        parents.append(level[-1])
    return parents


def _check_hashes(hashes: Sequence[bytes], what: str) -> None:
    # One C-level pass; a wrong-length "hash" would otherwise silently produce a
    # root nobody else can reproduce.
    if hashes and set(map(len, hashes)) != {HASH_SIZE}:
        for i, h in enumerate(hashes):
            if not isinstance(h, bytes) or len(h) != HASH_SIZE:
                raise ValueError(f"{what}[{i}] is not a {HASH_SIZE}-byte hash")


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (RFC 9162 MTH) of a sequence of leaf hashes."""
    if not hashes:
        return EMPTY_ROOT
    _check_hashes(hashes, "leaf hash")
    level: Sequence[bytes] = hashes
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def root_from_leaf_data(data: Iterable[bytes]) -> bytes:
    """Merkle tree hash of raw leaf data (hashes every leaf, then reduces)."""
    return root_from_leaf_hashes(leaf_hashes(data))


def _largest_power_of_two_below(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n ≥ 2): the RFC split point."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An immutable tree over a fixed list of leaf hashes, with every level kept.

    Building costs one hash per interior node; afterwards the root is free and any
    inclusion or consistency proof costs O(log n) list look-ups, which is what the
    dossier writer and the benchmark need for many proofs over one tree.
    """

    __slots__ = ("_levels",)

    def __init__(self, hashes: Sequence[bytes]) -> None:
        _check_hashes(hashes, "leaf hash")
        levels: list[list[bytes]] = [list(hashes)]
        while len(levels[-1]) > 1:
            levels.append(_next_level(levels[-1]))
        self._levels = levels

    @property
    def size(self) -> int:
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        return self._levels[-1][0] if self.size else EMPTY_ROOT

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _subtree(self, start: int, end: int) -> bytes:
        # Every range the RFC recursion visits is [s, e) with s aligned to 2^L,
        # L = ceil(log2(e - s)), and either e - s == 2^L or e == size; that range is
        # exactly node s >> L on level L (see module docstring).
        height = (end - start - 1).bit_length()
        return self._levels[height][start >> height]

    def inclusion_proof(self, index: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), leaf-to-root order."""
        n = self.size
        if not 0 <= index < n:
            raise ValueError(f"leaf index {index} is outside a tree of size {n}")
        proof: list[bytes] = []
        start, end = 0, n
        # Iterative PATH: each split appends the sibling subtree; the recursion appends
        # after descending, so collect root-to-leaf and reverse at the end.
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if index < start + k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:size]).

        ``old_size`` must be in ``1..size``; a proof from the empty tree proves nothing
        and is refused, and equal sizes give the empty proof.
        """
        n = self.size
        if not 0 < old_size <= n:
            raise ValueError(f"old size {old_size} must be between 1 and the tree size {n}")
        proof: list[bytes] = []
        m, start, end, complete = old_size, 0, n, True
        while m != end - start:
            k = _largest_power_of_two_below(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, m, complete = start + k, m - k, False
        if not complete:  # SUBPROOF(m, D[m], false) = [MTH(D[m])]
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Inclusion proof for leaf *index* in the tree of *leaf_hashes* (O(n): builds it)."""
    return MerkleTree(leaf_hashes).inclusion_proof(index)


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from the first *old_size* leaves to all of *leaf_hashes*."""
    return MerkleTree(leaf_hashes).consistency_proof(old_size)


def _check_proof_shape(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if not isinstance(p, bytes) or len(p) != HASH_SIZE:
            raise ProofError(f"proof element {i} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that *leaf_hash* is leaf *index* of the tree of *tree_size* with *root*.

    Implements RFC 9162 §2.1.3.2. Raises ``ProofError`` saying what failed.
    """
    if tree_size < 0 or index < 0:
        raise ProofError("index and tree size must not be negative")
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is not a {HASH_SIZE}-byte hash")
    _check_proof_shape(proof)
    fn, sn, r = index, tree_size - 1, leaf_hash
    sha = _sha256
    for p in proof:
        if sn == 0:
            raise ProofError(
                f"proof has {len(proof)} elements, too many for leaf {index} of {tree_size}"
            )
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            # Skip the levels where this node is the last one and has no sibling.
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            f"proof has {len(proof)} elements, too few for leaf {index} of {tree_size}"
        )
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} does not lead to the given root "
            f"of the tree of size {tree_size}"
        )


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree (*new_size*, *new_root*) extends (*old_size*, *old_root*).

    Implements RFC 9162 §2.1.4.2. A proof from size 0 is refused: every tree extends
    the empty tree, so such a "proof" would vouch for nothing. Equal sizes need an
    empty proof and equal roots. Raises ``ProofError`` saying what failed.
    """
    if old_size < 0 or new_size < 0:
        raise ProofError("tree sizes must not be negative")
    if old_size == 0:
        raise ProofError("consistency from the empty tree (old size 0) proves nothing")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal, so the proof must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError(f"empty proof for different sizes {old_size} and {new_size}")
    _check_proof_shape(proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one, so its root is the
        # implicit first node of the path.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    sha = _sha256
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                f"consistency proof has too many elements for sizes {old_size}→{new_size}"
            )
        if fn & 1 or fn == sn:
            fr = sha(b"\x01" + c + fr).digest()
            sr = sha(b"\x01" + c + sr).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof has too few elements for sizes {old_size}→{new_size}")
    if fr != old_root:
        raise ProofError(
            f"consistency proof does not reproduce the old root (size {old_size}): "
            "the older tree is not a prefix of the newer one"
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof does not reproduce the new root (size {new_size}): "
            "the newer tree does not extend the older one"
        )


class MerkleLog:
    """Append-only compact range: the roots of the perfect subtrees covering the log.

    Holds at most log2(n)+1 hashes, so a database can append leaves one by one, keep
    (size, frontier) beside them, and get the current root in O(log n) without reading
    old leaves. ``frontier`` is ordered left to right (largest subtree first).
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> MerkleLog:
        """Resume a log persisted as ``(log.size, log.frontier)``."""
        if size < 0 or len(frontier) != size.bit_count():
            raise ValueError(
                f"a log of size {size} has {max(size, 0).bit_count()} frontier hashes, "
                f"got {len(frontier)}"
            )
        _check_hashes(frontier, "frontier")
        log = cls()
        log._size = size
        log._frontier = list(frontier)
        return log

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        return tuple(self._frontier)

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; return its 0-based index. Amortised O(1), worst O(log n)."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        index = self._size
        h, size, frontier = leaf_hash, index, self._frontier
        # Each trailing 1 bit of the old size is a perfect subtree that the new leaf
        # completes into one twice its size (binary carry).
        while size & 1:
            h = _sha256(b"\x01" + frontier.pop() + h).digest()
            size >>= 1
        frontier.append(h)
        self._size = index + 1
        return index

    def extend(self, hashes: Iterable[bytes]) -> None:
        for h in hashes:
            self.append(h)

    def root(self) -> bytes:
        """Current root in O(log n): fold the frontier from the right."""
        if not self._frontier:
            return EMPTY_ROOT
        it = reversed(self._frontier)
        r = next(it)
        for left in it:
            r = _sha256(b"\x01" + left + r).digest()
        return r
