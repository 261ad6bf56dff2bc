"""Exporting a case's dossier: what `dueprocess demo` ends with, and what it refuses."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import (
    LogTampered,
    export_and_verify,
    export_dossier,
    get_transparency_settings,
    published_tree_heads,
)
from dueprocess.services.cases import open_case, read_case_file
from ledger import verify_dossier
from models.base import utcnow
from tests.conftest import DEMO_CASE
from tests.dueprocess.ledger.test_support import (
    decided_case,
    fresh_database,
    triggers_dropped,
)


@pytest.fixture
def case_id(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path):
        yield decided_case()


def test_export_and_verify_reports_what_the_public_can_check(
    case_id: str, tmp_path: Path
) -> None:
    out = io.StringIO()
    report = export_and_verify(case_id, tmp_path / "dossier", Console(file=out, width=300))
    printed = out.getvalue()
    key = get_transparency_settings().publication_dir / "public-key.pem"
    assert f"OK: {len(report.items)} records (" in printed
    # A closed case's dossier is checked as complete: the command the reader is given
    # requires the case-closed record (without it, a dossier cut short passes too).
    assert (f"  Anyone can repeat this: dueprocess verify-dossier {tmp_path / 'dossier'} "
            f"--trusted-key {key} --require-closed\n") in printed
    assert "not closed yet" not in printed
    assert report.key_pinned and report.items[0].kind == "case"
    # The published key is all a reader needs; the dossier holds every record of the case,
    # up to the record that closed it.
    again = verify_dossier(tmp_path / "dossier", trusted_public_key_pem=key.read_bytes(),
                           require_closed=True)
    assert [i.case_seq for i in again.items] == list(range(len(again.items)))
    assert again.case_closed and again.items[-1].leaf_index < again.tree_size
    # The demo case ran on simulated time: the verifier says so, from the records alone.
    assert again.simulated_time and "SIMULATED TIME" in again.summary()


def test_an_open_case_is_checked_without_require_closed_and_says_so(tmp_path: Path) -> None:
    with fresh_database(tmp_path):
        with session_scope() as session:
            case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
        out = io.StringIO()
        report = export_and_verify(case_id, tmp_path / "dossier", Console(file=out, width=300))
    printed = out.getvalue()
    assert not report.case_closed
    assert re.search(r"  Anyone can repeat this: dueprocess verify-dossier \S+ --trusted-key "
                     r"\S+public-key\.pem\n", printed), printed
    assert ("  The case is not closed yet: later records of it may follow; a dossier exported "
            "after it closes is checked with --require-closed.") in printed


def test_each_export_signs_a_head_that_extends_the_previous_one(
    case_id: str, tmp_path: Path
) -> None:
    export_dossier(case_id, tmp_path / "first", announce=lambda _: None)
    with session_scope() as session:
        publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                   occurred_at=utcnow()))
    second = export_dossier(case_id, tmp_path / "second", announce=lambda _: None)
    first_size = json.loads((tmp_path / "first" / "tree-head.json").read_text())["tree_size"]
    # heads signed when the case was decided and closed (the first export's), then this one
    assert second.earlier_tree_sizes[-1] == first_size
    assert [h.tree_size for h in published_tree_heads()][-2:] == [first_size, first_size + 1]
    proof = (get_transparency_settings().publication_dir / "consistency"
             / f"{first_size:012d}-{first_size + 1:012d}.json")
    assert json.loads(proof.read_text())["old_size"] == first_size


def test_export_refuses_a_case_whose_rows_were_altered(case_id: str, tmp_path: Path) -> None:
    with session_scope() as session, triggers_dropped(session, "evidenceitem"):
        session.connection().execute(text(
            "UPDATE evidenceitem SET channel = 'api' WHERE stage_key = 'publication'"
        ))
    with pytest.raises(LogTampered, match=rf"cannot export case {case_id}: evidence #\d+ of "
                                          r"case .* was altered: channel is \"api\""):
        export_dossier(case_id, tmp_path / "dossier", announce=lambda _: None)
    assert not (tmp_path / "dossier").exists()
