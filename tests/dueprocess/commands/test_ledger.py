"""`dueprocess verify`, `export`, `verify-dossier` and `publish-head`, run as a citizen or
an auditor would run them: exit status and a clear message, never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import get_transparency_settings
from ledger import SignedTreeHead
from models.base import utcnow
from tests.conftest import DEMO_CASE
from tests.dueprocess.ledger.test_support import (
    DOCUMENT,
    decided_case,
    fresh_database,
    triggers_dropped,
)
from tests.support import as_official

pytestmark = pytest.mark.slow  # each command is a fresh Python process (~1.5 s)

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]


def dueprocess(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200", **env},
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A decided case in a fresh database, exported by the CLI: (case, dossier, key)."""
    with fresh_database(tmp_path_factory.mktemp("cli")):
        case_id = decided_case()
        dossier = tmp_path_factory.mktemp("out") / "dossier"
        result = dueprocess("export", case_id, dossier)
        assert result.returncode == 0, result.stderr
        assert f"Exported the dossier of case {case_id}" in result.stdout
        key = get_transparency_settings().publication_dir / "public-key.pem"
        # the case is closed: the command to check it requires the case-closed record
        assert (f"Check it with: dueprocess verify-dossier {dossier} --trusted-key {key} "
                "--require-closed\n") in result.stdout
        yield case_id, dossier, key


def copy_of(dossier: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(dossier, tmp_path / "copy"))


def test_export_writes_every_record_and_file(exported: tuple[str, Path, Path]) -> None:
    case_id, dossier, _ = exported
    manifest = json.loads((dossier / "manifest.json").read_text())
    assert manifest["case_id"] == case_id
    kinds = [item["kind"] for item in manifest["items"]]
    assert {"case", "draft", "transition", "evidence", "document", "refusal",
            "decision"} <= set(kinds)
    assert all(item["inclusion_proof"] for item in manifest["items"])
    assert (dossier / "files" / "drafts" / "v1.txt").read_text().startswith("1. Peak-hour")
    [document] = (dossier / "files" / "documents").iterdir()
    assert document.read_bytes() == DOCUMENT and document.suffix == ".pdf"
    evidence = sorted((dossier / "files" / "evidence").iterdir())
    assert len(evidence) == 8 and json.loads(evidence[0].read_bytes())["opinions_received"]


def test_verify_dossier_offline_with_the_published_key(
    exported: tuple[str, Path, Path],
) -> None:
    case_id, dossier, key = exported
    # No database and no server: point the database setting at nothing at all.
    result = dueprocess("verify-dossier", dossier, "--trusted-key", key,
                        DUEPROCESS_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dossier for case {case_id}: OK" in result.stdout
    assert "NOT pinned" not in result.stdout


def test_replaced_document_in_a_dossier_is_named(
    exported: tuple[str, Path, Path], tmp_path: Path
) -> None:
    _, dossier, key = exported
    copy = copy_of(dossier, tmp_path)
    [document] = (copy / "files" / "documents").iterdir()
    document.write_bytes(b"%PDF-1.7 a more convenient report")
    result = dueprocess("verify-dossier", copy, "--trusted-key", key)
    assert result.returncode == 1
    assert f"document): files/documents/{document.name} was replaced or altered" in result.stdout


def test_dossier_signed_with_another_key_is_refused(
    exported: tuple[str, Path, Path], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger import public_key_pem

    _, dossier, _ = exported
    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(Ed25519PrivateKey.generate()))
    result = dueprocess("verify-dossier", dossier, "--trusted-key", other)
    assert result.returncode == 1
    assert "public-key.pem: is not the trusted public key" in result.stdout


@pytest.mark.parametrize(("damage", "message"), [
    ("no-dir", "not a directory"),
    ("no-manifest", "manifest.json: manifest.json is missing"),
    ("garbage-manifest", "manifest.json: malformed JSON"),
    ("wrong-version", "manifest.json: unsupported format_version 3"),
    ("bad-head", "tree-head.json: tree_size: Input should be a valid integer"),
    ("bad-proof", "inclusion proof element 0: not valid base64"),
])
def test_malformed_dossier_gives_a_clear_error(
    exported: tuple[str, Path, Path], tmp_path: Path, damage: str, message: str
) -> None:
    _, dossier, key = exported
    copy = copy_of(dossier, tmp_path)
    manifest = copy / "manifest.json"
    data = json.loads(manifest.read_text())
    if damage == "no-dir":
        copy = tmp_path / "nowhere"
    elif damage == "no-manifest":
        manifest.unlink()
    elif damage == "garbage-manifest":
        manifest.write_text("{\"format\": ")
    elif damage == "wrong-version":
        manifest.write_text(json.dumps({**data, "format_version": 3}))
    elif damage == "bad-head":
        head = json.loads((copy / "tree-head.json").read_text())
        (copy / "tree-head.json").write_text(json.dumps({**head, "tree_size": "many"}))
    else:
        data["items"][0]["inclusion_proof"][0] = "not base64!"
        manifest.write_text(json.dumps(data))
    result = dueprocess("verify-dossier", copy, "--trusted-key", key)
    assert result.returncode == 1
    assert message in result.stdout and "FAILED:" in result.stdout


def test_bad_options_are_named(exported: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, dossier, _ = exported
    missing = dueprocess("verify-dossier", dossier, "--trusted-key", tmp_path / "none.pem")
    assert missing.returncode == 2 and "--trusted-key" in missing.stderr
    junk = tmp_path / "head.json"
    junk.write_text('{"tree_size": 1}')
    bad = dueprocess("verify-dossier", dossier, "--known-head", junk)
    assert bad.returncode == 2
    assert f"--known-head {junk}: not a signed tree head: root_hash: Field required" in bad.stderr


def test_later_dossier_proves_it_extends_an_earlier_one(
    exported: tuple[str, Path, Path], tmp_path: Path
) -> None:
    case_id, dossier, key = exported
    with session_scope() as session:  # the log grows after the first export
        publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                   occurred_at=utcnow()))
    later = tmp_path / "later"
    assert dueprocess("export", case_id, later).returncode == 0
    result = dueprocess("verify-dossier", later, "--trusted-key", key,
                        "--known-head", dossier / "tree-head.json")
    assert result.returncode == 0, result.stdout
    earlier = SignedTreeHead.model_validate_json((dossier / "tree-head.json").read_bytes())
    assert re.search(rf"consistent with earlier tree heads of size (\d+, )*{earlier.tree_size}\n",
                     result.stdout)


def test_a_case_opened_by_a_fresh_process_is_logged_with_its_draft(
    exported: tuple[str, Path, Path],
) -> None:
    # In a new process the case's draft is stored before any event loads the log feature.
    opened = dueprocess("open", DEMO_CASE, "--no-start", **as_official())
    assert opened.returncode == 0, opened.stderr
    verified = dueprocess("verify")
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.startswith("OK: ")


def test_export_errors_are_named(exported: tuple[str, Path, Path], tmp_path: Path) -> None:
    case_id, dossier, _ = exported
    unknown = dueprocess("export", "dp-0000-nocase", tmp_path / "x")
    assert unknown.returncode == 2 and "case 'dp-0000-nocase' not found" in unknown.stderr
    occupied = dueprocess("export", case_id, dossier)
    assert occupied.returncode == 2
    assert f"{dossier}: exists and is not an empty directory" in occupied.stderr


def test_verify_prints_ok_then_names_the_tampered_row(
    exported: tuple[str, Path, Path], tmp_path: Path
) -> None:
    _, _, key = exported
    published = dueprocess("publish-head")
    assert published.returncode == 0 and '"tree_size"' in published.stdout
    ok = dueprocess("verify", "--trusted-key", key)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: ")
    with session_scope() as session, triggers_dropped(session, "decision"):
        session.connection().execute(text("UPDATE decision SET outcome = 'reject'"))
    failed = dueprocess("verify")
    assert failed.returncode == 1
    assert "FAILED: decision #1 of case" in failed.stdout
    assert 'outcome is "reject" in the database but "approve" in the log' in failed.stdout
