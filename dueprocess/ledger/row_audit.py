"""`verify`'s check of the covered tables (comments, notices, subscriptions, assignments,
declarations, panel notes, stages, credentials, people) against their logged snapshots.

Fed every record in log order (`see`), then compared with the tables (`compare`). Names
the first row that differs: a row deleted, a row changed, a row no record covers, or a
row whose logged history changes a field its table never changes.

Comments taken in bulk are logged in batches, not row by row: a `comments.received`
record lists its receipts, a `comments.imported` record names an upload's first and last
line; each holds the SHA-256 of its comments' lines (`models.notices.comment_batch_line`),
which `compare` recomputes from the rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dueprocess.ledger.log import LogTampered
from dueprocess.ledger.rows import BY_TABLE, COVERED, ROWS, CoveredTable, current_rows
from models.notices import Comment, comment_batch_line


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass
class _Logged:
    leaf_index: int
    values: dict[str, Any]


@dataclass
class _CommentBatch:
    """A log record that covers comments in bulk: which, and the digest of their lines."""

    leaf_index: int
    case_id: str
    digest: str
    count: int
    members: list[Comment] = field(default_factory=list)

    def label(self) -> str:
        return f"the comments of case {self.case_id} logged together at leaf {self.leaf_index}"


_BATCH_EVENTS = ("comments.received", "comments.imported")


def _line_number(receipt: str, prefix: str) -> int | None:
    rest = receipt[len(prefix):] if receipt.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


@dataclass
class RowAudit:
    """The last logged snapshot of every covered row, and the comments logged in bulk."""

    latest: dict[tuple[str, int], _Logged] = field(default_factory=dict)
    by_receipt: dict[tuple[str, str], _CommentBatch] = field(default_factory=dict)
    # upload id -> [(first line, last line, batch)] of its `comments.imported` records
    uploads: dict[int, list[tuple[int, int, _CommentBatch]]] = field(default_factory=dict)
    batches: list[_CommentBatch] = field(default_factory=list)

    def _see_batch(self, leaf_index: int, record: dict[str, Any]) -> None:
        raw = record.get("body")
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        where = f"leaf {leaf_index} ({record.get('event')}, case {record.get('case_id')})"
        count, digest = body.get("count"), record.get("digest")
        if type(count) is not int or not isinstance(digest, str):
            raise LogTampered(f"{where}: a comment batch without its count and digest")
        # after its case closed, a record goes on the system chain and names its case
        case_id = str(record.get("about_case") or record.get("case_id"))
        batch = _CommentBatch(leaf_index, case_id, digest, count)
        self.batches.append(batch)
        if record.get("event") == "comments.received":
            receipts = body.get("receipts")
            if not isinstance(receipts, list) or len(receipts) != count:
                raise LogTampered(f"{where}: its receipts do not match its count")
            for receipt in receipts:
                earlier = self.by_receipt.get((batch.case_id, str(receipt)))
                if earlier is not None:
                    raise LogTampered(f"{where}: comment {receipt} was already logged at leaf "
                                      f"{earlier.leaf_index}; a comment is logged once")
                self.by_receipt[(batch.case_id, str(receipt))] = batch
            return
        upload, first, last = body.get("import_id"), body.get("first_receipt"), body.get(
            "last_receipt")
        prefix = f"I{upload}-"
        lines = (_line_number(str(first), prefix), _line_number(str(last), prefix))
        if type(upload) is not int or lines[0] is None or lines[1] is None:
            raise LogTampered(f"{where}: a comment batch that names no upload lines")
        self.uploads.setdefault(upload, []).append((lines[0], lines[1], batch))

    def _batch_of(self, row: Comment) -> _CommentBatch | None:
        batch = self.by_receipt.get((row.case_id, row.receipt_number))
        if batch is not None:
            return batch
        upload, _, line = row.receipt_number[1:].partition("-")
        if not row.receipt_number.startswith("I") or not upload.isdigit() or not line.isdigit():
            return None
        for first, last, candidate in self.uploads.get(int(upload), ()):
            if first <= int(line) <= last and candidate.case_id == row.case_id:
                return candidate
        return None

    def _compare_batches(self) -> int:
        for batch in self.batches:
            def order(row: Comment) -> tuple[int, str]:
                line = row.receipt_number.rpartition("-")[2]
                return (int(line) if line.isdigit() else 0, row.receipt_number)

            rows = sorted(batch.members, key=order)
            if len(rows) != batch.count:
                raise LogTampered(f"{batch.label()}: {batch.count} comments were logged but "
                                  f"{len(rows)} are in the database (a row was deleted)")
            lines = "".join(comment_batch_line(
                receipt_number=r.receipt_number, body=r.body, author=r.author,
                received_at=r.received_at) for r in rows)
            if hashlib.sha256(lines.encode()).hexdigest() != batch.digest:
                changed = ", ".join(r.receipt_number for r in rows[:3])
                raise LogTampered(f"{batch.label()} were changed: their digest differs from "
                                  f"the log (receipts {changed}{'…' if len(rows) > 3 else ''})")
        return sum(batch.count for batch in self.batches)

    def see(self, leaf_index: int, record: dict[str, Any]) -> None:
        if record.get("event") in _BATCH_EVENTS:
            self._see_batch(leaf_index, record)
            return
        entries = record.get(ROWS)
        if entries is None:
            return
        where = f"leaf {leaf_index} ({record.get('kind')}, case {record.get('case_id')})"
        if not isinstance(entries, list):
            raise LogTampered(f"{where}: its rows are not a list")
        for entry in entries:
            table = BY_TABLE.get(str(entry.get("table"))) if isinstance(entry, dict) else None
            row_id, values = (entry.get("id"), entry.get("values")) if table else (None, None)
            if table is None or type(row_id) is not int or not isinstance(values, dict):
                raise LogTampered(f"{where}: a row snapshot names no covered table and row")
            key = (table.table, row_id)
            earlier = self.latest.get(key)
            if earlier is not None:
                _check_fixed(table, row_id, earlier, leaf_index, values)
            self.latest[key] = _Logged(leaf_index, values)

    def compare(self, session: Session) -> int:
        """Compare every covered table with the log; return how many rows matched."""
        matched = 0
        for table in COVERED:
            seen: set[int] = set()
            for row_id, row in current_rows(session, table):
                seen.add(row_id)
                logged = self.latest.get((table.table, row_id))
                now = table.snapshot(row)
                label = table.name(row_id, now.get("case_id"))
                # A comment logged in bulk counts in its batch, also when a later record
                # (an attribution report about it) snapshots its row: both are checked.
                batch = self._batch_of(row) if isinstance(row, Comment) else None
                if batch is not None:
                    batch.members.append(row)
                    if logged is not None:
                        _check_same(label, logged, now)
                    continue
                if logged is None:
                    if table.must_log(row):
                        raise LogTampered(f"{label} is not in the log: the row was added "
                                          "outside dueprocess (an extra row)")
                    continue
                _check_same(label, logged, now)
                matched += 1
            for (name, row_id), logged in self.latest.items():
                if name == table.table and row_id not in seen:
                    label = table.name(row_id, logged.values.get("case_id"))
                    raise LogTampered(f"{label} (logged at leaf {logged.leaf_index}) is "
                                      "missing from the database (the row was deleted)")
        return matched + self._compare_batches()


def _check_same(label: str, logged: _Logged, now: dict[str, Any]) -> None:
    for key in sorted(now.keys() | logged.values.keys()):
        if now.get(key, "absent") != logged.values.get(key, "absent"):
            raise LogTampered(
                f"{label} (leaf {logged.leaf_index}) was changed: {key} is "
                f"{_short(now.get(key, 'absent'))} in the database but "
                f"{_short(logged.values.get(key, 'absent'))} in the log")


def _check_fixed(table: CoveredTable, row_id: int, earlier: _Logged, leaf_index: int,
                 values: dict[str, Any]) -> None:
    keys = table.fixed if table.fixed is not None else earlier.values.keys() | values.keys()
    for key in sorted(keys):
        if earlier.values.get(key) != values.get(key):
            label = table.name(row_id, values.get("case_id"))
            raise LogTampered(
                f"{label}: leaf {leaf_index} logs {key} as {_short(values.get(key))} but leaf "
                f"{earlier.leaf_index} logged {_short(earlier.values.get(key))}; a "
                f"{table.label}'s {key} never changes (its history was re-logged)")
    if table.table == "credential" and earlier.values.get("revoked_at") not in (
        None, values.get("revoked_at")
    ):
        raise LogTampered(f"{table.name(row_id, None)}: leaf {leaf_index} un-revokes it "
                          f"(revoked at leaf {earlier.leaf_index}); a revocation is final")
