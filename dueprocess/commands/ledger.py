"""Commands of the transparency log feature for the `dueprocess` CLI.

    dueprocess verify                    recompute the log from the database, check heads
    dueprocess publish-head              sign and publish the current tree head
    dueprocess export CASE DIR           write the case's decision dossier
    dueprocess verify-dossier DIR        check a dossier offline (no database, no server)
    dueprocess witness URL               check the log's published heads only ever grew
                                         (and, with --key, cosign the newest checkpoint)
    dueprocess witness-keygen            make a witness's key, print its verifier key
    dueprocess witness-serve             serve the C2SP tlog-witness API with a key
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dueprocess.cli_kit import working
from dueprocess.commands.console import console, ready
from dueprocess.errors import DueProcessError
from dueprocess.settings import get_transparency_settings

if TYPE_CHECKING:
    from ledger import SignedTreeHead


TrustedKey = Annotated[
    Path | None,
    typer.Option("--trusted-key", help="PEM public key the log must be signed with "
                 "(obtained independently, e.g. from the authority's website)"),
]
WitnessKeyFile = Annotated[
    Path | None,
    typer.Option("--key", help="This witness's key file (dueprocess witness-keygen): "
                 "cosign the newest checkpoint once it is checked"),
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
    """Recompute the transparency log from the database and check every signed tree head,
    and that it holds the newest checkpoint each registered witness cosigned (so deleted
    or rewritten heads are found without --known-head).

    Prints OK, or names the first item that differs and exits with status 1 (status 2 when
    the tree-head tables disagree with one another: repair them first). After OK, the
    unsigned tail: the leaves after the newest signed head and the age of the oldest, with
    a warning (exit status still 0) when it is older than DUEPROCESS_MAX_UNSIGNED_SECONDS.
    """
    from dueprocess.ledger import HeadStateInconsistent, LogTampered, verify_log
    from dueprocess.ledger.audit import witness_summary
    from dueprocess.ledger.cosign import WitnessedCheckpoint, witnessed_checkpoints
    from dueprocess.ledger.heads import log_origin, log_public_key_pem
    from ledger import load_public_key

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    known = _known_heads(known_head)
    pem = trusted or log_public_key_pem()
    found: list[WitnessedCheckpoint] = []
    problems: list[str] = []
    if pem is not None and get_transparency_settings().witness_entries:
        with working("asking the witnesses for the newest checkpoints they cosigned …"):
            found, problems = witnessed_checkpoints(log_origin(load_public_key(pem)),
                                                    load_public_key(pem))
    try:
        with working("recomputing the log …"):
            report = verify_log(known_heads=known, trusted_public_key_pem=trusted,
                                witnessed=found)
    except HeadStateInconsistent:
        raise  # tables to repair before anything can be checked: `error:`, exit status 2
    except LogTampered as exc:
        console.print(f"[red]FAILED:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    _announce(report.summary())
    for line in witness_summary(found, problems):
        _announce(line)


def publish_head_command() -> None:
    """Sign the current tree head (if the log grew) and publish it as a file."""
    from dueprocess.ledger import publish_tree_head
    from dueprocess.ledger.heads import head_json, log_vkey_now

    ready()
    sth = publish_tree_head(announce=_announce)
    if sth is None:
        _announce("The log is empty: no tree head to sign yet.")
        return
    _announce(head_json(sth).decode().rstrip())
    _announce(f"Published under {get_transparency_settings().publication_dir}")
    _announce(f"The log's verifier key (for witnesses' --log-key): {log_vkey_now()}")


def export_command(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    directory: Annotated[Path, typer.Argument(help="New (or empty) directory to write")],
) -> None:
    """Write the case's decision dossier: draft versions, evidence, documents, notices,
    the decision, a signed tree head, an inclusion proof per item, and a manifest."""
    from dueprocess.ledger import export_dossier
    from dueprocess.ledger.cosign import registered_witnesses
    from dueprocess.ledger.export import dossier_check_command
    from ledger import verify_dossier

    ready()  # exporting signs a tree head when the log grew
    with working(f"exporting the dossier of {case_id} …"):
        report = export_dossier(case_id, directory, announce=_announce)
    key = get_transparency_settings().publication_dir / "public-key.pem"
    witnesses = {w.key.name: w.key for w in registered_witnesses()}
    cosigned = verify_dossier(directory, witness_keys=list(witnesses.values())).cosigned_by
    _announce(f"Exported the dossier of case {case_id} to {directory} "
              f"({len(report.items)} records, tree size {report.tree_size}, "
              f"{len(cosigned)} witness cosignatures).")
    check = dossier_check_command(directory, key, closed=report.case_closed,
                                  witnesses=[witnesses[name].vkey() for name in cosigned])
    _announce(f"Check it with: {check}")


def verify_dossier_command(
    directory: Annotated[Path, typer.Argument(help="Dossier directory")],
    trusted_key: TrustedKey = None,
    known_head: KnownHeads = None,
    require_closed: Annotated[
        bool, typer.Option(help="Fail unless the last record closes the case")
    ] = False,
    witness_key: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="A witness's verifier key (name+keyid+base64, "
                     "as its operator publishes it). Repeat for several."),
    ] = None,
    min_witnesses: Annotated[
        int | None,
        typer.Option("--min-witnesses", min=0, help="How many of the --witness-key "
                     "witnesses must have cosigned the checkpoint. Default: all of them."),
    ] = None,
) -> None:
    """Verify a decision dossier offline, with no database or server.

    Exits with status 1 and the reason if anything was modified, or if fewer than
    --min-witnesses of the given witnesses cosigned its checkpoint (each one named, with
    why its cosignature does not count).
    """
    from ledger import DossierError, verify_dossier
    from ledger.cosignature import CosignatureError, parse_vkey

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    known = _known_heads(known_head)
    try:
        keys = [parse_vkey(vkey) for vkey in witness_key or []]
    except CosignatureError as exc:
        raise DueProcessError(f"--witness-key: {exc}") from None
    if len({key.name for key in keys}) != len(keys):
        raise DueProcessError("--witness-key: each witness may be given once")
    try:
        with working("verifying the dossier …"):
            report = verify_dossier(directory, trusted_public_key_pem=trusted,
                                    known_tree_heads=known, require_closed=require_closed,
                                    witness_keys=keys,
                                    min_witnesses=len(keys) if min_witnesses is None
                                    else min_witnesses)
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
    key: WitnessKeyFile = None,
) -> None:
    """Fetch the log's signed tree heads and check they extend the ones this witness saw
    before (RFC 9162 consistency). Exits with status 1, loudly, if the log was rewritten.
    With --key, then cosigns the newest checkpoint (C2SP cosignature/v1)."""
    from ledger.cosignature import CosignatureError, load_witness_signer
    from ledger.witness import WitnessError, state_path_for, witness

    trusted = _read_file(trusted_key, "--trusted-key") if trusted_key else None
    path = state or state_path_for(url, Path.home() / ".dueprocess-witness")
    try:
        signer = load_witness_signer(key) if key else None
    except CosignatureError as exc:
        raise DueProcessError(str(exc)) from None
    try:
        report = witness(url, path, trusted_public_key_pem=trusted, signer=signer)
    except WitnessError as exc:
        console.print(f"[red]FAILED:[/] {exc}", highlight=False, soft_wrap=True)
        console.print(f"The state in {path} is kept as it was.", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(1) from None
    _announce(report.summary())
    _announce(f"State kept in {path}")


def witness_keygen_command(
    name: Annotated[str, typer.Option("--name", help="The witness's name, a schema-less URL, "
                                      "e.g. witness.example.org/w1")],
    key: Annotated[Path, typer.Option("--key", help="Where to write the new private key "
                                      "(refused if the file exists)")],
) -> None:
    """Make a witness's Ed25519 key and print its verifier key (what logs and readers of
    dossiers are given)."""
    from ledger.cosignature import CosignatureError, generate_witness_key

    try:
        signer = generate_witness_key(key, name)
    except CosignatureError as exc:
        raise DueProcessError(f"--name: {exc}") from None
    except FileExistsError:
        raise DueProcessError(f"--key {key}: exists; a witness key is never overwritten"
                              ) from None
    _announce(signer.public.vkey())


def witness_serve_command(
    key: Annotated[Path, typer.Option("--key", help="The witness's key file "
                                      "(dueprocess witness-keygen)")],
    state: Annotated[Path, typer.Option("--state", help="Where it keeps the newest "
                                        "checkpoint it cosigned of each log (JSON)")],
    log_key: Annotated[list[str], typer.Option(
        "--log-key", help="A log's note verifier key (origin+keyid+base64, as `dueprocess "
        "publish-head` prints it). Repeat for several logs.")],
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8470,
) -> None:
    """Serve the C2SP tlog-witness API (POST /add-checkpoint) and, as an extension,
    GET /latest-checkpoint?origin=… with the newest checkpoint it cosigned."""
    import uvicorn

    from ledger.cosignature import CosignatureError, load_witness_signer
    from ledger.witness_server import WitnessService, parse_log_vkey, witness_app

    try:
        signer = load_witness_signer(key)
        logs = dict(parse_log_vkey(vkey) for vkey in log_key)
    except CosignatureError as exc:
        raise DueProcessError(str(exc)) from None
    _announce(f"witness {signer.name} ({signer.public.vkey()}) on http://{host}:{port}, "
              f"for {', '.join(logs)}")
    service = WitnessService(signer=signer, state_path=state, logs=logs)
    uvicorn.run(witness_app(service), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the CLI."""
    app.command("verify")(verify_command)
    app.command("publish-head")(publish_head_command)
    app.command("export")(export_command)
    app.command("verify-dossier")(verify_dossier_command)
    app.command("witness")(witness_command)
    app.command("witness-keygen")(witness_keygen_command)
    app.command("witness-serve")(witness_serve_command)
