"""Commands of the transparency log feature for the `dueprocess` CLI.

    dueprocess verify                    recompute the log from the database, check heads
    dueprocess publish-head              sign and publish the current tree head
    dueprocess export CASE DIR           write the case's decision dossier
    dueprocess verify-dossier DIR        check a dossier offline (no database, no server)
    dueprocess witness URL               check the log's published heads only ever grew
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dueprocess.commands.console import console, ready, working
from dueprocess.errors import DueProcessError

if TYPE_CHECKING:
    from ledger import SignedTreeHead


TrustedKey = Annotated[
    Path | None,
    typer.Option("--trusted-key", help="PEM public key the log must be signed with "
                 "(obtained independently, e.g. from the authority's website)"),
]
KnownHeads = Annotated[
    list[Path] | None,
    typer.Option("--known-head", help="Tree-head JSON obtained independently; the log "
                 "must be consistent with it. Repeat for several."),
]


def _read_file(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DueProcessError(f"{option} {path}: cannot read ({exc.strerror})") from None


def _known_heads(paths: list[Path] | None) -> list[SignedTreeHead]:
    from pydantic import ValidationError

    from ledger import SignedTreeHead
    from ledger.dossier_format import describe_validation_error

    heads: list[SignedTreeHead] = []
    for path in paths or []:
        try:
            heads.append(SignedTreeHead.model_validate_json(_read_file(path, "--known-head")))
        except ValidationError as exc:
            raise DueProcessError(
                f"--known-head {path}: not a signed tree head: {describe_validation_error(exc)}"
            ) from None
    return heads


def _announce(message: str) -> None:
    # soft_wrap: paths and hashes stay on one line, for people and for scripts.
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def verify_command(trusted_key: TrustedKey = None, known_head: KnownHeads = None) -> None:
    """Recompute the transparency log from the database and check every signed tree head.

    Prints OK, or names the first item that differs and exits with status 1 (status 2 when
    the tree-head tables disagree with one another: repair them first). After OK, the
    unsigned tail: the leaves after the newest signed head and the age of the oldest, with
    a warning (exit status still 0) when it is older than DUEPROCESS_MAX_UNSIGNED_SECONDS.
    """
    from dueprocess.ledger import HeadStateInconsistent, LogTampered, verify_log

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    known = _known_heads(known_head)
    try:
        with working("recomputing the log …"):
            report = verify_log(known_heads=known, trusted_public_key_pem=trusted)
    except HeadStateInconsistent:
        raise  # tables to repair before anything can be checked: `error:`, exit status 2
    except LogTampered as exc:
        console.print(f"[red]FAILED:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    _announce(report.summary())


def publish_head_command() -> None:
    """Sign the current tree head (if the log grew) and publish it as a file."""
    from dueprocess.ledger import get_transparency_settings, publish_tree_head
    from dueprocess.ledger.heads import head_json

    ready()
    sth = publish_tree_head(announce=_announce)
    if sth is None:
        _announce("The log is empty: no tree head to sign yet.")
        return
    _announce(head_json(sth).decode().rstrip())
    _announce(f"Published under {get_transparency_settings().publication_dir}")


def export_command(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    directory: Annotated[Path, typer.Argument(help="New (or empty) directory to write")],
) -> None:
    """Write the case's decision dossier: draft versions, evidence, documents, notices,
    the decision, a signed tree head, an inclusion proof per item, and a manifest."""
    from dueprocess.ledger import export_dossier, get_transparency_settings
    from dueprocess.ledger.export import dossier_check_command

    ready()  # exporting signs a tree head when the log grew
    with working(f"exporting the dossier of {case_id} …"):
        report = export_dossier(case_id, directory, announce=_announce)
    key = get_transparency_settings().publication_dir / "public-key.pem"
    _announce(f"Exported the dossier of case {case_id} to {directory} "
              f"({len(report.items)} records, tree size {report.tree_size}).")
    _announce(f"Check it with: {dossier_check_command(directory, key, closed=report.case_closed)}")


def verify_dossier_command(
    directory: Annotated[Path, typer.Argument(help="Dossier directory")],
    trusted_key: TrustedKey = None,
    known_head: KnownHeads = None,
    require_closed: Annotated[
        bool, typer.Option(help="Fail unless the last record closes the case")
    ] = False,
) -> None:
    """Verify a decision dossier offline, with no database or server.

    Exits with status 1 and the reason if anything was modified.
    """
    from ledger import DossierError, verify_dossier

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    known = _known_heads(known_head)
    try:
        with working("verifying the dossier …"):
            report = verify_dossier(directory, trusted_public_key_pem=trusted,
                                    known_tree_heads=known, require_closed=require_closed)
    except DossierError as exc:
        console.print(f"[red]FAILED:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    _announce(report.summary())


def witness_command(
    url: Annotated[str, typer.Argument(help="The portal's address, e.g. https://portal.example")],
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Where this witness keeps the heads it saw (JSON). "
                     "Default: ~/.dueprocess-witness/witness-<hash of URL>.json"),
    ] = None,
    trusted_key: TrustedKey = None,
) -> None:
    """Fetch the log's signed tree heads and check they extend the ones this witness saw
    before (RFC 9162 consistency). Exits with status 1, loudly, if the log was rewritten."""
    from ledger.witness import WitnessError, state_path_for, witness

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    path = state or state_path_for(url, Path.home() / ".dueprocess-witness")
    try:
        report = witness(url, path, trusted_public_key_pem=trusted)
    except WitnessError as exc:
        console.print(f"[red]FAILED:[/] {exc}", highlight=False, soft_wrap=True)
        console.print(f"The state in {path} is kept as it was.", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(1) from None
    _announce(report.summary())
    _announce(f"State kept in {path}")


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the CLI."""
    app.command("verify")(verify_command)
    app.command("publish-head")(publish_head_command)
    app.command("export")(export_command)
    app.command("verify-dossier")(verify_dossier_command)
    app.command("witness")(witness_command)
