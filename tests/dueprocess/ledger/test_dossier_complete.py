"""Complete dossiers (issue 11, item 7): closing a case writes its case-closed record, a head
signed after it goes into the dossier, and `verify-dossier --require-closed` passes the
genuine dossier of a closed case and rejects it truncated at every record (and with any
one record cut out of the middle).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.ledger import (
    export_dossier,
    get_transparency_settings,
    published_tree_heads,
)
from ledger import DossierError, verify_dossier
from tests.dueprocess.ledger.test_support import decided_case, fresh_database

HEAD_SIZES: list[int] = []  # sizes of the heads signed while the case ran, and by export


@pytest.fixture(scope="module")
def closed_dossier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes]]:
    """The exported dossier of a closed case, and the log's published public key."""
    tmp = tmp_path_factory.mktemp("closed-dossier")
    with fresh_database(tmp):
        case_id = decided_case()
        export_dossier(case_id, tmp / "dossier", announce=lambda _: None)
        key = (get_transparency_settings().publication_dir / "public-key.pem").read_bytes()
        HEAD_SIZES[:] = [h.tree_size for h in published_tree_heads()]
    yield tmp / "dossier", key


def _copy(source: Path, target: Path) -> dict[str, object]:
    shutil.copytree(source, target)
    manifest: dict[str, object] = json.loads((target / "manifest.json").read_text())
    return manifest


def _keep(directory: Path, manifest: dict[str, object], items: list[dict[str, object]]) -> None:
    """Rewrite the dossier to list only *items*, removing the files nobody lists any more
    (a careful forger leaves no unlisted file behind)."""
    listed = {str(i["record"]) for i in items} | {
        str(i["file"]["path"]) for i in items if i.get("file")}  # type: ignore[index]
    for path in [*directory.rglob("records/*"), *directory.rglob("files/**/*")]:
        if path.is_file() and path.relative_to(directory).as_posix() not in listed:
            path.unlink()
    (directory / "manifest.json").write_text(json.dumps({**manifest, "items": items}))


def test_a_closed_case_dossier_passes_require_closed(closed_dossier: tuple[Path, bytes]) -> None:
    directory, key = closed_dossier
    report = verify_dossier(directory, trusted_public_key_pem=key, require_closed=True)
    assert report.case_closed
    last = json.loads((directory / report.items[-1].record_path).read_text())
    assert last["event"] == "case.closed" and last["case_closed"] is True
    # The head in the dossier was signed after the case-closed record.
    assert report.tree_size > report.items[-1].leaf_index
    kinds = [item.kind for item in report.items]
    assert "decision" in kinds and kinds.count("evidence") == 8


def test_the_cli_passes_it_too(closed_dossier: tuple[Path, bytes], tmp_path: Path) -> None:
    directory, key = closed_dossier
    (tmp_path / "key.pem").write_bytes(key)
    result = subprocess.run(
        [sys.executable, "-c", "from dueprocess.commands.app import main; main()", "verify-dossier",
         str(directory), "--trusted-key", str(tmp_path / "key.pem"), "--require-closed"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "case closed: the last record closes the case" in result.stdout


def test_truncated_at_every_record_is_rejected(closed_dossier: tuple[Path, bytes],
                                               tmp_path: Path) -> None:
    directory, key = closed_dossier
    items = json.loads((directory / "manifest.json").read_text())["items"]
    rejected = 0
    for keep in range(1, len(items)):
        copy = tmp_path / f"cut-{keep}"
        manifest = _copy(directory, copy)
        _keep(copy, manifest, items[:keep])
        verify_dossier(copy, trusted_public_key_pem=key)  # consistent, just not complete
        with pytest.raises(DossierError, match="does not close the case"):
            verify_dossier(copy, trusted_public_key_pem=key, require_closed=True)
        rejected += 1
    assert rejected == len(items) - 1 >= 20


def test_any_one_record_cut_out_is_rejected(closed_dossier: tuple[Path, bytes],
                                            tmp_path: Path) -> None:
    directory, key = closed_dossier
    items = json.loads((directory / "manifest.json").read_text())["items"]
    for drop in range(len(items)):
        copy = tmp_path / f"hole-{drop}"
        manifest = _copy(directory, copy)
        _keep(copy, manifest, items[:drop] + items[drop + 1:])
        with pytest.raises(DossierError, match=r"case_seq|close the case"):
            verify_dossier(copy, trusted_public_key_pem=key, require_closed=True)


def test_heads_were_signed_right_after_the_decision_and_the_closure(
    closed_dossier: tuple[Path, bytes],
) -> None:
    directory, key = closed_dossier
    report = verify_dossier(directory, trusted_public_key_pem=key)
    decided = next(i.leaf_index for i in report.items if i.kind == "decision")
    closed = report.items[-1].leaf_index
    sizes = HEAD_SIZES
    # The transaction that decides appends its records, then a head is signed over them;
    # the case-closed record is the last one of its transaction.
    assert any(decided < size < closed for size in sizes), (decided, closed, sizes)
    assert closed + 1 in sizes
