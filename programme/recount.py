"""Recount a ballot from its exported dossier, offline: no database, no dueprocess server.

`dueprocess programme export-ballot ID DIR` writes the ballot's log chain as a dossier
(docs/dossier-format.md). This module verifies that dossier against the log's public key
(every record proven in the signed tree head, the chain complete up to the tally record
that closes it), then recounts every vote from the records and checks each one: a
pseudonym votes once, within the ballot's window, for at most N of its options. The
recount must equal the tally the closing record published (docs/programme.md).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger import VerificationReport, verify_dossier


class RecountError(ValueError):
    """The dossier verifies, but its votes or tally are not what a ballot allows."""


@dataclass(frozen=True)
class Recount:
    ballot_id: int
    votes: int
    tally: dict[int, int]
    report: VerificationReport

    def summary(self) -> str:
        ranked = sorted(self.tally.items(), key=lambda kv: (-kv[1], kv[0]))
        lines = [f"ballot #{self.ballot_id}: {self.votes} votes recounted, equal to the "
                 "published tally; every vote is in the signed log",
                 *(f"  proposal #{option}: {count}" for option, count in ranked)]
        return "\n".join(lines)


def _rows(record: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [r for r in record.get("rows", []) if isinstance(r, dict) and r.get("table") == table]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def recount(directory: Path, *, trusted_public_key_pem: bytes) -> Recount:
    """Verify the exported ballot and recount it; `DossierError` or `RecountError` name the
    first problem."""
    report = verify_dossier(directory, trusted_public_key_pem=trusted_public_key_pem,
                            require_closed=True)
    records = [json.loads((Path(directory) / item.record_path).read_bytes())
               for item in report.items]
    closing = records[-1]
    if closing.get("event") != "ballot.closed":
        raise RecountError(f"{report.case_id}: its last record is not a ballot's tally")
    ballot_rows = _rows(closing, "ballot")
    if not ballot_rows:
        raise RecountError(f"{report.case_id}: the tally record does not hold the ballot")
    ballot = ballot_rows[-1]["values"]
    ballot_id = int(ballot_rows[-1]["id"])
    options, limit = list(ballot["options"]), int(ballot["choose_up_to"])
    opens, closes = _time(ballot["opens_at"]), _time(ballot["closes_at"])
    votes: dict[int, dict[str, Any]] = {}
    for record in records:
        for row in _rows(record, "vote"):
            votes[int(row["id"])] = row["values"]  # a vote is never changed: one snapshot
    counts: Counter[int] = Counter()
    levels: Counter[str] = Counter()
    seen: set[str] = set()
    for vote_id, vote in sorted(votes.items()):
        where = f"vote #{vote_id}"
        choices = list(vote["choices"])
        if vote["ballot_id"] != ballot_id:
            raise RecountError(f"{where} belongs to ballot #{vote['ballot_id']}")
        if vote["pseudonym"] in seen:
            raise RecountError(f"{where}: its voter voted twice")
        if not opens <= _time(vote["cast_at"]) < closes:
            raise RecountError(f"{where} was cast at {vote['cast_at']}, outside the window")
        if not choices or len(choices) > limit or len(set(choices)) != len(choices) \
                or not set(choices) <= set(options):
            raise RecountError(f"{where}: choices {choices} are not allowed on this ballot")
        seen.add(vote["pseudonym"])
        counts.update(choices)
        # An expert ballot's votes are verified; a vote's snapshot names its level unless
        # it is `channel` (docs/programme.md).
        levels["verified" if ballot["roll"] == "expert"
               else vote.get("assurance", "channel")] += 1
    recounted = {option: counts[option] for option in options}
    published = {int(k): v for k, v in closing["body"]["tally"].items()}
    if recounted != published or closing["body"]["votes"] != len(votes):
        raise RecountError(f"the published tally {published} ({closing['body']['votes']} "
                           f"votes) differs from the recount {recounted} ({len(votes)} votes)")
    by_level = closing["body"].get("votes_by_assurance")  # tallies before it have none
    if by_level is not None and {k: v for k, v in by_level.items() if v} != dict(levels):
        raise RecountError(f"the published votes by assurance level {by_level} differ from "
                           f"the recount {dict(levels)}")
    return Recount(ballot_id=ballot_id, votes=len(votes), tally=recounted, report=report)
