"""The issue's attacks on the database: `verify` detects each one and names the item.

Every test runs on its own fresh database (SQLite, or PostgreSQL with
DUEPROCESS_TEST_DATABASE_URL), because `verify` checks the whole log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import (
    LogTampered,
    get_transparency_settings,
    publish_tree_head,
    verify_log,
)
from dueprocess.ledger.log import append
from dueprocess.ledger.records import RecordSpec
from ledger import EMPTY_ROOT, MerkleLog, SignedTreeHead, sign_tree_head, tree_head_message
from ledger.checkpoint import sign_note
from ledger.codec import b64encode
from ledger.records import RESERVED_FIELDS
from models.base import utcnow
from models.evidence import EvidenceItem
from models.ledger import LogLeaf, PublishedTreeHead
from tests.dueprocess.ledger.test_support import (
    decided_case,
    forge_after_closure,
    fresh_database,
    triggers_dropped,
)


@pytest.fixture
def case_id(tmp_path: Path) -> Iterator[str]:
    """A decided case, alone in a fresh database, with one signed tree head."""
    with fresh_database(tmp_path):
        case = decided_case()
        publish_tree_head(announce=lambda _: None)
        yield case


def tampered(match: str) -> str:
    with pytest.raises(LogTampered, match=match) as info:
        verify_log()
    return str(info.value)


def evidence_id(session: Session, case_id: str, stage: str, n: int = 0) -> int:
    rows = session.exec(select(EvidenceItem.id).where(
        EvidenceItem.case_id == case_id, EvidenceItem.stage_key == stage
    ).order_by(col(EvidenceItem.id))).all()
    return rows[n]  # type: ignore[return-value]


def test_untouched_log_verifies(case_id: str) -> None:
    report = verify_log()
    # signed automatically when the case was decided and when it closed
    assert report.signed_heads == 2 and report.cases == 1
    # the draft, 8 evidence items and the risk report, a refusal, the decision
    assert report.rows_checked == 12
    assert report.summary().startswith(f"OK: {report.tree_size} leaves over 1 case, root ")


EDITS = {
    "evidence payload": (
        "evidenceitem",
        "UPDATE evidenceitem SET payload = :v WHERE stage_key = 'risk_assessment'",
        json.dumps({"forged": True}),
        r"evidence #\d+ of case .* was altered: its payload now has sha256",
    ),
    "evidence column": (
        "evidenceitem",
        "UPDATE evidenceitem SET recorded_by = :v WHERE stage_key = 'legality_review'",
        "zhao.li",
        r"evidence #\d+ of case .* was altered: recorded_by is \"zhao.li\" in the database "
        r"but \"sun.hao\" in the log",
    ),
    "document content": (
        "document",
        "UPDATE document SET content = :v",
        b"%PDF-1.7 a more convenient report",
        r"document [0-9a-f]{16}… of evidence #\d+ .* was altered: its content now has sha256",
    ),
    "decision text": (
        "decision",
        "UPDATE decision SET text = :v",
        "The fee adjustment is rejected.",
        r"decision #1 of case .* was altered: text is \"The fee adjustment is rejected.\"",
    ),
    "refusal reasons": (
        "refusal",
        "UPDATE refusal SET reasons = :v",
        "[]",
        r"refusal #1 of case .* was altered: reasons is \[\] in the database",
    ),
    "draft text": (
        "draftversion",
        "UPDATE draftversion SET text = :v",
        "1. Parking is free.",
        r"draft version 1 \(#1\) of case .* was altered: its text now has sha256",
    ),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_row_edited_by_raw_sql_with_triggers_dropped_is_named(case_id: str, edit: str) -> None:
    table, statement, value, message = EDITS[edit]
    with session_scope() as session, triggers_dropped(session, table):
        session.connection().execute(text(statement), {"v": value})
    tampered(message)


def test_deleted_evidence_row_is_named(case_id: str) -> None:
    with session_scope() as session:
        victim = evidence_id(session, case_id, "expert_review", 1)
        with triggers_dropped(session, "evidenceitem"):
            session.connection().execute(text("DELETE FROM evidenceitem WHERE id = :id"),
                                         {"id": victim})
    tampered(rf"evidence #{victim} of case {case_id} \(leaf \d+\) is missing from the database")


def test_deleted_log_row_is_named(case_id: str) -> None:
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        session.connection().execute(text("DELETE FROM logleaf WHERE leaf_index = 7"))
    tampered(r"leaf 7 is missing: the log jumps to leaf 8")


def test_two_evidence_rows_swapped_are_named(case_id: str) -> None:
    with session_scope() as session:
        first = evidence_id(session, case_id, "expert_review", 0)
        second = evidence_id(session, case_id, "expert_review", 1)
        with triggers_dropped(session, "evidenceitem"):
            for old, new in ((first, -1), (second, first), (-1, second)):
                session.connection().execute(
                    text("UPDATE evidenceitem SET id = :new WHERE id = :old"),
                    {"old": old, "new": new},
                )
    tampered(rf"evidence #{first} of case {case_id} \(leaf \d+\) was altered")


def test_two_log_rows_swapped_are_named(case_id: str) -> None:
    with session_scope() as session:
        chains = session.exec(select(LogLeaf.case_id).order_by(col(LogLeaf.leaf_index))).all()
    first = next(i for i in range(8, len(chains)) if chains[i] == chains[i + 1] == case_id)
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        for old, new in ((first, -1), (first + 1, first), (-1, first + 1)):
            session.connection().execute(
                text("UPDATE logleaf SET leaf_index = :new WHERE leaf_index = :old"),
                {"old": old, "new": new},
            )
    tampered(rf"leaf {first} \(\w+, case {case_id}\): has case_seq \d+, expected \d+")


def test_edited_log_record_is_named(case_id: str) -> None:
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        session.connection().execute(text(
            "UPDATE logleaf SET record = REPLACE(record, 'approve', 'reject') "
            "WHERE kind = 'decision'"
        ))
    tampered(rf"leaf \d+ \(decision, case {case_id}\): its record was changed after it was "
             "logged")


def test_row_added_outside_the_log_is_named(case_id: str) -> None:
    with session_scope() as session:
        source = session.get(EvidenceItem, evidence_id(session, case_id, "publication"))
        assert source is not None
        forged = EvidenceItem.model_validate(
            {**source.model_dump(), "id": None, "idempotency_key": "backdated"}
        )
        session.add(forged)  # a plain INSERT: no case event, so no leaf
        session.flush()
        forged_id = forged.id
    tampered(rf"evidence #{forged_id} of case {case_id} is not in the log")


def test_a_record_forged_after_the_case_closed_is_named(case_id: str) -> None:
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        index = forge_after_closure(session, case_id)
    tampered(rf"leaf {index} \(evidence, case {case_id}\): follows the case's case-closed "
             rf"record \(leaf {index - 1}\), and nothing may")


def _leaf_hashes(session: Session, below: int) -> list[bytes]:
    rows = session.exec(select(LogLeaf.leaf_hash).where(col(LogLeaf.leaf_index) < below)
                        .order_by(col(LogLeaf.leaf_index))).all()
    return [bytes.fromhex(h) for h in rows]


def test_truncated_log_is_named(case_id: str) -> None:
    size = verify_log().tree_size
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        session.connection().execute(text("DELETE FROM logleaf WHERE leaf_index >= :n"),
                                     {"n": size - 3})
    tampered(rf"the log was truncated: the log head counts {size} leaves but only "
             rf"{size - 3} remain")


def test_truncated_log_with_its_head_rewound_is_caught_by_the_signed_head(case_id: str) -> None:
    size = verify_log().tree_size
    with session_scope() as session, triggers_dropped(session, "logleaf", "loghead"):
        session.connection().execute(text("DELETE FROM logleaf WHERE leaf_index >= :n"),
                                     {"n": size - 3})
        log = MerkleLog()
        log.extend(_leaf_hashes(session, size - 3))
        session.connection().execute(
            text("UPDATE loghead SET tree_size = :n, root_hash = :r, frontier = :f"),
            {"n": log.size, "r": log.root().hex(),
             "f": json.dumps([h.hex() for h in log.frontier])},
        )
    tampered(rf"signed tree head \(size {size}, .*\) covers {size} leaves but the log has only "
             rf"{size - 3}: the log was truncated")


def test_forged_tree_head_signed_with_another_key_is_named(case_id: str) -> None:
    size = verify_log().tree_size
    # Claim the log grew, in a head signed by someone else.
    forged = sign_tree_head(Ed25519PrivateKey.generate(), tree_size=size + 1,
                            root_hash=EMPTY_ROOT, timestamp=datetime(2030, 1, 1, tzinfo=UTC))
    with session_scope() as session:
        session.add(PublishedTreeHead(
            tree_size=forged.tree_size, root_hash=forged.root_hash,
            timestamp=forged.model_dump(mode="json")["timestamp"], key_id=forged.key_id,
            signature=forged.signature,
        ))
    tampered(rf"signed tree head \(size {size + 1}, .*\): tree head names signing key .* but the "
             r"verifying key is .* \(forged\?\)")


def test_tree_head_with_a_forged_signature_under_our_key_id_is_named(case_id: str) -> None:
    size = verify_log().tree_size
    with session_scope() as session:
        genuine = session.get(PublishedTreeHead, size)
        assert genuine is not None
        claim = SignedTreeHead.model_validate({
            "tree_size": size + 5, "root_hash": genuine.root_hash,
            "timestamp": genuine.timestamp, "key_id": genuine.key_id,
            "signature": genuine.signature,
        })
        signature = Ed25519PrivateKey.generate().sign(tree_head_message(claim))
        session.add(PublishedTreeHead(
            tree_size=size + 5, root_hash=genuine.root_hash, timestamp=genuine.timestamp,
            key_id=genuine.key_id, signature=b64encode(signature),
        ))
    tampered(rf"signed tree head \(size {size + 5}, .*\): signature on tree head .* does not "
             "verify")


def _rewrite_decision(session: Session, new_text: str, *, drop_heads: bool) -> None:
    """The thorough insider: change the decision, and rebuild the whole log around it
    through the real append path so every hash and chain link is consistent again."""
    leaves = session.exec(select(LogLeaf).order_by(col(LogLeaf.leaf_index))).all()
    records = [(leaf.kind, leaf.subject_id, json.loads(leaf.record)) for leaf in leaves]
    session.expunge_all()
    connection = session.connection()
    connection.execute(text("UPDATE decision SET text = :t"), {"t": new_text})
    connection.execute(text("DELETE FROM logleaf"))
    if drop_heads:
        connection.execute(text("DELETE FROM consistencyproof"))
        connection.execute(text("DELETE FROM publishedtreehead"))
        connection.execute(text("DELETE FROM signedcheckpoint"))
    connection.execute(text("UPDATE loghead SET tree_size = 0, root_hash = :r, frontier = '[]'"),
                       {"r": EMPTY_ROOT.hex()})
    for kind, subject_id, record in records:
        body = {k: v for k, v in record.items() if k not in RESERVED_FIELDS}
        if kind == "decision":
            body["text"] = new_text
        append(session, RecordSpec(record["case_id"], kind, subject_id, body,
                                   record.get("file_sha256")))


REWRITE_TABLES = ("decision", "logleaf", "loghead", "publishedtreehead", "consistencyproof",
                  "signedcheckpoint")


def test_rewritten_history_is_never_signed_over(case_id: str) -> None:
    with session_scope() as session, triggers_dropped(session, *REWRITE_TABLES):
        _rewrite_decision(session, "The fee adjustment is rejected.", drop_heads=False)
    with pytest.raises(LogTampered, match="not an extension of the tree head of size"):
        publish_tree_head(announce=lambda _: None)
    tampered(r"signed tree head \(size \d+, .*\) does not match the log: .* history was "
             "rewritten after it was signed")


def test_rewritten_and_resigned_history_is_caught_by_an_earlier_published_head(
    case_id: str,
) -> None:
    directory = get_transparency_settings().publication_dir
    public_copy = (directory / "latest-tree-head.json").read_bytes()  # a citizen kept it
    earlier = SignedTreeHead.model_validate_json(public_copy)
    with session_scope() as session, triggers_dropped(session, *REWRITE_TABLES):
        _rewrite_decision(session, "The fee adjustment is rejected.", drop_heads=True)
    with pytest.raises(LogTampered, match="not an extension of the tree head of size"):
        publish_tree_head(announce=lambda _: None)  # the published file still stands
    # The insider deletes the published files too, and re-signs with the log's key.
    for path in directory.rglob("*.json"):
        path.unlink()
    resigned = publish_tree_head(announce=lambda _: None)
    assert resigned is not None and resigned.tree_size == earlier.tree_size
    assert resigned.root_hash != earlier.root_hash
    assert verify_log().tree_size == earlier.tree_size  # consistent with itself again
    # A head published earlier, kept outside the database, catches the rewrite ...
    tampered_known = rf"known tree head \(size {earlier.tree_size}, .*\) does not match the log"
    with pytest.raises(LogTampered, match=tampered_known):
        verify_log(known_heads=[earlier])
    # ... and so does the published file, once a mirror puts it back.
    mirror = directory / "tree-heads" / f"{earlier.tree_size:012d}.json"
    mirror.write_bytes(public_copy)
    tampered(rf"published tree head .*{mirror.name} \(size {earlier.tree_size}, .*\) does "
             "not match the log: .* history was rewritten")


def test_a_new_key_does_not_silently_replace_the_logs_key(
    case_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope() as session:  # grow the log, so that a new head is due
        publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                   occurred_at=utcnow()))
    monkeypatch.setenv("DUEPROCESS_LOG_SIGNING_KEY", str(tmp_path / "new-key.pem"))
    with pytest.raises(DueProcessError, match=r"DUEPROCESS_LOG_SIGNING_KEY: .* did not "
                                              r"sign the published tree heads"):
        publish_tree_head(announce=lambda _: None)


def test_a_forged_checkpoint_is_named(case_id: str) -> None:
    """What witnesses read must be what the log signed: a checkpoint note re-signed with
    another key, or one naming another root, is caught."""
    with session_scope() as session, triggers_dropped(session, "signedcheckpoint"):
        size = session.connection().execute(
            text("SELECT max(tree_size) FROM signedcheckpoint")).scalar_one()
        note = session.connection().execute(
            text("SELECT note FROM signedcheckpoint WHERE tree_size = :n"), {"n": size}
        ).scalar_one()
        origin, _, root, *_ = note.split("\n")
        forged = sign_note(f"{origin}\n{size}\n{b64encode(EMPTY_ROOT)}\n", origin,
                           Ed25519PrivateKey.generate())
        assert root != b64encode(EMPTY_ROOT)
        session.connection().execute(
            text("UPDATE signedcheckpoint SET note = :note WHERE tree_size = :n"),
            {"note": forged, "n": size})
    tampered(rf"checkpoint of size {size}: the note carries no signature by .* with the log's "
             r"key \(forged or altered\)")
