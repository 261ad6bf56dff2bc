"""Offline decision dossiers: writing, verifying, and the attacks they must catch."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger import (
    DossierError,
    DossierItem,
    MerkleTree,
    SignedTreeHead,
    canonical_bytes,
    consistency_proof,
    public_key_pem,
    verify_dossier,
    write_dossier,
)
from ledger.__main__ import main as cli_main
from tests.ledger.support import MemoryLog

CASE = "2025-BAU-0042"
OTHER = "2025-BAU-0001"
LETTER = b"%PDF-1.7\n... application for a building permit ...\n"
DECISION = b"%PDF-1.7\n... decision: permit granted with conditions ...\n"


@dataclass
class Published:
    """A dossier on disk plus everything an attacker or auditor might also hold."""

    path: Path
    log: MemoryLog
    key: Ed25519PrivateKey
    sth: SignedTreeHead
    earlier: SignedTreeHead
    documents: dict[int, str]
    files: dict[str, bytes]

    @property
    def pem(self) -> bytes:
        return public_key_pem(self.key)

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / "manifest.json").read_text())
        return data

    def save_manifest(self, data: dict[str, Any]) -> None:
        (self.path / "manifest.json").write_text(json.dumps(data, indent=2))


def build_log(*, refusal_reason: str = "incomplete site plan") -> tuple[MemoryLog, int]:
    """Two interleaved cases; returns the log and the size of an earlier signed head."""
    log = MemoryLog()
    log.add(OTHER, "evidence", note="another applicant")
    log.add(CASE, "evidence", document=LETTER, title="application")
    log.add(OTHER, "transition", stage="review")
    log.add(CASE, "refusal", reason=refusal_reason)
    earlier_size = len(log.leaves)
    log.add(CASE, "transition", stage="review")
    for i in range(5):
        log.add(f"2025-BAU-01{i:02d}", "draft", text=f"draft {i}")
    log.add(CASE, "decision", document=DECISION, outcome="granted")
    log.add(CASE, "notice", closes=True, channel="post")
    log.add(OTHER, "notice", channel="email")
    return log, earlier_size


def publish(
    directory: Path, key: Ed25519PrivateKey, log: MemoryLog, earlier_size: int | None = None
) -> Published:
    sth = log.sign(key)
    documents = {1: "application/letter.pdf", 10: "decision.pdf"}
    files = {"application/letter.pdf": LETTER, "decision.pdf": DECISION}
    earlier_heads = []
    earlier = sth
    if earlier_size is not None:
        earlier = log.sign(key, earlier_size)
        earlier_heads.append((earlier, consistency_proof(earlier_size, log.leaves)))
    write_dossier(
        directory,
        case_id=CASE,
        items=log.items(CASE, documents),
        files=files,
        leaf_hashes_upto=log.leaves,
        sth=sth,
        public_key_pem=public_key_pem(key),
        earlier_heads=earlier_heads,
    )
    return Published(directory, log, key, sth, earlier, documents, files)


@pytest.fixture
def pub(tmp_path: Path, key: Ed25519PrivateKey) -> Published:
    log, earlier_size = build_log()
    return publish(tmp_path / "dossier", key, log, earlier_size)


def failure(pub: Published, **kwargs: Any) -> str:
    with pytest.raises(DossierError) as info:
        verify_dossier(pub.path, **kwargs)
    return str(info.value)


# --- the happy path ---------------------------------------------------------------


def test_written_dossier_verifies_and_reports_what_it_proved(pub: Published) -> None:
    report = verify_dossier(pub.path)
    assert report.case_id == CASE
    assert report.tree_size == len(pub.log.leaves) == 13
    assert [(i.leaf_index, i.kind, i.case_seq) for i in report.items] == [
        (1, "evidence", 0),
        (3, "refusal", 1),
        (4, "transition", 2),
        (10, "decision", 3),
        (11, "notice", 4),
    ]
    assert report.items[0].file_path == "files/application/letter.pdf"
    assert report.items[0].file_sha256 == hashlib.sha256(LETTER).hexdigest()
    assert report.earlier_tree_sizes == (4,)
    assert report.case_closed
    assert not report.key_pinned
    assert verify_dossier(pub.path, trusted_public_key_pem=pub.pem).key_pinned
    assert "case closed" in report.summary()


def test_layout_matches_the_documented_format(pub: Published) -> None:
    """Re-derive the checks with only hashlib/json/base64, as a third party would."""
    names = sorted(p.relative_to(pub.path).as_posix() for p in pub.path.rglob("*") if p.is_file())
    assert names == [
        "files/application/letter.pdf",
        "files/decision.pdf",
        "manifest.json",
        "public-key.pem",
        "records/000000000001.json",
        "records/000000000003.json",
        "records/000000000004.json",
        "records/000000000010.json",
        "records/000000000011.json",
        "tree-head.json",
    ]
    manifest = pub.manifest()
    assert (manifest["format"], manifest["format_version"], manifest["case_id"]) == (
        "dueprocess-dossier",
        2,
        CASE,
    )
    head = json.loads((pub.path / "tree-head.json").read_text())
    message = json.dumps(
        {k: head[k] for k in ("tree_size", "root_hash", "timestamp", "key_id")},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    pub.key.public_key().verify(base64.b64decode(head["signature"]), message)
    for item in manifest["items"]:
        raw = (pub.path / item["record"]).read_bytes()
        leaf = hashlib.sha256(b"\x00" + raw).digest()
        assert base64.b64encode(leaf).decode() == item["leaf_hash"]
        # Walk the proof (RFC 9162 §2.1.3.2) by hand.
        fn, sn, r = item["leaf_index"], head["tree_size"] - 1, leaf
        for p in map(base64.b64decode, item["inclusion_proof"]):
            if fn % 2 == 1 or fn == sn:
                r = hashlib.sha256(b"\x01" + p + r).digest()
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
            else:
                r = hashlib.sha256(b"\x01" + r + p).digest()
            fn, sn = fn >> 1, sn >> 1
        assert sn == 0 and base64.b64encode(r).decode() == head["root_hash"]
        if item["file"]:
            content = (pub.path / item["file"]["path"]).read_bytes()
            assert json.loads(raw)["file_sha256"] == hashlib.sha256(content).hexdigest()


def test_cli_verifies_and_fails_loudly(pub: Published, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = pub.path.parent / "trusted.pem"
    key_file.write_bytes(pub.pem)
    assert cli_main(["verify", str(pub.path), "--trusted-key", str(key_file)]) == 0
    assert "OK" in capsys.readouterr().out
    (pub.path / "files" / "decision.pdf").write_bytes(b"%PDF-1.7 permit refused")
    assert cli_main(["verify", str(pub.path)]) == 1
    assert "FAILED" in capsys.readouterr().out


# --- attacks ----------------------------------------------------------------------


def test_replaced_file_is_caught(pub: Published) -> None:
    (pub.path / "files" / "decision.pdf").write_bytes(b"%PDF-1.7\n... permit refused ...\n")
    message = failure(pub)
    assert "leaf 10" in message
    assert "files/decision.pdf was replaced or altered" in message


def test_replaced_file_with_matching_manifest_digest_is_still_caught(pub: Published) -> None:
    forged = b"%PDF-1.7\n... permit refused ...\n"
    (pub.path / "files" / "decision.pdf").write_bytes(forged)
    manifest = pub.manifest()
    manifest["items"][3]["file"].update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
    pub.save_manifest(manifest)
    assert "files/decision.pdf was replaced" in failure(pub)


def _edit_record(pub: Published, leaf: int, **changes: Any) -> bytes:
    path = pub.path / f"records/{leaf:012d}.json"
    record = json.loads(path.read_bytes())
    record.update(changes)
    data = canonical_bytes(record)
    path.write_bytes(data)
    return data


def test_edited_record_is_caught(pub: Published) -> None:
    _edit_record(pub, 3, reason="no reason given")
    message = failure(pub)
    assert "leaf 3" in message and "records/000000000003.json was altered" in message


def test_edited_record_with_updated_leaf_hash_fails_the_inclusion_proof(pub: Published) -> None:
    data = _edit_record(pub, 3, reason="no reason given")
    manifest = pub.manifest()
    manifest["items"][1]["leaf_hash"] = base64.b64encode(
        hashlib.sha256(b"\x00" + data).digest()
    ).decode()
    pub.save_manifest(manifest)
    message = failure(pub)
    assert "leaf 3" in message and "not proven to be in the signed log" in message


def test_non_canonical_record_is_caught(pub: Published) -> None:
    path = pub.path / "records/000000000004.json"
    path.write_text(json.dumps(json.loads(path.read_bytes()), indent=1))
    assert "not in RFC 8785 canonical form" in failure(pub)


def test_record_with_duplicate_keys_is_caught(pub: Published) -> None:
    path = pub.path / "records/000000000004.json"
    path.write_bytes(path.read_bytes()[:-1] + b',"stage":"granted"}')
    assert "duplicate key 'stage'" in failure(pub)


def test_forged_tree_head_signed_with_another_key_is_caught(
    pub: Published, other_key: Ed25519PrivateKey
) -> None:
    forged = pub.log.sign(other_key)
    (pub.path / "tree-head.json").write_text(forged.model_dump_json())
    assert "tree-head.json: tree head names signing key" in failure(pub)


def test_complete_forgery_under_another_key_needs_the_pinned_key_to_catch(
    tmp_path: Path, key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    # A forger rebuilds the whole log with a softer refusal and signs it with their own
    # key, shipping their own public-key.pem: internally consistent...
    forged_log, _ = build_log(refusal_reason="applicant withdrew")
    forged = publish(tmp_path / "forged", other_key, forged_log)
    assert verify_dossier(forged.path).key_pinned is False
    # ...and only the authority's pinned key exposes it.
    message = failure(forged, trusted_public_key_pem=public_key_pem(key))
    assert "public-key.pem: is not the trusted public key" in message
    # Keeping the real public-key.pem does not help either.
    (forged.path / "public-key.pem").write_bytes(public_key_pem(key))
    assert "names signing key" in failure(forged)


def _drop_item(pub: Published, position: int, *, keep_record: bool = False) -> None:
    manifest = pub.manifest()
    item = manifest["items"].pop(position)
    pub.save_manifest(manifest)
    if not keep_record:
        (pub.path / item["record"]).unlink()
        if item["file"] and all(i["file"] != item["file"] for i in manifest["items"]):
            (pub.path / item["file"]["path"]).unlink()


def test_item_removed_from_the_middle_breaks_the_case_chain(pub: Published) -> None:
    _drop_item(pub, 1)  # the refusal
    message = failure(pub)
    assert "case chain" in message and "leaf 4" in message and "missing before it" in message


def test_removed_item_whose_record_stays_behind_is_caught(pub: Published) -> None:
    _drop_item(pub, 4, keep_record=True)
    assert "records/000000000011.json is not listed in manifest.json" in failure(pub)


def test_item_list_cut_at_the_end_is_caught_when_closure_is_required(pub: Published) -> None:
    _drop_item(pub, 4)  # the closing notice
    report = verify_dossier(pub.path)
    assert not report.case_closed  # reported honestly...
    assert "NOT closed" in report.summary()
    message = failure(pub, require_closed=True)  # ...and refused when completeness matters
    assert "does not close the case" in message and "leaf 10" in message


def test_first_record_cannot_be_dropped(pub: Published) -> None:
    _drop_item(pub, 0)
    assert "expected case_seq 0" in failure(pub)


def test_truncated_inclusion_proof_is_caught(pub: Published) -> None:
    manifest = pub.manifest()
    manifest["items"][2]["inclusion_proof"].pop()
    pub.save_manifest(manifest)
    message = failure(pub)
    assert "leaf 4" in message and "too few" in message


def test_record_from_another_case_cannot_be_slipped_in(pub: Published) -> None:
    manifest = pub.manifest()
    other = pub.log.records[12]  # the other case's notice
    tree = MerkleTree(pub.log.leaves)
    (pub.path / "records/000000000012.json").write_bytes(canonical_bytes(other))
    manifest["items"].append(
        {
            "leaf_index": 12,
            "kind": "notice",
            "record": "records/000000000012.json",
            "leaf_hash": base64.b64encode(tree.leaf(12)).decode(),
            "inclusion_proof": [base64.b64encode(p).decode() for p in tree.inclusion_proof(12)],
            "file": None,
        }
    )
    pub.save_manifest(manifest)
    assert f"belongs to case '{OTHER}'" in failure(pub)


def test_forked_case_chain_is_caught(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    # The operator logged two different records as case_seq 1 (a refusal, then a
    # "review" transition) and continued the case from the second. A dossier that
    # shows the refusal in place of the transition has contiguous case_seq numbers,
    # but the decision's case_prev names the transition, not the refusal.
    log = MemoryLog()
    log.add(CASE, "evidence", document=LETTER)
    after_evidence = log.heads[CASE]
    log.add(CASE, "refusal", reason="incomplete")
    log.heads[CASE] = after_evidence
    log.add(CASE, "transition", stage="review")
    log.add(CASE, "decision", document=DECISION, closes=True)
    sth = log.sign(key)
    files = {"letter.pdf": LETTER, "decision.pdf": DECISION}
    items = log.items(CASE, {0: "letter.pdf", 3: "decision.pdf"})
    args: dict[str, Any] = {
        "case_id": CASE,
        "files": files,
        "leaf_hashes_upto": log.leaves,
        "sth": sth,
        "public_key_pem": public_key_pem(key),
    }
    with pytest.raises(ValueError, match=r"leaf 3 .*case_prev is not the leaf hash of leaf 1"):
        write_dossier(tmp_path / "bad", items=[items[0], items[1], items[3]], **args)
    # Publish the true chain, then let an attacker swap the refusal in.
    pub = Published(tmp_path / "d", log, key, sth, sth, {}, files)
    write_dossier(pub.path, items=[items[0], items[2], items[3]], **args)
    tree = MerkleTree(log.leaves)
    manifest = pub.manifest()
    (pub.path / "records/000000000002.json").unlink()
    (pub.path / "records/000000000001.json").write_bytes(canonical_bytes(log.records[1]))
    manifest["items"][1] = {
        "leaf_index": 1,
        "kind": "refusal",
        "record": "records/000000000001.json",
        "leaf_hash": base64.b64encode(tree.leaf(1)).decode(),
        "inclusion_proof": [base64.b64encode(p).decode() for p in tree.inclusion_proof(1)],
        "file": None,
    }
    pub.save_manifest(manifest)
    assert "leaf 3 (decision, case_seq 2): case_prev is not the leaf hash" in failure(pub)


def _rewritten_history(tmp_path: Path, key: Ed25519PrivateKey) -> tuple[Published, Published]:
    """The genuine dossier, and one from a log whose operator rewrote an old refusal
    and re-signed with the real key."""
    genuine_log, earlier_size = build_log()
    genuine = publish(tmp_path / "genuine", key, genuine_log, earlier_size)
    rewritten_log, _ = build_log(refusal_reason="applicant withdrew")
    rewritten = publish(tmp_path / "rewritten", key, rewritten_log)
    assert verify_dossier(rewritten.path, trusted_public_key_pem=public_key_pem(key))
    return genuine, rewritten


def test_rewritten_history_is_caught_by_consistency_with_an_earlier_head(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    genuine, rewritten = _rewritten_history(tmp_path, key)
    # The best the operator can do is a proof from the rewritten log; it fails.
    proof = consistency_proof(genuine.earlier.tree_size, rewritten.log.leaves)
    manifest = rewritten.manifest()
    manifest["earlier_tree_heads"] = [
        {
            "tree_head": genuine.earlier.model_dump(mode="json"),
            "consistency_proof": [base64.b64encode(p).decode() for p in proof],
        }
    ]
    rewritten.save_manifest(manifest)
    message = failure(rewritten)
    assert "earlier tree head #0 (size 4)" in message and "history rewritten" in message
    # The writer refuses to produce such a dossier in the first place.
    with pytest.raises(ValueError, match="consistency proof does not reproduce"):
        write_dossier(
            tmp_path / "again",
            case_id=CASE,
            items=rewritten.log.items(CASE, rewritten.documents),
            files=rewritten.files,
            leaf_hashes_upto=rewritten.log.leaves,
            sth=rewritten.sth,
            public_key_pem=rewritten.pem,
            earlier_heads=[(genuine.earlier, proof)],
        )


def test_known_earlier_head_catches_a_dossier_that_omits_it(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    genuine, rewritten = _rewritten_history(tmp_path, key)
    witnessed = genuine.earlier  # e.g. published in the official gazette
    message = failure(rewritten, known_tree_heads=[witnessed])
    assert "known tree head of size 4" in message and "no consistency proof" in message
    # The genuine dossier carries the proof, and the same-size check catches forks.
    verify_dossier(genuine.path, known_tree_heads=[witnessed, genuine.sth])
    assert "different root" in failure(genuine, known_tree_heads=[rewritten.sth])
    newer = genuine.log.sign(key, len(genuine.log.leaves))
    newer = newer.model_copy(update={"tree_size": 99})
    assert "newer than the dossier" in failure(genuine, known_tree_heads=[newer])


# --- malformed dossiers: always a clear DossierError --------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = manifest
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return apply


MANIFEST_DAMAGE: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing items", _set("items", KeyError), "items: Field required"),
    ("empty items", _set("items", []), "items: List should have at least 1 item"),
    ("index as string", _set("items.0.leaf_index", "1"), "items.0.leaf_index"),
    ("negative index", _set("items.0.leaf_index", -1), "items.0.leaf_index"),
    ("bad base64 proof", _set("items.1.inclusion_proof.0", "%%%"), "not valid base64"),
    ("short proof hash", _set("items.1.inclusion_proof.0", "AAAA"), "expected 32 bytes"),
    ("proof not a list", _set("items.1.inclusion_proof", "AAAA"), "items.1.inclusion_proof"),
    ("bad leaf hash", _set("items.0.leaf_hash", "x"), "leaf_hash: not valid base64"),
    ("future version", _set("format_version", 3), "unsupported format_version 3"),
    ("wrong format", _set("format", "zip"), "format"),
    ("extra field", _set("signed_by_mayor", True), "signed_by_mayor: Extra inputs"),
    ("path traversal", _set("items.0.record", "records/../../etc/passwd"), "unsafe"),
    ("absolute path", _set("items.0.record", "/etc/passwd"), "must be relative"),
    ("record outside records/", _set("items.0.record", "files/decision.pdf"), "inside records/"),
    ("missing record", _set("items.0.record", "records/nope.json"), "records/nope.json is missing"),
    ("overlong name", _set("items.0.record", "records/" + "n" * 5000), "records/nnn"),
    ("file path outside", _set("items.0.file.path", "records/000000000001.json"), "inside files/"),
    ("file dropped", _set("items.0.file", None), "no file is listed"),
    ("index beyond head", _set("items.4.leaf_index", 13), "beyond the signed tree size"),
    ("kind mismatch", _set("items.0.kind", "decision"), "record says 'evidence'"),
    ("unordered", _set("items.1.leaf_index", 0), "strictly increasing"),
    ("earlier head garbage", _set("earlier_tree_heads.0.tree_head.signature", "x"), "signature"),
    ("earlier proof cut", _set("earlier_tree_heads.0.consistency_proof", []), "empty proof"),
]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [pytest.param(d, e, id=name) for name, d, e in MANIFEST_DAMAGE],
)
def test_damaged_manifest_gives_a_clear_error(
    pub: Published, damage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    manifest = pub.manifest()
    damage(manifest)
    pub.save_manifest(manifest)
    assert expected in failure(pub)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("manifest.json", b"{not json", "manifest.json: malformed JSON"),
        ("manifest.json", b"[1, 2]", "manifest.json: (top level)"),
        ("manifest.json", b'{"a": NaN}', "NaN is not valid JSON"),
        ("manifest.json", b"\xff\xfe", "manifest.json: not UTF-8"),
        ("manifest.json", b'{"format": 1, "format": 2}', "duplicate key 'format'"),
        ("manifest.json", None, "manifest.json: manifest.json is missing"),
        ("tree-head.json", None, "tree-head.json is missing"),
        ("tree-head.json", b'{"tree_size": 13}', "tree-head.json: root_hash: Field required"),
        ("public-key.pem", b"garbage", "public-key.pem: not a readable PEM public key"),
        ("records/000000000003.json", b"[]", "must hold a JSON object"),
        ("records/000000000003.json", b'{"n":1e400}', "number 1e400 is out of range"),
        ("files/extra.pdf", b"unlisted", "files/extra.pdf is not listed"),
    ],
)
def test_damaged_files_give_a_clear_error(
    pub: Published, name: str, content: bytes | None, expected: str
) -> None:
    if content is None:
        (pub.path / name).unlink()
    else:
        (pub.path / name).write_bytes(content)
    assert expected in failure(pub)


def test_symlink_out_of_the_dossier_is_refused(pub: Published, tmp_path: Path) -> None:
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(DECISION)
    target = pub.path / "files" / "decision.pdf"
    target.unlink()
    target.symlink_to(outside)
    assert "points outside the dossier" in failure(pub)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match="not a directory"):
        verify_dossier(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    log, earlier_size = build_log()
    pub = publish(
        tmp_path_factory.mktemp("pristine") / "dossier",
        Ed25519PrivateKey.generate(),
        log,
        earlier_size,
    )
    yield pub.path


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(
        ["manifest.json", "tree-head.json", "records/000000000003.json", "public-key.pem"]
    ),
    position=st.floats(0, 1, exclude_max=True),
    mutation=st.sampled_from(["flip", "delete", "insert", "truncate"]),
    byte=st.integers(0, 255),
)
def test_any_byte_damage_is_a_dossier_error_or_harmless(
    pristine: Path, target: str, position: float, mutation: str, byte: int
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "dossier"
        shutil.copytree(pristine, copy)
        path = copy / target
        data = bytearray(path.read_bytes())
        at = int(position * len(data))
        if mutation == "flip":
            data[at] ^= byte or 1
        elif mutation == "delete":
            del data[at]
        elif mutation == "insert":
            data.insert(at, byte)
        else:
            del data[at:]
        path.write_bytes(bytes(data))
        try:
            verify_dossier(copy)
        except DossierError:
            return
        # Survivors must be harmless: JSON whitespace or PEM line noise, not content.
        if target == "public-key.pem":
            original = serialization.load_pem_public_key((pristine / target).read_bytes())
            assert serialization.load_pem_public_key(bytes(data)) == original
        else:
            assert json.loads(bytes(data)) == json.loads((pristine / target).read_bytes())


# --- the writer refuses inconsistent input ----------------------------------------


def _write_args(log: MemoryLog, key: Ed25519PrivateKey) -> dict[str, Any]:
    return {
        "case_id": CASE,
        "items": log.items(CASE, {1: "application/letter.pdf", 10: "decision.pdf"}),
        "files": {"application/letter.pdf": LETTER, "decision.pdf": DECISION},
        "leaf_hashes_upto": log.leaves,
        "sth": log.sign(key),
        "public_key_pem": public_key_pem(key),
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.update(leaf_hashes_upto=a["leaf_hashes_upto"][:-1]), "got 12 leaf hashes"),
        (lambda a: a.update(leaf_hashes_upto=a["leaf_hashes_upto"][::-1]), "signed root"),
        (lambda a: a.update(items=a["items"][:1] + a["items"][2:]), "missing before it"),
        (lambda a: a.update(items=a["items"] + a["items"][:1]), "listed twice"),
        (lambda a: a.update(case_id=OTHER), "belongs to case"),
        (lambda a: a["files"].update({"stray.txt": b"x"}), "not covered by any item"),
        (lambda a: a["files"].update({"decision.pdf": b"other"}), "sha256 differs"),
        (lambda a: a["files"].update({"../up.pdf": b"x"}), "unsafe"),
        (lambda a: a["files"].update({"Decision.PDF": b"x"}), "differ only in case"),
        (
            lambda a: a.update(public_key_pem=public_key_pem(Ed25519PrivateKey.generate())),
            "names signing key",
        ),
    ],
)
def test_writer_refuses_inconsistent_input(
    tmp_path: Path, key: Ed25519PrivateKey, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    log, _ = build_log()
    args = _write_args(log, key)
    change(args)
    with pytest.raises(ValueError, match=expected):
        write_dossier(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []  # no staging directory left behind


def test_writer_refuses_a_non_empty_target(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    log, _ = build_log()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("x")
    with pytest.raises(ValueError, match="not an empty directory"):
        write_dossier(tmp_path / "out", **_write_args(log, key))
    (tmp_path / "out" / "old.txt").unlink()
    write_dossier(tmp_path / "out", **_write_args(log, key))  # empty is fine
    assert verify_dossier(tmp_path / "out").case_closed


def test_dossier_item_must_agree_with_its_record() -> None:
    log, _ = build_log()
    record = log.records[1]
    with pytest.raises(ValidationError, match="file_sha256 must equal"):
        DossierItem(
            leaf_index=1, kind="evidence", record=record, file="x.pdf", file_sha256="0" * 64
        )
    with pytest.raises(ValidationError, match="both file and file_sha256"):
        DossierItem(leaf_index=1, kind="evidence", record=record, file="x.pdf")
    with pytest.raises(ValidationError, match="file_sha256 must equal"):
        DossierItem(leaf_index=1, kind="evidence", record=record)  # covered file left out
    with pytest.raises(ValidationError, match="differs from the record"):
        DossierItem(leaf_index=3, kind="decision", record=log.records[3])
    with pytest.raises(ValidationError, match="case_seq"):
        DossierItem(leaf_index=3, kind="refusal", record={**log.records[3], "case_seq": "1"})


def test_file_must_be_present_even_when_null(pub: Published) -> None:
    """§3 settles it: `file` is never omitted; a record covering no document has null."""
    manifest = pub.manifest()
    [index] = [i for i, item in enumerate(manifest["items"]) if item["file"] is None][:1]
    del manifest["items"][index]["file"]
    pub.save_manifest(manifest)
    assert f"items.{index}.file: Field required" in failure(pub)


@pytest.mark.parametrize("where", ["record", "manifest", "tree head"])
def test_an_integer_beyond_2_53_is_rejected_anywhere(pub: Published, where: str) -> None:
    """§1 settles it: the ±(2^53 − 1) bound holds for every integer in a dossier."""
    big = 2**53
    if where == "manifest":
        manifest = pub.manifest()
        manifest["items"][0]["leaf_index"] = big
        pub.save_manifest(manifest)
        assert "items.0.leaf_index" in failure(pub)
    elif where == "tree head":
        path = pub.path / "tree-head.json"
        head = json.loads(path.read_text())
        path.write_text(json.dumps({**head, "tree_size": big}))
        assert "tree-head.json: tree_size" in failure(pub)
    else:
        manifest = pub.manifest()
        path = pub.path / manifest["items"][0]["record"]
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "amount": big}, separators=(",", ":")))
        assert "outside ±(2**53-1)" in failure(pub)
