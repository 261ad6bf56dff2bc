"""RFC 6962/9162 Merkle tree: published vectors, known roots, and proof properties."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    node_hash,
    root_from_leaf_data,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# CI runs in a fresh clone with a copy of shared/ beside it: <clone>/../shared.
REPO_ROOT = Path(__file__).resolve().parents[2]
# A worktree under <root>/wt/<name> finds <root>/shared; RFC6962_VECTORS names it outright.
_CANDIDATES = [Path(p) for p in [os.environ.get("RFC6962_VECTORS", "")] if p] + [
    base / "shared" / "testdata" / "rfc6962" for base in (REPO_ROOT.parent,
                                                          REPO_ROOT.parent.parent)]
VECTORS = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0])
NO_VECTORS = f"RFC 6962 test vectors not found at {VECTORS} (expected <repo>/../shared)"

# The RFC 6962 reference leaves and the roots of their first n leaves (n = 1..8), as used
# by every CT implementation's tests; the vectors' happy paths are built on them.
RFC_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _vector_params(kind: str) -> list[Any]:
    folder = VECTORS / kind
    if not folder.is_dir():
        return [pytest.param(None, id=f"{kind}-missing", marks=pytest.mark.skip(reason=NO_VECTORS))]
    files = sorted(folder.rglob("*.json"))
    assert files, f"{folder} holds no vector files"
    return [pytest.param(f, id=f.relative_to(VECTORS).as_posix()) for f in files]


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _load(path: Path) -> dict[str, Any]:
    case = json.loads(path.read_text())
    assert isinstance(case["wantErr"], bool)
    return case


@pytest.mark.parametrize("path", _vector_params("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]
    kwargs = {
        "leaf_hash": _b64(case["leafHash"]),
        "index": case["leafIdx"],
        "tree_size": case["treeSize"],
        "proof": proof,
        "root": _b64(case["root"]),
    }
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(**kwargs)
        return
    verify_inclusion(**kwargs)
    # Our generator must produce exactly the published proof from the reference leaves.
    size, index = case["treeSize"], case["leafIdx"]
    if kwargs["root"].hex() == RFC_ROOTS[size - 1]:
        assert inclusion_proof(index, leaf_hashes(RFC_LEAVES[:size])) == proof


@pytest.mark.parametrize("path", _vector_params("consistency"))
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]
    kwargs = {
        "old_size": case["size1"],
        "new_size": case["size2"],
        "old_root": _b64(case["root1"]),
        "new_root": _b64(case["root2"]),
        "proof": proof,
    }
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(**kwargs)
        return
    verify_consistency(**kwargs)
    size1, size2 = case["size1"], case["size2"]
    if kwargs["new_root"].hex() == RFC_ROOTS[size2 - 1]:
        assert consistency_proof(size1, leaf_hashes(RFC_LEAVES[:size2])) == proof


@pytest.mark.skipif(not VECTORS.is_dir(), reason=NO_VECTORS)
def test_vectors_cover_both_outcomes() -> None:
    # Guards against a vector folder that silently lost its negative (or positive) cases.
    outcomes = {_load(p)["wantErr"] for p in VECTORS.rglob("*.json")}
    assert outcomes == {True, False}


def test_hash_primitives() -> None:
    import hashlib

    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert MerkleTree([]).root == EMPTY_ROOT
    assert MerkleLog().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    hashes = leaf_hashes(RFC_LEAVES[:size])
    assert root_from_leaf_hashes(hashes).hex() == RFC_ROOTS[size - 1]
    assert root_from_leaf_data(RFC_LEAVES[:size]).hex() == RFC_ROOTS[size - 1]
    assert MerkleTree(hashes).root.hex() == RFC_ROOTS[size - 1]
    log = MerkleLog()
    log.extend(hashes)
    assert log.root().hex() == RFC_ROOTS[size - 1]


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH written as the literal recursion, as an independent reference."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    # Distinct leaves: with duplicates, a proof can legitimately verify at another index.
    return [leaf_hash(b"%d:%d" % (salt, i)) for i in range(n)]


def test_fast_paths_match_literal_recursion_and_incremental_log() -> None:
    hashes = _leaves(300)
    log = MerkleLog()
    for n in range(1, 301):
        log.append(hashes[n - 1])
        expected = _mth(hashes[:n])
        assert root_from_leaf_hashes(hashes[:n]) == expected
        assert log.root() == expected
        assert log.size == n
        assert len(log.frontier) == n.bit_count()  # O(log n) state


def test_merkle_log_resumes_from_frontier() -> None:
    hashes = _leaves(77)
    log = MerkleLog()
    log.extend(hashes[:50])
    resumed = MerkleLog.from_frontier(log.size, log.frontier)
    assert resumed.append(hashes[50]) == 50
    resumed.extend(hashes[51:])
    assert resumed.root() == root_from_leaf_hashes(hashes)
    with pytest.raises(ValueError, match="frontier"):
        MerkleLog.from_frontier(50, log.frontier[:-1])


def test_malformed_hashes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"leaf hash\[1\]"):
        root_from_leaf_hashes([b"\x00" * 32, b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleLog().append(b"short")
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(3, _leaves(3))
    with pytest.raises(ValueError, match="between 1"):
        consistency_proof(0, _leaves(3))
    with pytest.raises(ValueError, match="between 1"):
        consistency_proof(4, _leaves(3))
    assert consistency_proof(3, _leaves(3)) == []


def test_verifier_messages_say_what_failed() -> None:
    hashes = _leaves(5)
    tree = MerkleTree(hashes)
    proof = tree.inclusion_proof(1)
    with pytest.raises(ProofError, match="too few"):
        verify_inclusion(
            leaf_hash=hashes[1], index=1, tree_size=5, proof=proof[:-1], root=tree.root
        )
    with pytest.raises(ProofError, match="too many"):
        verify_inclusion(
            leaf_hash=hashes[1], index=1, tree_size=5, proof=[*proof, proof[0]], root=tree.root
        )
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(leaf_hash=hashes[1], index=5, tree_size=5, proof=proof, root=tree.root)
    with pytest.raises(ProofError, match="proof element 0"):
        verify_inclusion(leaf_hash=hashes[1], index=1, tree_size=5, proof=[b"x"], root=tree.root)
    old = MerkleTree(hashes[:3])
    with pytest.raises(ProofError, match="old root"):
        verify_consistency(
            old_size=3,
            new_size=5,
            old_root=_leaves(1, salt=9)[0],
            new_root=tree.root,
            proof=tree.consistency_proof(3),
        )
    with pytest.raises(ProofError, match="proves nothing"):
        verify_consistency(
            old_size=0, new_size=5, old_root=EMPTY_ROOT, new_root=tree.root, proof=[]
        )
    verify_consistency(
        old_size=3,
        new_size=5,
        old_root=old.root,
        new_root=tree.root,
        proof=tree.consistency_proof(3),
    )


def _flip(data: bytes, bit: int) -> bytes:
    pos = bit % (len(data) * 8)
    out = bytearray(data)
    out[pos // 8] ^= 1 << (pos % 8)
    return bytes(out)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(1, 300))
    return _leaves(size, salt=draw(st.integers(0, 2**32))), draw(st.integers(0, size - 1))


@settings(max_examples=150, deadline=None)
@given(case=tree_and_index(), bit=st.integers(0, 255), pick=st.integers(0, 10**6))
def test_inclusion_proofs_verify_and_any_alteration_fails(
    case: tuple[list[bytes], int], bit: int, pick: int
) -> None:
    hashes, index = case
    size = len(hashes)
    tree = MerkleTree(hashes)
    proof = tree.inclusion_proof(index)
    good: dict[str, Any] = {
        "leaf_hash": hashes[index],
        "index": index,
        "tree_size": size,
        "proof": proof,
    }
    verify_inclusion(**good, root=tree.root)

    def rejected(**changes: Any) -> None:
        with pytest.raises(ProofError):
            verify_inclusion(**{**good, "root": tree.root, **changes})

    rejected(leaf_hash=_flip(hashes[index], bit))
    rejected(root=_flip(tree.root, bit))
    other = pick % size
    if other != index:
        rejected(index=other)
    rejected(index=size + pick % 5)
    if proof:
        at = pick % len(proof)
        rejected(proof=[*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]])
        rejected(proof=proof[:-1])
    rejected(proof=[*proof, _flip(tree.root, bit)])
    # A different size with that size's real root: the root commits to the size.
    # (With the *same* root an inclusion proof may still check out for another size
    # whose tree has the same shape along the path; the signed tree head binds size
    # and root together, which is why verifiers always take both from one signed head.)
    new_size = 1 + pick % 300
    if new_size != size and index < new_size:
        rejected(tree_size=new_size, root=MerkleTree(_leaves_like(hashes, new_size)).root)


def _leaves_like(hashes: list[bytes], n: int) -> list[bytes]:
    """The first n leaves of the same log (extended with fresh leaves if n is larger)."""
    return hashes[:n] + [leaf_hash(b"extra:%d" % i) for i in range(n - len(hashes))]


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[list[bytes], int]:
    new = draw(st.integers(1, 300))
    return _leaves(new, salt=draw(st.integers(0, 2**32))), draw(st.integers(1, new))


@settings(max_examples=150, deadline=None)
@given(case=two_sizes(), bit=st.integers(0, 255), pick=st.integers(0, 10**6))
def test_consistency_proofs_verify_and_any_alteration_fails(
    case: tuple[list[bytes], int], bit: int, pick: int
) -> None:
    hashes, old_size = case
    new_size = len(hashes)
    new_root = root_from_leaf_hashes(hashes)
    old_root = root_from_leaf_hashes(hashes[:old_size])
    proof = consistency_proof(old_size, hashes)
    good: dict[str, Any] = {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": old_root,
        "new_root": new_root,
        "proof": proof,
    }
    verify_consistency(**good)

    def rejected(**changes: Any) -> None:
        with pytest.raises(ProofError):
            verify_consistency(**{**good, **changes})

    rejected(old_root=_flip(old_root, bit))
    rejected(new_root=_flip(new_root, bit))
    rejected(proof=[*proof, _flip(new_root, bit)])
    if proof:
        at = pick % len(proof)
        rejected(proof=[*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]])
        rejected(proof=proof[:-1])
    # Another old size, with that size's real root.
    other_old = 1 + pick % new_size
    if other_old != old_size:
        rejected(old_size=other_old, old_root=root_from_leaf_hashes(hashes[:other_old]))
    # Another new size (same leaves, shortened or extended), with its real root.
    other_new = old_size + pick % 300
    if other_new != new_size:
        rejected(
            new_size=other_new, new_root=root_from_leaf_hashes(_leaves_like(hashes, other_new))
        )
    # A rewritten history: change one old leaf, keep the rest, recompute everything.
    at = pick % old_size
    forged = [*hashes[:at], _flip(hashes[at], bit), *hashes[at + 1 :]]
    assume(forged != hashes)
    rejected(new_root=root_from_leaf_hashes(forged), proof=consistency_proof(old_size, forged))
