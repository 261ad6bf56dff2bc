"""The log and its witnesses (issue 22): two witnesses served by real uvicorn on loopback
cosign each new head; the log keeps only cosignatures it verified; checkpoints and
dossiers carry them; `verify-dossier` counts them offline; `verify` finds deleted heads
by asking the witnesses; a witness that is down never blocks signing."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from dueprocess.commands.app import build_cli
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import export_and_verify, get_transparency_settings, publish_tree_head
from dueprocess.ledger.audit import witness_summary
from dueprocess.ledger.cosign import (
    WitnessedCheckpoint,
    check_cosignature,
    cosigned_note,
    store_cosignature,
)
from dueprocess.ledger.heads import log_public_key_pem, log_vkey_now, signing_key
from dueprocess.stack.processes import free_port
from ledger import DossierError, load_public_key, verify_dossier
from ledger.checkpoint import verify_note
from ledger.cosignature import (
    CosignatureError,
    WitnessSigner,
    cosign,
    note_body,
    signature_lines,
)
from ledger.witness_server import WitnessService, parse_log_vkey, witness_app
from models.base import utcnow
from models.ledger import SignedCheckpoint, WitnessCosignature
from tests.browser import served
from tests.dueprocess.ledger.test_support import decided_case, fresh_database, triggers_dropped


@dataclass
class Witness:
    signer: WitnessSigner
    service: WitnessService
    url: str


@pytest.fixture
def witnesses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Witness]]:
    """A fresh case database with the log's key made, and two witnesses of it, registered."""
    with fresh_database(tmp_path), ExitStack() as stack:
        signing_key()
        origin, key = parse_log_vkey(log_vkey_now())
        running = []
        for number in (1, 2):
            signer = WitnessSigner(f"witness.example/w{number}", Ed25519PrivateKey.generate())
            service = WitnessService(signer=signer, state_path=tmp_path / f"w{number}.json",
                                     logs={origin: key})
            url = stack.enter_context(_serve(service))
            running.append(Witness(signer, service, url))
        monkeypatch.setenv("DUEPROCESS_WITNESSES", ", ".join(
            f"{w.url} {w.signer.public.vkey()}" for w in running))
        yield running


@contextmanager
def _serve(service: WitnessService) -> Iterator[str]:
    yield from served(witness_app(service))


@functools.cache
def cli() -> Any:
    return build_cli()


def grow(n: int = 1) -> None:
    for _ in range(n):
        with session_scope() as session:
            publish(session, CaseEvent(case_id="dp-2026-wit", kind="notice.published",
                                       occurred_at=utcnow()))


def held(size: int) -> set[str]:
    with session_scope() as session:
        return set(session.exec(select(WitnessCosignature.witness)
                                .where(WitnessCosignature.tree_size == size)))


def test_the_log_asks_both_witnesses_and_publishes_their_cosignatures(
        witnesses: list[Witness]) -> None:
    grow(3)
    first = publish_tree_head()
    assert first is not None and held(first.tree_size) == {"witness.example/w1",
                                                           "witness.example/w2"}
    grow(2)
    second = publish_tree_head()  # each witness is sent old 3 and a proof to 5
    assert second is not None and held(second.tree_size) == held(first.tree_size)
    published = (get_transparency_settings().publication_dir / "checkpoint").read_text()
    log_key = load_public_key(log_public_key_pem() or b"")
    origin = published.split("\n", 1)[0]
    body = verify_note(published, origin, log_key)  # the log's key still verifies it
    lines = signature_lines(published)
    assert len(lines) == 3 and lines[0].split(" ")[1] == origin
    for witness in witnesses:
        assert witness.service.latest(origin) is not None
        mine = next(li for li in lines if li.split(" ")[1] == witness.signer.name)
        check_cosignature(published, mine, witness.signer.public, size=second.tree_size)
    assert note_body(published) == body


def test_a_witness_ahead_of_the_log_s_records_gets_the_right_proof(
        witnesses: list[Witness]) -> None:
    grow(2)
    first = publish_tree_head()
    assert first is not None
    # w2 forgets that it cosigned size 2 in the log's table's eyes: a new database row set
    # is not possible (append-only), so make a third witness that already holds size 2.
    w1 = witnesses[0]
    with session_scope() as session:
        row = session.get(SignedCheckpoint, first.tree_size)
        assert row is not None
        note = row.note
    signer = WitnessSigner("witness.example/w3", Ed25519PrivateKey.generate())
    origin, key = parse_log_vkey(log_vkey_now())
    service = WitnessService(signer=signer, state_path=Path(str(w1.service.state_path) + "3"),
                             logs={origin: key})
    assert service.add_checkpoint(f"old 0\n\n{note}".encode()).status == 200
    with _serve(service) as url:
        os.environ["DUEPROCESS_WITNESSES"] += f", {url} {signer.public.vkey()}"
        grow(1)
        second = publish_tree_head()  # old 0 → 409 "2" → old 2 with its proof → 200
        assert second is not None and "witness.example/w3" in held(second.tree_size)


def test_a_witness_that_is_down_never_blocks_signing(
        witnesses: list[Witness], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DUEPROCESS_WITNESSES", f"{down} {witnesses[0].signer.public.vkey()}")
    grow(1)
    with caplog.at_level(logging.WARNING):
        sth = publish_tree_head()
    assert sth is not None and held(sth.tree_size) == set()
    assert "cannot be reached" in caplog.text and "asked again with the next head" in caplog.text
    monkeypatch.setenv("DUEPROCESS_WITNESSES",
                       f"{witnesses[0].url} {witnesses[0].signer.public.vkey()}")
    assert publish_tree_head() == sth  # the log did not grow, but the witness is asked again
    assert held(sth.tree_size) == {"witness.example/w1"}


def test_bad_cosignatures_are_refused_with_their_reason_and_never_replace_good_ones(
        witnesses: list[Witness]) -> None:
    grow(2)
    older = publish_tree_head()
    grow(1)
    newer = publish_tree_head()
    assert older is not None and newer is not None
    with session_scope() as session:
        old_note = session.get(SignedCheckpoint, older.tree_size).note  # type: ignore[union-attr]
        new_note = session.get(SignedCheckpoint, newer.tree_size).note  # type: ignore[union-attr]
    w1 = witnesses[0].signer
    stranger = WitnessSigner(w1.name, Ed25519PrivateKey.generate())
    with pytest.raises(CosignatureError, match="not by this witness's key"):
        check_cosignature(new_note, cosign(note_body(new_note), stranger, timestamp=9),
                          w1.public, size=newer.tree_size)
    with pytest.raises(CosignatureError, match=f"for the older checkpoint of size "
                                               f"{older.tree_size}"):
        check_cosignature(new_note, cosign(note_body(old_note), w1, timestamp=9),
                          w1.public, size=newer.tree_size)
    wrong = note_body(new_note).replace("\n", "\n\n", 1)  # over other text
    with pytest.raises(CosignatureError, match="does not verify over this checkpoint"):
        check_cosignature(new_note, cosign(wrong, w1, timestamp=9), w1.public,
                          size=newer.tree_size)
    good = cosigned_note_line(newer.tree_size, w1.name)
    stale = check_cosignature(new_note, cosign(note_body(new_note), w1, timestamp=9),
                              w1.public, size=newer.tree_size)
    with pytest.raises(CosignatureError, match="older than the one held"):
        store_cosignature(newer.tree_size, stale)
    later = check_cosignature(new_note, cosign(note_body(new_note), w1,
                                               timestamp=int(time.time()) + 60),
                              w1.public, size=newer.tree_size)
    assert store_cosignature(newer.tree_size, later) is False  # one per checkpoint: kept
    assert cosigned_note_line(newer.tree_size, w1.name) == good


@pytest.mark.parametrize("statement", ["UPDATE witnesscosignature SET line = line",
                                       "DELETE FROM witnesscosignature"])
def test_cosignatures_are_append_only(witnesses: list[Witness], statement: str) -> None:
    grow(1)
    sth = publish_tree_head()
    assert sth is not None and len(held(sth.tree_size)) == 2
    action = statement.split()[0]
    with pytest.raises(IntegrityError, match=f"witnesscosignature is append-only; {action} "
                                             "refused"), session_scope() as session:
        session.connection().execute(text(statement))
    assert len(held(sth.tree_size)) == 2


def cosigned_note_line(size: int, name: str) -> str:
    with session_scope() as session:
        note = cosigned_note(session, size)
    assert note is not None
    return next(li for li in signature_lines(note) if li.split(" ")[1] == name)


def test_the_dossier_carries_both_cosignatures_and_verify_dossier_counts_them(
        witnesses: list[Witness], tmp_path: Path) -> None:
    case_id = decided_case()
    out = io.StringIO()
    directory = tmp_path / "dossier"
    report = export_and_verify(case_id, directory, Console(file=out, width=2000))
    keys = [w.signer.public for w in witnesses]
    assert report.cosigned_by == ("witness.example/w1", "witness.example/w2")
    printed = out.getvalue()
    vkeys = " ".join(f"--witness-key {k.vkey()}" for k in keys)
    assert f"{vkeys} --min-witnesses 2 --require-closed\n" in printed
    assert verify_dossier(directory, witness_keys=keys, min_witnesses=2).cosigned_by

    third = WitnessSigner("witness.example/w3", Ed25519PrivateKey.generate()).public
    with pytest.raises(DossierError, match=r"2 of the 3 required cosignatures verify "
                                           r".*witness witness\.example/w3: no cosignature"):
        verify_dossier(directory, witness_keys=[*keys, third], min_witnesses=3)
    with pytest.raises(DossierError, match="must not exceed the number of --witness-key"):
        verify_dossier(directory, witness_keys=keys, min_witnesses=3)

    # Through the CLI: a forged cosignature names the witness and why.
    checkpoint = directory / "checkpoint"
    lines = checkpoint.read_text().split("\n")
    forged = next(i for i, li in enumerate(lines) if "witness.example/w2" in li)
    blob = lines[forged].rsplit(" ", 1)[1]
    lines[forged] = lines[forged].replace(blob, blob[:20] + ("A" if blob[20] != "A" else "B")
                                          + blob[21:])
    checkpoint.write_text("\n".join(lines))
    args = ["verify-dossier", str(directory), *(a for k in keys for a in ("--witness-key",
                                                                          k.vkey()))]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 1
    assert "1 of the 2 required cosignatures verify" in result.output
    assert "witness witness.example/w2: the cosignature does not verify" in result.output
    assert CliRunner().invoke(cli(), [*args, "--min-witnesses", "1"]).exit_code == 0
    bad = CliRunner().invoke(cli(), ["verify-dossier", str(directory), "--witness-key", "nope"])
    assert isinstance(bad.exception, DueProcessError)  # main() prints it as `error: …`
    assert str(bad.exception).startswith("--witness-key: witness key 'nope': expected")


def test_a_format_1_dossier_still_verifies_but_carries_no_cosignature(
        witnesses: list[Witness], tmp_path: Path) -> None:
    case_id = decided_case()
    directory = tmp_path / "dossier"
    export_and_verify(case_id, directory, Console(file=io.StringIO()))
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["checkpoint"]
    manifest["format_version"] = 1
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / "checkpoint").unlink()
    assert verify_dossier(directory, require_closed=True).case_closed
    with pytest.raises(DossierError, match="carries no checkpoint, so no cosignature "
                                           r"\(format version 1"):
        verify_dossier(directory, witness_keys=[witnesses[0].signer.public], min_witnesses=1)


def test_verify_finds_deleted_heads_by_asking_the_witnesses(
        witnesses: list[Witness]) -> None:
    grow(3)
    sth = publish_tree_head()
    assert sth is not None
    ok = CliRunner().invoke(cli(), ["verify"])
    assert ok.exit_code == 0, ok.output
    assert (f"witness witness.example/w1: its newest cosigned checkpoint (size {sth.tree_size}"
            in ok.output)
    # The insider holds the key: deletes every head, checkpoint, proof and cosignature,
    # and the published files. The tables agree with one another again.
    with session_scope() as session:
        tables = ("publishedtreehead", "signedcheckpoint", "consistencyproof",
                  "witnesscosignature")
        with triggers_dropped(session, *tables):
            for table in tables:
                session.connection().execute(text(f"DELETE FROM {table}"))
    for path in get_transparency_settings().publication_dir.rglob("*.json"):
        path.unlink()
    caught = CliRunner().invoke(cli(), ["verify"])
    assert caught.exit_code == 1, caught.output
    assert (f"witness witness.example/w1 cosigned the checkpoint of size {sth.tree_size}"
            in caught.output)
    assert "publishedtreehead has no head of that size: signed heads were deleted" in (
        caught.output.replace("\n", " "))


def test_verify_says_when_no_witness_answers_or_none_is_recent(
        witnesses: list[Witness], monkeypatch: pytest.MonkeyPatch) -> None:
    grow(1)
    publish_tree_head()
    monkeypatch.setenv("DUEPROCESS_WITNESSES",
                       f"http://127.0.0.1:{free_port()} {witnesses[0].signer.public.vkey()}")
    quiet = CliRunner().invoke(cli(), ["verify"])
    assert quiet.exit_code == 0, quiet.output
    assert "no answer" in quiet.output
    assert "no witness answered with a checkpoint of this log" in quiet.output
    old = WitnessedCheckpoint("witness.example/w1", 1, bytes(32), timestamp=1_000)
    monkeypatch.setenv("DUEPROCESS_WITNESS_MAX_AGE_SECONDS", "3600")
    lines = witness_summary([old], [], now=1_000 + 7200)
    assert any("is 2 h old, older than DUEPROCESS_WITNESS_MAX_AGE_SECONDS (3600 s)" in li
               for li in lines)
    assert not any("WARNING" in li for li in witness_summary([old], [], now=1_000 + 60))


def test_the_cosigned_checkpoint_is_on_the_portal(witnesses: list[Witness]) -> None:
    from fastapi.testclient import TestClient

    from portal.app import create_portal_app

    grow(2)
    sth = publish_tree_head()
    assert sth is not None
    client = TestClient(create_portal_app(), base_url="http://127.0.0.1")
    note = client.get("/transparency/checkpoint").text
    assert {li.split(" ")[1] for li in signature_lines(note)} >= {"witness.example/w1",
                                                                  "witness.example/w2"}
    heads = client.get("/transparency/heads.json").json()["heads"]
    assert heads[-1]["checkpoint"] == note
