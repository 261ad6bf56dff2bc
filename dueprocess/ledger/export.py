"""`dueprocess export CASE DIR`: the case's decision dossier, verifiable offline.

Every logged record of the case (case opened, draft versions, transitions, evidence and
its documents, refusals, notices, the decision) with an inclusion proof against a fresh
signed tree head, the files the records cover, and the earlier signed heads with
consistency proofs. Format: docs/dossier-format.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rfc8785
from rich.console import Console
from sqlmodel import Session

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.ledger.audit import CaseRows, parse_record, row_difference
from dueprocess.ledger.cosign import cosigned_note, registered_witnesses
from dueprocess.ledger.heads import (
    Announce,
    announce_to_stderr,
    as_signed,
    log_public_key_pem,
    publish_tree_head,
    tree_head_rows,
)
from dueprocess.ledger.log import LogTampered, checked_leaf_hashes, stored_leaves
from dueprocess.ledger.records import DOCUMENT, DRAFT, EVIDENCE, ROW_KINDS
from dueprocess.services.cases import get_case
from dueprocess.settings import get_transparency_settings
from ledger import (
    DossierError,
    DossierItem,
    MerkleTree,
    SignedTreeHead,
    VerificationReport,
    verify_dossier,
    write_dossier,
)
from models.evidence import Document

_EXTENSION_RE = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def _covered_file(session: Session, kind: str, record: dict[str, Any],
                  rows: CaseRows) -> tuple[str, bytes] | None:
    """(path under files/, bytes) of what a record's `file_sha256` covers, if anything."""
    if "file_sha256" not in record:
        return None
    if kind == EVIDENCE:
        item = rows.evidence[record["evidence_id"]]
        return (f"evidence/{item.id:06d}-{item.stage_key}.json",
                rfc8785.dumps(item.payload))  # the bytes `payload_sha256` is taken over
    if kind == DOCUMENT:
        sha = record["file_sha256"]
        document = session.get(Document, sha)
        assert document is not None  # row_difference checked it exists
        match = _EXTENSION_RE.search(str(record.get("filename") or ""))
        return f"documents/{sha}{match.group(0).lower() if match else ''}", document.content
    if kind == DRAFT:
        draft = rows.drafts[record["draft_id"]]
        return f"drafts/v{draft.version}.txt", draft.text.encode("utf-8")
    raise DueProcessError(f"a {kind} record covers a file this version cannot export")


def export_dossier(case_id: str, directory: Path, *,
                   announce: Announce = announce_to_stderr,
                   of_case: bool = True) -> VerificationReport:
    """Write the dossier of *case_id* to *directory* (new or empty) and return the report
    of verifying it. Signs a fresh tree head first if the log grew since the last one.
    With `of_case=False`, *case_id* names a chain of no case (a ballot's)."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise DueProcessError(f"{directory}: exists and is not an empty directory")
    if of_case:
        with session_scope() as session:
            get_case(session, case_id)  # NotFound names an unknown case
    sth = publish_tree_head(announce=announce)
    pem = log_public_key_pem()
    if sth is None or pem is None:
        raise DueProcessError(f"case {case_id}: nothing has been logged yet")
    with session_scope(snapshot=True) as session:
        checkpoint = cosigned_note(session, sth.tree_size)
        hashes = checked_leaf_hashes(session, sth.tree_size)
        tree = MerkleTree(hashes)
        if tree.root != sth.root_hash_bytes:
            raise LogTampered(f"the log no longer matches its signed tree head of size "
                              f"{sth.tree_size}; run `dueprocess verify`")
        rows = CaseRows.load(session, case_id)
        items: list[DossierItem] = []
        files: dict[str, bytes] = {}
        for leaf in stored_leaves(session, case_id=case_id, below=sth.tree_size):
            record = parse_record(leaf)
            if leaf.kind in ROW_KINDS:
                problem = row_difference(leaf.leaf_index, leaf.kind, record, rows)
                if problem:
                    raise LogTampered(f"cannot export case {case_id}: {problem}")
            covered = _covered_file(session, leaf.kind, record, rows)
            if covered is not None:
                files[covered[0]] = covered[1]
            items.append(DossierItem(
                leaf_index=leaf.leaf_index, kind=leaf.kind, record=record,
                file=covered[0] if covered else None,
                file_sha256=record["file_sha256"] if covered else None,
            ))
        earlier: list[tuple[SignedTreeHead, list[bytes]]] = [
            (as_signed(row), tree.consistency_proof(row.tree_size))
            for row in tree_head_rows(session) if 0 < row.tree_size < sth.tree_size
        ]
    if not items:
        raise DueProcessError(f"case {case_id}: none of its records is in the log")
    try:
        return write_dossier(directory, case_id=case_id, items=items, files=files,
                             leaf_hashes_upto=hashes, sth=sth, public_key_pem=pem,
                             earlier_heads=earlier, checkpoint=checkpoint)
    except (DossierError, ValueError) as exc:
        raise DueProcessError(f"cannot export case {case_id}: {exc}") from None


def dossier_check_command(directory: Path, key_file: Path, *, closed: bool,
                          witnesses: Sequence[str] = ()) -> str:
    """The command that checks a dossier as the public should: against the published key,
    with the cosignatures of *witnesses* (verifier keys) all required, and, for a closed
    case, requiring that it ends on the case-closed record (without `--require-closed` a
    dossier cut short before that record passes too)."""
    command = f"dueprocess verify-dossier {directory} --trusted-key {key_file}"
    command += "".join(f" --witness-key {vkey}" for vkey in witnesses)
    if witnesses:
        command += f" --min-witnesses {len(witnesses)}"
    return f"{command} --require-closed" if closed else command


def export_and_verify(case_id: str, directory: Path, console: Console) -> VerificationReport:
    """Export the case's dossier, then verify it offline as a member of the public would:
    with nothing but the directory, the log's published public key and the registered
    witnesses' keys, and, for a closed case, requiring that nothing was cut off the end."""
    directory = Path(directory)
    console.print(f"\n[bold]Decision dossier[/] of case {case_id}")
    exported = export_dossier(
        case_id, directory, announce=lambda message: console.print(
            f"  {message}", markup=False, highlight=False, soft_wrap=True))
    key_file = get_transparency_settings().publication_dir / "public-key.pem"
    witnesses = {w.key.name: w.key for w in registered_witnesses()}
    try:
        cosigned = verify_dossier(directory, witness_keys=list(witnesses.values())).cosigned_by
        report = verify_dossier(directory, trusted_public_key_pem=key_file.read_bytes(),
                                require_closed=exported.case_closed,
                                witness_keys=[witnesses[name] for name in cosigned],
                                min_witnesses=len(cosigned))
    except (DossierError, OSError) as exc:
        raise DueProcessError(f"the exported dossier {directory} does not verify: {exc}") from None
    kinds = Counter(item.kind for item in report.items)
    files = sum(1 for item in report.items if item.file_path)
    vkeys = [witnesses[name].vkey() for name in report.cosigned_by]
    lines = [
        f"  written to {directory} and verified offline against the published key {key_file}:",
        f"  OK: {len(report.items)} records ({', '.join(f'{n} {k}' for k, n in kinds.items())})"
        f" and {files} files, each proven in the signed tree head",
        f"  tree head: size {report.tree_size}, root {report.root_hash}, signed "
        f"{report.timestamp:%Y-%m-%d %H:%M:%S} UTC by key {report.key_id[:16]}…",
    ]
    if report.cosigned_by:
        lines.append(f"  cosigned by {len(report.cosigned_by)} witnesses: "
                     f"{', '.join(report.cosigned_by)} (C2SP cosignature/v1)")
    missing = sorted(set(witnesses) - set(report.cosigned_by))
    if missing:
        lines.append(f"  NOT cosigned by: {', '.join(missing)} (down or refusing: see the log)")
    lines.append("  Anyone can repeat this: " + dossier_check_command(
        directory, key_file, closed=report.case_closed, witnesses=vkeys))
    if not report.case_closed:
        lines.append("  The case is not closed yet: later records of it may follow; a dossier "
                     "exported after it closes is checked with --require-closed.")
    if report.simulated_time:
        lines.insert(0, "  SIMULATED TIME: this case ran on a simulated clock (demo or test)")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return report
