"""docs/programme.md and the log agree on every event name (issue 20, item 3): a recount
written from the docs finds what the log holds.

The names the programme logs are taken from the code (the `kind` of every `CaseEvent` it
publishes, `<action>.refused` for every action it audits, the aggregated count of refused
code guesses) and from the log itself, after one run of every programme action (rows
written without an event of their own are logged as `<table>.written`). Each must be in
the docs' table of events, and each name in that table, or quoted as a record's
`"event"` anywhere in the docs, must be one the programme logs.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from models.ledger import LogLeaf
from models.programme import Ballot, MarkCreate, ballot_chain, programme_chain
from notifications import one_time_codes
from programme.ballots import cast_public_vote, close_ballot_as, issue_code
from programme.proposals import moderate_as
from tests.programme.conftest import OFFICIAL, new_proposal
from tests.programme.test_list_case import open_list
from tests.support import token_for

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "programme.md"
EVENT_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def logged_by_the_code() -> set[str]:
    """Every event kind the programme's modules publish or audit, read from their source."""
    names: set[str] = set()
    for module in sorted((ROOT / "programme").glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            callee = getattr(call.func, "id", getattr(call.func, "attr", ""))
            for keyword in call.keywords:
                value = keyword.value
                text = (value.value if isinstance(value, ast.Constant)
                        else constants.get(getattr(value, "id", "")))
                if callee == "CaseEvent" and keyword.arg == "kind":
                    assert isinstance(text, str), f"{module.name}: a kind not a constant"
                    names.add(text)
                if callee == "audited" and keyword.arg == "action":
                    assert isinstance(text, str), f"{module.name}: an action not a constant"
                    names.add(f"{text}.refused")
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    for a in n.names}
        if imported & {"count_guesses", "log_counted_guesses"}:
            names.add(one_time_codes.GUESSES_COUNTED)
    return names


def logged_by_a_run(ballot: Ballot) -> set[str]:
    """Every programme action once (and refused once), then the events on its chains."""
    assert ballot.id is not None
    merged = new_proposal("A duplicate of the crossing light")
    moderate_as(proposal_id=merged, mark=MarkCreate(
        kind="merged", reason="The same crossing", merged_into=ballot.options[0]),
        actor=OFFICIAL, token=token_for(OFFICIAL), channel="test")
    with pytest.raises(Refused):
        moderate_as(proposal_id=merged, mark=MarkCreate(kind="refused", reason="again"),
                         actor=OFFICIAL, token=token_for(OFFICIAL), channel="test")
    code = issue_code(ballot_id=ballot.id, channel_url="mailto://runner@example.org")
    with pytest.raises(Refused, match="VOTE-VERIFIED"):  # counted, logged at the close
        cast_public_vote(ballot_id=ballot.id, code="1-00000000", choices=[ballot.options[0]])
    with pytest.raises(Refused, match="VOTE-CHOICES"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[])
    cast_public_vote(ballot_id=ballot.id, code=code, choices=[ballot.options[0]])
    after = ballot.closes_at + timedelta(seconds=1)
    with pytest.raises(Refused, match="BALLOT-OFFICIAL"):
        close_ballot_as(ballot_id=ballot.id, actor="prof.zhang",
                        token=token_for("prof.zhang"), channel="test", now=after)
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=after)
    open_list(ballot, size=1)
    with pytest.raises(Refused, match="LIST-ONCE"):
        open_list(ballot, size=1)
    with session_scope() as session:
        records = session.exec(select(LogLeaf.record).where(col(LogLeaf.case_id).in_(
            [ballot_chain(ballot.id), programme_chain(ballot.year)]))).all()
    return {str(json.loads(record)["event"]) for record in records}


def documented() -> tuple[set[str], set[str]]:
    """The names in the docs' table of events, and every record `"event"` quoted."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Every event the programme logs", 1)[1].split("\n## ", 1)[0]
    table = {cell for line in section.splitlines() if line.startswith("| `")
             for cell in [line.split("`")[1]] if EVENT_NAME.match(cell)}
    quoted = set(re.findall(r'"event":\s*"([^"]+)"', text))
    return table, quoted


def test_the_docs_and_the_log_agree_on_every_event_name(
    make_ballot: Callable[..., Ballot],
) -> None:
    ballot = make_ballot(choose_up_to=1, hours=1)
    from_code = logged_by_the_code()
    from_log = logged_by_a_run(ballot)
    table, quoted = documented()
    logged = from_code | from_log
    assert {"vote.cast", "ballot.closed", "code_guesses.counted", "cast_vote.refused"} <= \
        from_code & from_log  # the extraction finds what the log holds
    assert logged - table == set(), "logged but not in docs/programme.md's table of events"
    assert table - logged == set(), "in docs/programme.md's table, but never logged"
    assert quoted - logged == set(), "quoted in docs/programme.md as a record's event"
