"""The append path: every case event becomes leaves in the transaction of its change."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import LogTampered, verify_log
from dueprocess.ledger.records import record_kind
from dueprocess.services.recording import record_evidence
from ledger import MerkleTree, canonical_bytes, leaf_hash
from ledger.codec import b64encode
from models.base import utcnow
from models.cases import DraftVersion
from models.ledger import LogHead, LogLeaf
from models.stages import StageStatus
from tests.dueprocess.ledger.test_support import DOCUMENT, decided_case, fresh_database
from tests.support import token_for


def case_records(case_id: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        rows = session.exec(select(LogLeaf.record).where(LogLeaf.case_id == case_id)
                            .order_by(col(LogLeaf.leaf_index))).all()
    return [json.loads(r) for r in rows]


def everything() -> list[dict[str, Any]]:
    with session_scope() as session:
        return [json.loads(r) for r in session.exec(select(LogLeaf.record))]


def records_about(case_id: str) -> list[dict[str, Any]]:
    """The case's records, and those logged on the system chain after it closed."""
    with session_scope() as session:
        rows = session.exec(select(LogLeaf.record).order_by(col(LogLeaf.leaf_index))).all()
    records = [json.loads(r) for r in rows]
    return [r for r in records if case_id in (r["case_id"], r.get("about_case"))]


def log_size() -> int:
    with session_scope() as session:
        head = session.get(LogHead, 1)
        assert head is not None
        return head.tree_size


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[None]:
    with fresh_database(tmp_path):
        yield


def test_a_decided_case_is_logged_event_by_event(fresh: None) -> None:
    case_id = decided_case()
    records = case_records(case_id)
    kinds = [r["kind"] for r in records]
    assert [r["case_seq"] for r in records] == list(range(len(records)))
    assert kinds[:2] == ["case", "draft"]  # the case opened, then its draft
    assert (records[0]["event"], records[-1]["event"]) == ("case.opened", "case.closed")
    with session_scope() as session:
        draft = session.exec(select(DraftVersion).where(DraftVersion.case_id == case_id)).one()
    assert records[1]["file_sha256"] == hashlib.sha256(draft.text.encode()).hexdigest()
    assert kinds.count("evidence") == 8 and kinds.count("refusal") == 1
    assert kinds.count("decision") == 1 and kinds.count("document") == 1
    # The risk report follows the evidence that carries it, bound by its content hash.
    document = kinds.index("document")
    assert records[document - 1]["stage_key"] == "risk_assessment"
    assert records[document]["file_sha256"] == hashlib.sha256(DOCUMENT).hexdigest()
    # Each record names the leaf hash of the case's previous record.
    for before, after in itertools.pairwise(records):
        assert after["case_prev"] == b64encode(leaf_hash(canonical_bytes(before)))
    report = verify_log()
    assert report.tree_size == log_size()
    # the rest: people and credentials, on the system chain
    others = [r for r in everything() if r["case_id"] != case_id]
    assert len(records) + len(others) == report.tree_size
    assert {r["case_id"] for r in others} == {"system"}


def test_log_head_root_is_the_merkle_root_of_the_leaves(fresh: None) -> None:
    decided_case()
    with session_scope() as session:
        hashes = session.exec(select(LogLeaf.leaf_hash).order_by(col(LogLeaf.leaf_index))).all()
        head = session.get(LogHead, 1)
        assert head is not None
        assert head.root_hash == MerkleTree([bytes.fromhex(h) for h in hashes]).root.hex()


def test_a_rolled_back_change_leaves_no_leaf(case_id: str) -> None:
    before, records = log_size(), case_records(case_id)
    with pytest.raises(RuntimeError), session_scope() as session:
        publish(session, CaseEvent(case_id=case_id, kind="stage.opened", occurred_at=utcnow(),
                                   stage_key="public_participation"))
        raise RuntimeError("the change fails after its event was published")
    assert log_size() == before
    assert case_records(case_id) == records


def test_a_rolled_back_savepoint_drops_only_its_own_events(case_id: str) -> None:
    def notice(session: Session, name: str) -> None:
        publish(session, CaseEvent(case_id=case_id, kind=f"notice.{name}",
                                   occurred_at=utcnow()))

    with session_scope() as session:
        notice(session, "before")
        with pytest.raises(RuntimeError), session.begin_nested():
            notice(session, "discarded")
            raise RuntimeError("the savepoint rolls back")
        with session.begin_nested():
            notice(session, "released")
        notice(session, "after")
    events = [r.get("event") for r in case_records(case_id)][-3:]
    assert events == ["notice.before", "notice.released", "notice.after"]


def test_a_refused_submission_logs_the_refusal_and_no_evidence(case_id: str) -> None:
    with pytest.raises(Refused) as info:
        record_evidence(case_id=case_id, stage_key="legality_review", recorded_by="sun.hao",
                        evidence=submissions.LEGALITY, channel="test", token=token_for("sun.hao"))
    last = case_records(case_id)[-1]
    assert last["kind"] == "refusal" and last["refusal_id"] == info.value.refusal_id
    assert last["reasons"][0]["rule"] == "STAGE-ORDER"
    assert "evidence" not in [r["kind"] for r in case_records(case_id)]


def test_notices_of_any_kind_are_logged_as_they_come(case_id: str) -> None:
    when = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    reference = uuid.UUID(int=7)
    with session_scope() as session:
        publish(session, CaseEvent(
            case_id=case_id, kind="notice.deadline-reminder", occurred_at=when,
            stage_key="public_participation", subject_id=42, digest="ab" * 32,
            body={"due": date(2026, 12, 31), "sent_at": when, "stage": StageStatus.OPEN,
                  "outbox_id": reference, "channels": ["mailto", "json"]},
        ))
    record = case_records(case_id)[-1]
    assert record["kind"] == "notice" and record["event"] == "notice.deadline-reminder"
    assert record["occurred_at"] == "2026-12-01T08:30:00.000Z"
    assert (record["subject_id"], record["digest"]) == (42, "ab" * 32)
    assert record["body"] == {"due": "2026-12-31", "sent_at": "2026-12-01T08:30:00Z",
                              "stage": "open", "outbox_id": str(reference),
                              "channels": ["mailto", "json"]}


@pytest.mark.parametrize(("event", "kind"), [
    ("evidence.recorded", "evidence"), ("evidence.refused", "refusal"),
    ("revision.refused", "refusal"), ("case.decided", "decision"),
    ("stage.opened", "transition"), ("stage.reopened", "transition"), ("case.closed", "case"),
    ("notice.published", "notice"), ("Notice.Sent", "notice"),
    ("implementation.report", "implementation"), ("evidence.late", "evidence-late"),
    ("draft.revised", "draft-revised"), ("decision", "event"), ("9lives", "event"),
    ("", "event"),
])
def test_event_kinds_map_to_record_kinds(event: str, kind: str) -> None:
    assert record_kind(event) == kind


def test_an_event_that_is_not_its_rows_own_never_takes_a_row_kind(case_id: str) -> None:
    with session_scope() as session:  # e.g. a refusal announced without its audit row
        publish(session, CaseEvent(case_id=case_id, kind="evidence.refused",
                                   occurred_at=utcnow()))
        publish(session, CaseEvent(case_id=case_id, kind="evidence.late",
                                   occurred_at=utcnow(), subject_id=1))
    *_, refused, late = case_records(case_id)
    assert (refused["kind"], late["kind"]) == ("evidence-refused", "evidence-late")


def test_a_draft_stored_without_an_event_is_flagged_until_its_case_logs_again(
    fresh: None,
) -> None:
    case_id = decided_case()
    text = "1. Peak-hour parking is charged 8 yuan per hour."
    with session_scope() as session:  # a revision written by code that announces nothing
        session.add(DraftVersion(case_id=case_id, version=2, title="Revised draft", text=text,
                                 sha256=hashlib.sha256(text.encode()).hexdigest()))
    with pytest.raises(LogTampered, match=rf"draft version #\d+ of case {case_id} is not in "
                                          "the log"):
        verify_log()
    with session_scope() as session:
        publish(session, CaseEvent(case_id=case_id, kind="notice.sent", occurred_at=utcnow()))
    # The case is closed: what comes after is logged on the system chain, about the case.
    *_, notice, draft = records_about(case_id)
    assert notice["event"] == "notice.sent"
    assert notice["case_id"] == draft["case_id"] == "system"
    assert notice["about_case"] == draft["about_case"] == case_id
    assert (draft["kind"], draft["version"]) == ("draft", 2)
    assert draft["file_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    with session_scope() as session:  # logged once, not again with later events
        publish(session, CaseEvent(case_id=case_id, kind="notice.sent", occurred_at=utcnow()))
    assert [r["kind"] for r in records_about(case_id)].count("draft") == 2
    verify_log()


def test_a_revision_follows_the_event_that_announces_it(case_id: str) -> None:
    text = "1. Peak-hour parking is charged 9 yuan per hour."
    with session_scope() as session:
        draft = DraftVersion(case_id=case_id, version=2, title="Revised draft", text=text,
                             sha256=hashlib.sha256(text.encode()).hexdigest())
        session.add(draft)
        session.flush()
        publish(session, CaseEvent(case_id=case_id, kind="draft.revised", occurred_at=utcnow(),
                                   subject_id=draft.id))
        publish(session, CaseEvent(case_id=case_id, kind="stage.reopened",
                                   occurred_at=utcnow(), stage_key="public_participation"))
    *_, revised, logged, reopened = case_records(case_id)
    assert (revised["event"], logged["kind"], reopened["event"]) == (
        "draft.revised", "draft", "stage.reopened")


def test_concurrent_writers_get_dense_unique_leaf_indices(fresh: None) -> None:
    threads, per_thread, cases = 8, 15, ["dp-2026-aaaaaa", "dp-2026-bbbbbb", "dp-2026-cccccc"]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with session_scope() as session:  # one transaction per event
                    publish(session, CaseEvent(
                        case_id=cases[(worker + n) % len(cases)], kind="notice.published",
                        occurred_at=utcnow(), body={"worker": worker, "n": n},
                    ))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    pool = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors, errors
    with session_scope() as session:
        indices = session.exec(select(LogLeaf.leaf_index).order_by(col(LogLeaf.leaf_index)))
        assert list(indices) == list(range(threads * per_thread))
        per_case = session.exec(select(LogLeaf.case_id, func.count()).group_by(
            col(LogLeaf.case_id))).all()
    assert sum(count for _, count in per_case) == threads * per_thread
    assert verify_log().tree_size == threads * per_thread  # every case chain links


def test_verifying_while_writers_append_reads_one_snapshot(fresh: None) -> None:
    # Under PostgreSQL's READ COMMITTED the leaves and the head were read at different
    # moments, so a busy log looked truncated; the check must see one consistent state.
    decided_case()  # a log long enough that reading it takes a while
    stop, errors = threading.Event(), []

    def write() -> None:
        try:
            for n in itertools.count():
                if stop.is_set():
                    return
                with session_scope() as session:
                    publish(session, CaseEvent(case_id="dp-2026-aaaaaa", kind="notice.published",
                                               occurred_at=utcnow(), body={"n": n}))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    sizes: list[int] = []
    try:
        for _ in range(6):
            sizes.append(verify_log().tree_size)
            while not errors and log_size() <= sizes[-1]:  # let the writers in (SQLite)
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors, errors
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # the writers really were busy
    assert verify_log().tree_size == log_size()
