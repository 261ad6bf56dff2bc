"""Log coverage (issue 11, item 5): comments, notices, confirmed subscriptions, assignments,
interest declarations, panel notes, stage transitions, credentials and people are log
records, and `verify` names the row an insider deleted, added or changed in any of them.

Every test runs on its own fresh database: `verify` checks the whole log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import LogTampered, verify_log
from dueprocess.ledger.log import append
from dueprocess.ledger.records import RecordSpec
from dueprocess.ledger.rows import SYSTEM_SCOPE
from dueprocess.services import identity
from dueprocess.services.cases import open_case, read_case_file
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from ledger.records import RESERVED_FIELDS
from models.base import utcnow
from models.ledger import LogLeaf
from models.notices import Comment, Subscriber, comment_batch_line
from notifications import subscriptions
from portal.comments.submission import CommentCreate, submit_comment
from tests.conftest import DEMO_CASE
from tests.dueprocess.ledger.test_support import fresh_database
from tests.support import VALID_STEPS, advance_to_step, token_for

TOKEN_HOLDER = "liu.yang"


def _participation(opinions: int) -> dict[str, object]:
    return {**submissions.PARTICIPATION, "opinions_received": opinions,
            "adoption_statement": f"{opinions} opinions in one cluster, adopted.",
            "responses": [{"cluster": "Longer free drop-off", "opinions": opinions,
                           "response": "adopted", "reason": "Matches the survey."}]}


def closed_case_with_everything() -> tuple[str, str]:
    """A case run to its end with two portal comments, a confirmed subscription, an API
    token, a registered key and a revoked token. Returns (case id, the live token)."""
    with session_scope() as session:
        case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
    advance_case(case_id=case_id)
    for n in range(2):
        submit_comment(case_id=case_id, client="198.51.100.7",
                       comment=CommentCreate(body=f"意见 {n}: 延长免费时段"))
    with session_scope() as session:
        _, token = identity.issue_token(session, handle=TOKEN_HOLDER, label="laptop")
        old, _ = identity.issue_token(session, handle=TOKEN_HOLDER, label="old phone")
        assert old.id is not None
    with session_scope() as session:
        identity.revoke(session, credential_id=old.id)
        subscriber = Subscriber(url_key="url-" + "ab" * 32,
                                url_ciphertext="gAAAAB-encrypted-apprise-url",
                                privacy_url="json://example.org/…", tags=["public"],
                                confirm_token_sha256=hashlib.sha256(b"confirm-me").hexdigest())
        session.add(subscriber)
        session.flush()
        subscriber_id = subscriber.id
    assert subscriber_id is not None
    subscriptions.confirm(subscriber_id=subscriber_id, token="confirm-me")
    with suppress(Refused):
        record_evidence(case_id=case_id, stage_key="legality_review", recorded_by="sun.hao",
                        evidence=submissions.LEGALITY, channel="test",
                        token=token_for("sun.hao"))
    for stage, by, evidence in VALID_STEPS:
        advance_to_step(case_id, stage)  # the step's day on the case clock
        if stage == "public_participation":
            evidence = _participation(2)
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="test", token=token if by == TOKEN_HOLDER else token_for(by))
        advance_case(case_id=case_id)
    return case_id, token


@pytest.fixture
def case(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with fresh_database(tmp_path):
        yield closed_case_with_everything()


def tampered(match: str) -> str:
    with pytest.raises(LogTampered, match=match) as info:
        verify_log()
    return str(info.value)


def sql(statement: str, **values: object) -> None:
    with session_scope() as session:
        session.connection().execute(text(statement), values)


def first_id(table: str, where: str = "1 = 1") -> int:
    with session_scope() as session:
        value = session.connection().execute(
            text(f"SELECT min(id) FROM {table} WHERE {where}")).scalar_one()
    assert value is not None, f"no {table} row where {where}"
    return int(value)


def test_untouched_log_covers_every_table(case: tuple[str, str]) -> None:
    report = verify_log()
    # 2 comments, notices, 1 subscription, assignments, declarations, panel notes,
    # stages, 2 tokens and the demo's keys, people: all matched
    assert report.covered_rows >= 40
    assert "other covered rows" in report.summary()
    with session_scope() as session:
        records = [json.loads(r) for r in session.exec(select(LogLeaf.record))]
    tables = {row["table"] for record in records for row in record.get("rows", [])}
    assert tables == {"notice", "subscriber", "assignment", "interestdeclaration",
                      "panelnote", "stage", "credential", "person"}
    # comments are logged in batches, each record holding the digest of its comments' lines
    batches = [r for r in records if r.get("event") == "comments.received"]
    assert sum(r["body"]["count"] for r in batches) == 2
    system = [r for r in records if r["case_id"] == SYSTEM_SCOPE]
    assert {r["kind"] for r in system} >= {"person", "credential", "subscription"}


def test_no_secret_or_token_hash_is_logged(case: tuple[str, str]) -> None:
    _, token = case
    with session_scope() as session:
        log = "\n".join(session.exec(select(LogLeaf.record)))
        hashes = session.connection().execute(
            text("SELECT token_sha256 FROM credential WHERE token_sha256 IS NOT NULL")
        ).scalars().all()
        ciphertexts = session.connection().execute(
            text("SELECT url_ciphertext FROM subscriber")).scalars().all()
    assert len(hashes) >= 2  # the holder's live and revoked tokens, and the reviewers'
    for secret in [token, *hashes, *ciphertexts, hashlib.sha256(b"confirm-me").hexdigest()]:
        assert secret not in log


# (item, statement, expected message): each is one tamper kind `verify` must name.
EDITS: dict[str, tuple[str, str]] = {
    "comment deleted": (
        "DELETE FROM comment WHERE id = 1",
        r"the comments of case .* logged together at leaf \d+: 1 comments were logged but 0 "
        r"are in the database \(a row was deleted\)"),
    "comment body changed": (
        "UPDATE comment SET body = 'I support the plan.' WHERE id = 1",
        r"the comments of case .* logged together at leaf \d+ were changed: their digest "
        r"differs from the log"),
    "comment backdated": (
        "UPDATE comment SET received_at = '2020-01-01 00:00:00.000000' WHERE id = 2",
        r"the comments of case .* logged together at leaf \d+ were changed"),
    "comment inserted": (
        "INSERT INTO comment (case_id, receipt_number, author, body, sha256, client_digest, "
        "received_at) SELECT case_id, 'C-FORGED', NULL, 'forged', sha256, client_digest, "
        "received_at FROM comment WHERE id = 1",
        r"comment #3 of case .* is not in the log: the row was added outside dueprocess"),
    "notice deleted": (
        "DELETE FROM notice WHERE id = (SELECT min(id) FROM notice)",
        r"notice #\d+ of case .* \(logged at leaf \d+\) is missing from the database"),
    "notice text changed": (
        "UPDATE notice SET body_text = 'nothing happened' WHERE id = (SELECT min(id) FROM "
        "notice)",
        r"notice #\d+ of case .* was changed: body_text_sha256 is"),
    "notice made private": (
        "UPDATE notice SET public = false WHERE public = true",
        r"notice #\d+ of case .* was changed: public is false in the database but true"),
    "confirmed subscription deleted": (
        "DELETE FROM subscriber",
        r"subscription #1 \(logged at leaf \d+\) is missing from the database"),
    "confirmed subscription reset to pending": (
        "UPDATE subscriber SET status = 'pending', confirmed_at = NULL",
        r"subscription #1 \(leaf \d+\) was changed: confirmed_at is null in the database"),
    "subscription inserted as confirmed": (
        "INSERT INTO subscriber (url_key, url_ciphertext, privacy_url, tags, status, "
        "created_at) VALUES ('url-forged', '', '', '[]', 'confirmed', '2026-01-01')",
        r"subscription #2 is not in the log"),
    "assignment deleted": (
        "DELETE FROM assignment WHERE id = 1",
        r"assignment #1 of case .* \(logged at leaf \d+\) is missing from the database"),
    "assignment inserted": (
        "INSERT INTO assignment (case_id, stage_key, person_id, assigned_at) SELECT case_id, "
        "'risk_assessment', (SELECT id FROM person WHERE handle = 'sun.hao'), assigned_at "
        "FROM assignment WHERE id = 1",
        r"assignment #\d+ of case .* is not in the log"),
    "assignment moved to another person": (
        "UPDATE assignment SET person_id = person_id + 1 WHERE id = 1",
        r"assignment #1 of case .* was changed: person_id is"),
    "interest declaration changed": (
        "UPDATE interestdeclaration SET direct_interest = false, interests = 'none'",
        r"interest declaration #\d+ of case .* was changed: (direct_interest|interests_sha256)"),
    "interest declaration deleted": (
        "DELETE FROM interestdeclaration",
        r"interest declaration #1 of case .* is missing from the database"),
    "panel note changed": (
        "UPDATE panelnote SET text = 'hand-picked'",
        r"panel note #1 of case .* was changed: text_sha256 is"),
    "stage reopened by hand": (
        "UPDATE stage SET status = 'OPEN', completed_at = NULL WHERE key = 'legality_review'",
        r"stage #\d+ of case .* was changed: completed_at is null in the database"),
    "stage deleted": (
        "DELETE FROM stage WHERE key = 'risk_assessment'",
        r"stage #\d+ of case .* \(logged at leaf \d+\) is missing from the database"),
    "token hash swapped": (
        "UPDATE credential SET token_sha256 = 'ff' || substr(token_sha256, 3) "
        "WHERE revoked_at IS NULL AND kind = 'api_token'",
        r"credential #\d+ \(leaf \d+\) was changed: token_commitment is"),
    "token un-revoked": (
        "UPDATE credential SET revoked_at = NULL WHERE revoked_at IS NOT NULL",
        r"credential #\d+ \(leaf \d+\) was changed: revoked_at is null in the database"),
    "key added outside": (
        "INSERT INTO credential (person_id, kind, label, public_key, fingerprint, created_at) "
        "VALUES (1, 'ed25519', 'evil', 'AAAA', 'beef', '2026-01-01')",
        r"credential #\d+ is not in the log"),
    "key replaced": (
        "UPDATE credential SET public_key = 'AAAA' WHERE kind = 'ed25519'",
        r"credential #\d+ \(leaf \d+\) was changed: public_key_sha256 is"),
    "person added outside": (
        "INSERT INTO person (handle, name, role, unit, created_at) VALUES ('mallory', "
        "'Mallory', 'risk_assessor', 'x', '2026-01-01')",
        r"person #\d+ is not in the log"),
    "person's role changed": (
        "UPDATE person SET role = 'organ_head' WHERE handle = 'liu.yang'",
        r"person #\d+ \(leaf \d+\) was changed: role is \"organ_head\""),
    "person renamed": (
        "UPDATE person SET name = 'Someone Else' WHERE handle = 'qian.yu'",
        r"person #\d+ \(leaf \d+\) was changed: name is \"Someone Else\""),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_covered_row_tampered_by_sql_is_named(case: tuple[str, str], edit: str) -> None:
    statement, message = EDITS[edit]
    sql(statement)
    tampered(message)


def test_an_edit_relogged_through_the_append_path_is_named(case: tuple[str, str]) -> None:
    """The thorough insider edits a comment and appends a fresh batch record for it, with
    the digest of the edited row: a comment is logged once, so the second record is named."""
    sql("UPDATE comment SET body = 'I support the plan.' WHERE id = 1")
    with session_scope() as session:
        records = [json.loads(r) for r in session.exec(
            select(LogLeaf.record).order_by(col(LogLeaf.leaf_index)))]
        comment = session.get(Comment, 1)
        assert comment is not None
        [logged] = [r for r in records if r.get("event") == "comments.received"
                    and comment.receipt_number in r["body"]["receipts"]]
        body = {k: v for k, v in logged.items() if k not in RESERVED_FIELDS}
        body["body"] = {"count": 1, "receipts": [comment.receipt_number]}
        body["digest"] = hashlib.sha256(comment_batch_line(
            receipt_number=comment.receipt_number, body=comment.body,
            author=comment.author, received_at=comment.received_at).encode()).hexdigest()
        append(session, RecordSpec(logged["case_id"], logged["kind"], None, body))
    tampered(rf"comment {comment.receipt_number} was already logged at leaf \d+; "
             r"a comment is logged once")


def test_records_after_the_case_closed_go_on_the_system_chain(case: tuple[str, str]) -> None:
    case_id, _ = case
    with session_scope() as session:
        leaves = session.exec(select(LogLeaf).where(LogLeaf.case_id == case_id)
                              .order_by(col(LogLeaf.case_seq))).all()
    last = json.loads(leaves[-1].record)
    assert last["case_closed"] is True and last["event"] == "case.closed"
    assert not any(json.loads(leaf.record).get("case_closed") for leaf in leaves[:-1])
    assert leaves[-1].leaf_index == max(leaf.leaf_index for leaf in leaves)
    # Anything about the case after this goes on the system chain, naming the case.
    with session_scope() as session:
        submit = CaseEvent(case_id=case_id, kind="notice.published", occurred_at=utcnow())
        publish(session, submit)
    with session_scope() as session:
        tail = session.exec(select(LogLeaf).order_by(col(LogLeaf.leaf_index).desc())).first()
    assert tail is not None and tail.case_id == SYSTEM_SCOPE
    assert json.loads(tail.record)["about_case"] == case_id
    verify_log()
