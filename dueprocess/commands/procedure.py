"""Commands of the statutory-procedure feature for the `dueprocess` CLI.

    dueprocess people add HANDLE …           register a person (role, unit, public key)
    dueprocess people list
    dueprocess credentials token HANDLE      issue an API token (shown once, stored hashed)
    dueprocess credentials add-key HANDLE F  register an Ed25519 public key
    dueprocess credentials list HANDLE / revoke ID
    dueprocess assign CASE STAGE HANDLE --as OFFICIAL
    dueprocess declare-interest CASE STAGE HANDLE --as …
    dueprocess panel-note CASE STAGE --file F --as OFFICIAL
    dueprocess revise CASE --file DRAFT --reason … --as OFFICIAL
    dueprocess sign-opinion --key KEY.pem --file OPINION.json
    dueprocess package CASE                  the legality review submission package
    dueprocess archive CASE                  the decision archive: drafts, evidence, flags

Commands acting on a case take `--as HANDLE` and the person's API token from `--token`
or DUEPROCESS_TOKEN; a refusal names the rule and is audited.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dueprocess.commands.console import console, ready
from dueprocess.errors import DueProcessError, schema_problems

PROCEDURE = "Procedure: people, assignments, drafts, archive"

CHANNEL = "cli"

Actor = Annotated[str, typer.Option("--as", help="Your handle")]
Token = Annotated[str | None, typer.Option(
    envvar="DUEPROCESS_TOKEN", help="Your API token (default: DUEPROCESS_TOKEN)",
    show_default=False)]


def _text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DueProcessError(f"{option} {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DueProcessError(f"{option} {path}: {exc}") from None


def _validated(model: Any, data: Any, source: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(p.message for p in schema_problems(exc.errors()))  # type: ignore[arg-type]
        raise DueProcessError(f"{source}: {problems}") from None


people = typer.Typer(help="Registered people and their roles.", no_args_is_help=True)
credentials = typer.Typer(help="API tokens and signing keys (stored hashed or public only).",
                          no_args_is_help=True)


@people.command("add")
def people_add(
    handle: str, name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="e.g. expert, legal_reviewer, organ_member")],
    unit: Annotated[str, typer.Option(help="Department, institution or organ")] = "",
    public_key: Annotated[Path | None, typer.Option(help="Ed25519 public key file")] = None,
) -> None:
    """Register a person (an existing handle is never changed)."""
    from dueprocess.db import session_scope
    from dueprocess.services.cases import register_person
    from models.people import PersonCreate

    person = _validated(PersonCreate, {
        "handle": handle, "name": name, "role": role, "unit": unit,
        "public_key": _text(public_key, "--public-key") if public_key else None,
    }, "person")
    ready()
    with session_scope() as session:
        register_person(session, person)
    console.print(f"Registered {handle} ({role}, {unit or 'no unit'})")


@people.command("list")
def people_list() -> None:
    """Every registered person."""
    from sqlmodel import col, select

    from dueprocess.db import session_scope
    from models.people import Person

    table = Table(title="People")
    for column in ("Handle", "Name", "Role", "Unit"):
        table.add_column(column)
    with session_scope() as session:
        for p in session.exec(select(Person).order_by(col(Person.handle))):
            table.add_row(p.handle, p.name, p.role, p.unit)
    console.print(table)


@credentials.command("token")
def credentials_token(
    handle: str, label: Annotated[str, typer.Option(help="What the token is for")] = "",
) -> None:
    """Issue an API token; it is printed once and stored only as its SHA-256."""
    from dueprocess.db import session_scope
    from dueprocess.services.identity import issue_token

    ready()
    with session_scope() as session:
        credential, token = issue_token(session, handle=handle, label=label)
        number = credential.id
    console.print(f"Credential #{number} for {handle}. Token (shown once, keep it secret):")
    print(token)


@credentials.command("add-key")
def credentials_add_key(
    handle: str, public_key: Annotated[Path, typer.Argument(help="PEM or base64 file")],
    label: Annotated[str, typer.Option()] = "",
) -> None:
    """Register an Ed25519 public key for signing written opinions."""
    from dueprocess.db import session_scope
    from dueprocess.services.identity import register_public_key

    text = _text(public_key, "public key")
    ready()
    with session_scope() as session:
        credential = register_public_key(session, handle=handle, public_key=text, label=label)
        console.print(f"Credential #{credential.id}: {handle} key {credential.fingerprint}")


@credentials.command("list")
def credentials_list(handle: str) -> None:
    """A person's credentials: kind, fingerprint, revocation (never a secret)."""
    from dueprocess.db import session_scope
    from dueprocess.services.identity import list_credentials

    table = Table(title=f"Credentials of {handle}")
    for column in ("#", "Kind", "Label", "Fingerprint", "Created", "Revoked"):
        table.add_column(column)
    with session_scope() as session:
        for c in list_credentials(session, handle=handle):
            table.add_row(str(c.id), c.kind.value, c.label, c.fingerprint[:16],
                          f"{c.created_at:%Y-%m-%d}",
                          f"{c.revoked_at:%Y-%m-%d}" if c.revoked_at else "")
    console.print(table)


@credentials.command("revoke")
def credentials_revoke(credential_id: int) -> None:
    """Revoke a token or key: it no longer authenticates or verifies."""
    from dueprocess.db import session_scope
    from dueprocess.services.identity import revoke

    ready()
    with session_scope() as session:
        revoke(session, credential_id=credential_id)
    console.print(f"Credential #{credential_id} revoked")


def assign_command(case_id: str, stage: str, handle: str, actor: Actor,
                   token: Token = None) -> None:
    """Assign a person to a case stage (an official of the undertaking unit)."""
    from dueprocess.services.audited_actions import assign_as

    ready()
    assign_as(case_id=case_id, stage_key=stage, handle=handle, actor=actor, token=token,
              channel=CHANNEL)
    console.print(f"Assigned {handle} to {stage} of {case_id}")


def declare_interest_command(
    case_id: str, stage: str, handle: str, actor: Actor,
    interests: Annotated[str, typer.Option(help="What is declared, or 'none'")],
    direct_interest: Annotated[bool, typer.Option(
        "--direct-interest/--no-direct-interest", help="A direct interest in the matter")],
    declared_on: Annotated[str | None, typer.Option(help="ISO date; default today")] = None,
    token: Token = None,
) -> None:
    """Record an expert's declaration of interests in a case (Art. 20)."""
    from dueprocess.services.audited_actions import declare_interest_as
    from models.people import InterestDeclarationCreate

    declaration = _validated(InterestDeclarationCreate, {
        "direct_interest": direct_interest, "interests": interests,
        "declared_on": declared_on or date.today().isoformat(),
    }, "declaration")
    ready()
    declare_interest_as(case_id=case_id, stage_key=stage, handle=handle,
                        declaration=declaration, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Declaration of {handle} recorded for {stage} of {case_id}")


def panel_note_command(
    case_id: str, stage: str, actor: Actor,
    file: Annotated[Path, typer.Option("--file", "-f", help="Text of the note")],
    token: Token = None,
) -> None:
    """Record how the expert panel includes differing views (Art. 20)."""
    from dueprocess.services.audited_actions import record_panel_note_as

    text = _text(file, "--file").strip()
    if not text:
        raise DueProcessError(f"--file {file}: the note is empty")
    ready()
    record_panel_note_as(case_id=case_id, stage_key=stage, text=text, actor=actor,
                         token=token, channel=CHANNEL)
    console.print(f"Panel-composition note recorded for {stage} of {case_id}")


def revise_command(
    case_id: str, actor: Actor,
    file: Annotated[Path, typer.Option("--file", "-f", help="Text of the revised draft")],
    reason: Annotated[str, typer.Option(help="Why the draft was revised")],
    title: Annotated[str | None, typer.Option(help="Default: the current title")] = None,
    token: Token = None,
) -> None:
    """Revise the draft: a new version; the stages bound to the old one reopen."""
    from sqlmodel import col, select

    from dueprocess.db import session_scope
    from dueprocess.services.audited_actions import revise_draft_as
    from models.cases import DraftRevise, DraftVersion

    text = _text(file, "--file")
    ready()
    if title is None:
        with session_scope() as session:
            latest = session.exec(select(DraftVersion).where(DraftVersion.case_id == case_id)
                                  .order_by(col(DraftVersion.version).desc())).first()
            title = latest.title if latest else ""
    revision = _validated(DraftRevise, {"title": title, "text": text, "reason": reason},
                          "revision")
    draft = revise_draft_as(case_id=case_id, revision=revision, actor=actor, token=token,
                            channel=CHANNEL)
    console.print(f"Draft v{draft.version} of {case_id} (sha256 {draft.sha256})")


def sign_opinion_command(
    key: Annotated[Path, typer.Option(help="Your Ed25519 private key (PEM)")],
    file: Annotated[Path, typer.Option("--file", "-f", help="Opinion evidence JSON")],
) -> None:
    """Sign an expert opinion; prints the JSON with signature_ed25519 filled in."""
    from dueprocess.rules import signatures
    from models.evidence_schemas import ExpertOpinionEvidence

    try:
        private_key = signatures.load_private_key(key.read_bytes())
    except OSError as exc:
        raise DueProcessError(f"--key {key}: {exc}") from None
    except signatures.KeyProblem as exc:
        raise DueProcessError(f"--key {key}: {exc}") from None
    try:
        data = json.loads(_text(file, "--file"))
    except json.JSONDecodeError as exc:
        raise DueProcessError(f"--file {file}: malformed JSON: {exc}") from None
    opinion = _validated(ExpertOpinionEvidence, data, f"--file {file}")
    data["signature_ed25519"] = signatures.sign(private_key, opinion.signed_bytes())
    print(json.dumps(data, ensure_ascii=False, indent=2))


def package_command(case_id: str) -> None:
    """Print the legality review submission package (Art. 26) as JSON."""
    from dueprocess.db import session_scope
    from dueprocess.rules.package import assemble_package
    from dueprocess.services.case_snapshot import load_facts
    from dueprocess.services.cases import get_case

    with session_scope() as session:
        facts = load_facts(session, get_case(session, case_id))
    for stage in facts.procedure.stages_of_kind("legality_review"):
        package = assemble_package(facts, stage.key)
        print(json.dumps({"sha256": package.sha256, "problems": package.problems(),
                          **package.model_dump(mode="json")}, ensure_ascii=False, indent=2))


def archive_command(case_id: str) -> None:
    """Show the decision archive: drafts with hashes, evidence digests, flags, completeness."""
    from dueprocess.services.archive import case_archive

    view = case_archive(case_id)
    console.print(f"[bold]{view.case.id}[/]: {view.case.title} [{view.case.status.value}]")
    console.print("[bold]Draft versions[/]")
    for d in view.drafts:
        damaged = "" if d.intact else " (DAMAGED: the text no longer matches)"
        console.print(f"  v{d.version} sha256 {d.sha256}{damaged} by {d.created_by or '?'}: "
                      f"{d.reason or d.title}", soft_wrap=True, highlight=False)
    evidence = Table(title="Evidence")
    for column in ("Stage", "#", "By", "Draft", "SHA-256", "Counts"):
        evidence.add_column(column)
    for stage in view.stages:
        for e in stage.evidence:
            evidence.add_row(stage.key, str(e.id), e.recorded_by, f"v{e.draft_version}",
                             e.sha256 if e.intact else f"{e.sha256} (DAMAGED)",
                             "yes" if e.counts else "superseded")
    console.print(evidence)
    console.print(f"Risk level: {view.risk_level or '—'}")
    for stage_key, digest in view.legality_packages.items():
        console.print(f"Legality package ({stage_key}): sha256 {digest}")
    if view.decision:
        decision = view.decision
        console.print(f"Decision: {decision.outcome} by {decision.decided_by} on "
                      f"{decision.decided_on} (draft v{decision.draft_version})")
    for flag in view.flags:
        console.print(f"[yellow]Late:[/] {flag}", highlight=False)
    if view.complete:
        console.print("[green]Archive complete[/] (Art. 33)")
    for problem in view.missing:
        console.print(f"[red]Archive incomplete:[/] {problem}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the CLI."""
    app.add_typer(people, name="people", rich_help_panel=PROCEDURE)
    app.add_typer(credentials, name="credentials", rich_help_panel=PROCEDURE)
    for name, command in (
        ("assign", assign_command), ("declare-interest", declare_interest_command),
        ("panel-note", panel_note_command), ("revise", revise_command),
        ("sign-opinion", sign_opinion_command), ("package", package_command),
        ("archive", archive_command),
    ):
        app.command(name, rich_help_panel=PROCEDURE)(command)
