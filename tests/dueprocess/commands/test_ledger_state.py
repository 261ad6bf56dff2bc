"""`verify` and `publish-head` on a database an insider touched (issue 22, parts 2–3), run
as an auditor runs them: the unsigned tail, a record forged after a case closed, and
tree-head tables that disagree, each named with an exit status and never a traceback.
Each test has a fresh database of its own (`verify` checks the whole log)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from models.base import utcnow
from tests.dueprocess.commands.test_ledger import dueprocess
from tests.dueprocess.ledger.test_support import (
    decided_case,
    forge_after_closure,
    fresh_database,
    triggers_dropped,
)

pytestmark = pytest.mark.slow  # each command is a fresh Python process


@pytest.fixture
def case_id(tmp_path: Path) -> Iterator[str]:
    """A closed case alone in a fresh database, with the two heads signed when it was
    decided and when it closed."""
    with fresh_database(tmp_path):
        yield decided_case()


def grow(case_id: str, times: int) -> None:
    for _ in range(times):
        with session_scope() as session:
            publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                       occurred_at=utcnow()))


def test_verify_prints_the_unsigned_tail_and_warns_past_the_bound(case_id: str) -> None:
    signed = dueprocess("verify")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "  unsigned tail: none (the newest signed head covers all " in signed.stdout
    grow(case_id, 2)
    time.sleep(1.5)
    within = dueprocess("verify")  # the default bound, 60 s
    assert within.returncode == 0, within.stdout + within.stderr
    assert "  unsigned tail: 2 leaves after the newest signed head (size " in within.stdout
    assert "ago on the case database's clock" in within.stdout
    assert "WARNING" not in within.stdout
    late = dueprocess("verify", DUEPROCESS_MAX_UNSIGNED_SECONDS="1")
    assert late.returncode == 0, late.stdout + late.stderr  # a warning, not a failure
    assert "WARNING: the unsigned tail is older than DUEPROCESS_MAX_UNSIGNED_SECONDS (1 s)" \
        in late.stdout


def test_verify_names_a_record_forged_after_the_case_closed(case_id: str) -> None:
    with session_scope() as session, triggers_dropped(session, "logleaf"):
        index = forge_after_closure(session, case_id)
    result = dueprocess("verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (f"FAILED: leaf {index} (evidence, case {case_id}): follows the case's "
            f"case-closed record (leaf {index - 1})") in result.stdout


# What the insider deletes (with the tables' triggers dropped), and what is then named.
DELETIONS = {
    "heads": (["DELETE FROM publishedtreehead"],
              r"signedcheckpoint has rows of tree size (\d+), (\d+) and consistencyproof has "
              r"proofs from or to tree size \1, \2, but publishedtreehead has no head of those "
              r"sizes"),
    "heads and proofs": (["DELETE FROM publishedtreehead", "DELETE FROM consistencyproof"],
                         r"signedcheckpoint has rows of tree size (\d+), (\d+), but "
                         r"publishedtreehead has no head of those sizes"),
    "the newest checkpoint": (
        ["DELETE FROM signedcheckpoint WHERE tree_size = "
         "(SELECT MAX(tree_size) FROM publishedtreehead)"],
        r"publishedtreehead has heads of tree size (\d+) with no signedcheckpoint row "
        r"\(every head since the first checkpoint, of size (\d+), has one\)"),
}


@pytest.mark.parametrize("deleted", DELETIONS)
def test_tree_head_tables_that_disagree_are_named_not_a_traceback(
    case_id: str, deleted: str
) -> None:
    import re

    statements, finding = DELETIONS[deleted]
    with session_scope() as session, triggers_dropped(
        session, "publishedtreehead", "consistencyproof", "signedcheckpoint"
    ):
        for statement in statements:
            session.connection().execute(text(statement))
    for command in ("publish-head", "verify"):
        result = dueprocess(command)  # asserts there is no traceback
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        message = " ".join(result.stderr.split())  # after the progress lines, if any
        assert "error: the tree-head tables disagree: " in message, message
        message = message[message.index("error: "):]
        assert re.search(finding, message), message
        assert "Restore the missing rows (" in message
        assert "then run `dueprocess verify`. No tree head is signed until the tables " \
            "agree." in message
