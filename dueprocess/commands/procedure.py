"""Commands of the statutory-procedure feature for the `dueprocess` CLI.

    dueprocess init-admin HANDLE --name …    the first administrator (once); prints a token
    dueprocess people add HANDLE …           register a person (administrator)
    dueprocess people list
    dueprocess credentials token HANDLE      issue an API token (shown once, stored hashed)
    dueprocess credentials add-key HANDLE F  register an Ed25519 public key
    dueprocess credentials password HANDLE   set a portal inbox password (argon2id)
    dueprocess credentials link-oidc HANDLE --subject SUB   an OIDC login for the inbox
    dueprocess credentials list HANDLE / revoke ID
    dueprocess form-code CASE STAGE --file F a single-use proof for the Prefect form
    dueprocess assign CASE STAGE HANDLE --as OFFICIAL
    dueprocess declare-interest CASE STAGE HANDLE --as …
    dueprocess panel-note CASE STAGE --file F --as OFFICIAL
    dueprocess extend-window CASE --until DAY --as OFFICER   a later close, announced
    dueprocess revise CASE --file DRAFT --reason … --as OFFICIAL
    dueprocess sign-opinion --key KEY.pem --file OPINION.json
    dueprocess package CASE                  the legality review submission package
    dueprocess archive CASE                  the decision archive: drafts, evidence, flags

Every write takes the actor's API token from `--token` or DUEPROCESS_TOKEN (commands
acting on a case also `--as HANDLE`); managing people and credentials needs an
administrator's token. A refusal names the rule and is audited.
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
    expertise: Annotated[str, typer.Option(help="An expert's field of expertise")] = "",
    public_key: Annotated[Path | None, typer.Option(help="Ed25519 public key file")] = None,
    token: Token = None,
) -> None:
    """Register a person (an administrator; an existing handle is never changed)."""
    from dueprocess.services.administration import register_person_as
    from models.people import PersonCreate

    person = _validated(PersonCreate, {
        "handle": handle, "name": name, "role": role, "unit": unit, "expertise": expertise,
        "public_key": _text(public_key, "--public-key") if public_key else None,
    }, "person")
    ready()
    register_person_as(person=person, token=token, channel=CHANNEL)
    console.print(f"Registered {handle} ({role}, {unit or 'no unit'})")


@people.command("import")
def people_import(
    case_file: Annotated[Path, typer.Argument(help="A case file whose 'people' to register")],
    token: Token = None,
) -> None:
    """Register the people a case file lists (an administrator), before its official opens it."""
    from dueprocess.db import session_scope
    from dueprocess.services.administration import register_person_as
    from dueprocess.services.case_opening import unregistered_people
    from dueprocess.services.cases import read_case_file

    request = read_case_file(case_file)
    ready()
    with session_scope() as session:
        new = set(unregistered_people(session, request))
    for person in request.people:
        if person.handle in new:
            register_person_as(person=person, token=token, channel=CHANNEL)
    console.print(f"Registered {len(new)} of the {len(request.people)} people listed "
                  f"(the others were registered already)")


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


def init_admin_command(
    handle: str, name: Annotated[str, typer.Option(help="Full name")],
    unit: Annotated[str, typer.Option(help="Department")] = "",
) -> None:
    """Create the first administrator and print their token once (refused afterwards)."""
    from dueprocess.services.bootstrap import init_admin
    from models.people import PersonCreate

    _validated(PersonCreate, {"handle": handle, "name": name, "role": "administrator",
                              "unit": unit}, "administrator")
    ready()
    _, token = init_admin(handle=handle, name=name, unit=unit, channel=CHANNEL)
    console.print(f"Administrator {handle} created. Token (shown once, keep it secret; "
                  "give it with --token or DUEPROCESS_TOKEN):")
    print(token)


@credentials.command("token")
def credentials_token(
    handle: str, label: Annotated[str, typer.Option(help="What the token is for")] = "",
    token: Token = None,
) -> None:
    """Issue an API token (an administrator); printed once, stored only as its SHA-256."""
    from dueprocess.services.administration import issue_token_as

    ready()
    number, new_token = issue_token_as(handle=handle, label=label, token=token,
                                       channel=CHANNEL)
    console.print(f"Credential #{number} for {handle}. Token (shown once, keep it secret):")
    print(new_token)


@credentials.command("add-key")
def credentials_add_key(
    handle: str, public_key: Annotated[Path, typer.Argument(help="PEM or base64 file")],
    label: Annotated[str, typer.Option()] = "", token: Token = None,
) -> None:
    """Register an Ed25519 public key for signing opinions and forms (an administrator)."""
    from dueprocess.services.administration import register_key_as

    text = _text(public_key, "public key")
    ready()
    credential = register_key_as(handle=handle, public_key=text, label=label, token=token,
                                 channel=CHANNEL)
    console.print(f"Credential #{credential.id}: {handle} key {credential.fingerprint}")


@credentials.command("password")
def credentials_password(
    handle: str, token: Token = None,
    password_file: Annotated[Path | None, typer.Option(
        help="Read the password from this file (default: prompt)")] = None,
) -> None:
    """Set a portal inbox password (an administrator, or the person themself)."""
    from dueprocess.services.administration import set_password_as

    if password_file is not None:
        password = _text(password_file, "--password-file").rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    ready()
    set_password_as(handle=handle, password=password, token=token, channel=CHANNEL)
    console.print(f"Portal password of {handle} set (stored as an argon2id hash)")


@credentials.command("link-oidc")
def credentials_link_oidc(
    handle: str, subject: Annotated[str, typer.Option(help="The provider's 'sub' claim")],
    issuer: Annotated[str | None, typer.Option(
        envvar="DUEPROCESS_PORTAL_OIDC_ISSUER", show_default=False,
        help="The provider's issuer URL (default: DUEPROCESS_PORTAL_OIDC_ISSUER)")] = None,
    token: Token = None,
) -> None:
    """Let an OpenID Connect subject log in to the portal inbox as HANDLE (an administrator)."""
    from dueprocess.services.administration import link_oidc_as

    if not issuer:
        raise DueProcessError("--issuer: give the provider's issuer URL "
                              "(or set DUEPROCESS_PORTAL_OIDC_ISSUER)")
    ready()
    link_oidc_as(handle=handle, issuer=issuer, subject=subject, token=token, channel=CHANNEL)
    console.print(f"{handle} logs in with subject '{subject}' of {issuer}")


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
def credentials_revoke(credential_id: int, token: Token = None) -> None:
    """Revoke a token or key (an administrator, or its holder): it no longer works."""
    from dueprocess.services.administration import revoke_as

    ready()
    revoke_as(credential_id=credential_id, token=token, channel=CHANNEL)
    console.print(f"Credential #{credential_id} revoked")


def form_code_command(
    case_id: str, stage: str,
    file: Annotated[Path, typer.Option("--file", "-f", help="The evidence JSON you will submit")],
    key: Annotated[Path | None, typer.Option(
        help="Sign with your Ed25519 private key (PEM) instead of asking for a code")] = None,
    handle: Annotated[str | None, typer.Option(
        "--as", help="Your handle (with --key)")] = None,
    token: Token = None,
) -> None:
    """A proof for the Prefect form: a single-use code bound to this case, stage and you
    (needs your token), or with --key your signature over them and this exact evidence."""
    from dueprocess.commands.cases import _read_evidence

    evidence = _read_evidence(file)
    ready()
    if key is not None:
        from dueprocess.rules import signatures
        from dueprocess.services.form_codes import form_digest
        from dueprocess.services.identity import signature_of_form

        if handle is None:
            raise DueProcessError("--as: give your handle to sign the form")
        try:
            private_key = signatures.load_private_key(key.read_bytes())
        except (OSError, signatures.KeyProblem) as exc:
            raise DueProcessError(f"--key {key}: {exc}") from None
        digest = form_digest(case_id=case_id, stage_key=stage, evidence=evidence)
        proof = signature_of_form(private_key, case_id=case_id, stage_key=stage,
                                  handle=handle, evidence_sha256=digest)
        console.print(f"Signature of {handle} over evidence sha256 {digest}; paste it as "
                      "'proof' in the form:")
        print(proof)
        return
    from dueprocess.services.form_codes import issue_form_code_as

    holder, code, digest = issue_form_code_as(case_id=case_id, stage_key=stage,
                                              evidence=evidence, token=token, channel=CHANNEL)
    console.print(f"Form code for {holder}, {stage} of {case_id}, evidence sha256 {digest}; "
                  "valid for 72 h until evidence is recorded with it (a refused submission "
                  "does not use it up). Paste it as 'proof':")
    print(code)


def assign_command(case_id: str, stage: str, handle: str, actor: Actor,
                   token: Token = None) -> None:
    """Assign a person to a case stage (an official of the undertaking unit)."""
    from dueprocess.services.audited_actions import assign_as

    ready()
    assign_as(case_id=case_id, stage_key=stage, handle=handle, actor=actor, token=token,
              channel=CHANNEL)
    console.print(f"Assigned {handle} to {stage} of {case_id}")


def assign_group_command(
    case_id: str, stage: str,
    group: Annotated[str, typer.Argument(help="role:<role> or unit:<unit name>")],
    actor: Actor, token: Token = None,
) -> None:
    """Offer a case stage to a candidate group: anyone with the role or in the unit may
    claim it in the inbox."""
    from dueprocess.services.task_claims import offer_to_group_as
    from models.inbox_tasks import GroupKind

    kind, _, value = group.partition(":")
    if kind not in {k.value for k in GroupKind} or not value.strip():
        raise DueProcessError(f"group: '{group}' is not role:<role> or unit:<unit name>")
    ready()
    offer_to_group_as(case_id=case_id, stage_key=stage, kind=GroupKind(kind),
                      value=value.strip(), actor=actor, token=token, channel=CHANNEL)
    console.print(f"Offered {stage} of {case_id} to {kind} {value.strip()}")


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


def extend_window_command(
    case_id: str, actor: Actor,
    until: Annotated[str, typer.Option(help="The new closing day, YYYY-MM-DD (later only)")],
    token: Token = None,
) -> None:
    """Extend the published comment window (Art. 15): logged and announced again."""
    from dueprocess.clock import closing_time
    from dueprocess.services.comment_window import extend_comment_window_as
    from dueprocess.settings import get_settings

    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise DueProcessError(f"--until {until}: not a date (YYYY-MM-DD)") from None
    ready()
    window = extend_comment_window_as(case_id=case_id, until=day, actor=actor, token=token,
                                      channel=CHANNEL)
    closes = closing_time(window.closes_at, get_settings().case_timezone)
    console.print(f"Comment window of {case_id} now closes {closes}; the call for comments "
                  "is announced again", highlight=False)


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
    app.add_typer(people, name="people")
    app.add_typer(credentials, name="credentials")
    for name, command in (
        ("assign", assign_command), ("assign-group", assign_group_command),
        ("declare-interest", declare_interest_command),
        ("panel-note", panel_note_command), ("revise", revise_command),
        ("sign-opinion", sign_opinion_command), ("package", package_command),
        ("archive", archive_command), ("init-admin", init_admin_command),
        ("form-code", form_code_command), ("extend-window", extend_window_command),
    ):
        app.command(name)(command)
