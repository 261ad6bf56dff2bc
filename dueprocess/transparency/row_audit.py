"""`verify`'s check of the covered tables (comments, notices, subscriptions, assignments,
declarations, panel notes, stages, credentials, people) against their logged snapshots.

Fed every record in log order (`see`), then compared with the tables (`compare`). Names
the first row that differs: a row deleted, a row changed, a row no record covers, or a
row whose logged history changes a field its table never changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dueprocess.transparency.log import LogTampered
from dueprocess.transparency.rows import BY_TABLE, COVERED, ROWS, CoveredTable, current_rows


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass
class _Logged:
    leaf_index: int
    values: dict[str, Any]


@dataclass
class RowAudit:
    """The last logged snapshot of every covered row."""

    latest: dict[tuple[str, int], _Logged] = field(default_factory=dict)

    def see(self, leaf_index: int, record: dict[str, Any]) -> None:
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
        return matched


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
