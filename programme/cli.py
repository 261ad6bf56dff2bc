"""`dueprocess programme …`: proposals, moderation, ballots, votes, receipts and the recount,
and the yearly list case made from the shortlist; `dueprocess verify-receipt` checks a
vote receipt offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dueprocess.cli_kit import (
    CHANNEL,
    Actor,
    CaseFile,
    Token,
    console,
    read_file,
    read_mapping,
    ready,
    validated,
    working,
)
from dueprocess.errors import DueProcessError

if TYPE_CHECKING:
    from models.programme import Vote

programme_app = typer.Typer(help=__doc__, no_args_is_help=True)
RECEIPTS = "vote receipts"  # docs/receipts.md lists each rule
Choices = Annotated[list[int], typer.Option("--choice", help="A proposal id; repeat")]


@programme_app.command("propose")
def propose_command(file: Annotated[Path, typer.Argument(help="Proposal (YAML/JSON)")]) -> None:
    """Submit a proposal (the portal's "我要提实事" form does the same)."""
    from models.programme import ProposalCreate
    from programme.proposals import submit_proposal

    request = validated(ProposalCreate, read_file(file), file)
    ready()
    proposal = submit_proposal(request=request, client="cli")
    console.print(f"Proposal #{proposal.id} received: receipt {proposal.receipt_number}")


@programme_app.command("proposals")
def proposals_command(year: Annotated[int, typer.Option(help="Programme year")]) -> None:
    """List a year's proposals with their published moderation marks."""
    from programme.proposals import proposals_of_year

    ready()
    table = Table(title=f"Proposals {year}")
    for column in ("#", "receipt", "level", "category", "place", "mark"):
        table.add_column(column)
    for shown in proposals_of_year(year=year, limit=10_000):
        p, mark = shown.proposal, shown.mark
        table.add_row(str(p.id), p.receipt_number, p.street or p.level, p.category, p.place,
                      f"{mark.kind}: {mark.reason}" if mark else "")
    console.print(table)


@programme_app.command("mark")
def mark_command(
    proposal_id: int, actor: Actor,
    kind: Annotated[str, typer.Option(help="merged or refused")],
    reason: Annotated[str, typer.Option(help="Published with the mark")],
    into: Annotated[int | None, typer.Option(help="For a merge: the proposal kept")] = None,
    token: Token = None,
) -> None:
    """Moderate a proposal: merge a duplicate or refuse one out of scope (never deleted)."""
    from models.programme import MarkCreate
    from programme.proposals import moderate_as

    mark = validated(MarkCreate, {"kind": kind, "reason": reason, "merged_into": into},
                      Path("--kind/--reason/--into"))
    ready()
    moderate_as(proposal_id=proposal_id, mark=mark, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Proposal #{proposal_id} marked {kind}; the reason is published")


@programme_app.command("ballot-open")
def ballot_open_command(
    file: Annotated[Path, typer.Argument(help="Ballot (YAML/JSON): year, title, roll, "
                                              "choose_up_to, opens_at, closes_at, options")],
    actor: Actor, token: Token = None,
) -> None:
    """Open a ballot on a shortlist of proposals."""
    from models.programme import BallotCreate
    from programme.ballots import open_ballot_as

    request = validated(BallotCreate, read_file(file), file)
    ready()
    ballot = open_ballot_as(request=request, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Ballot #{ballot.id} opened: {len(ballot.options)} options, choose up to "
                  f"{ballot.choose_up_to}, {ballot.opens_at:%Y-%m-%d %H:%M} to "
                  f"{ballot.closes_at:%Y-%m-%d %H:%M} UTC")


@programme_app.command("send-code")
def send_code_command(
    ballot_id: int, url: Annotated[str, typer.Argument(help="Your Apprise URL")],
) -> None:
    """Send a one-time voting code to your channel (public roll)."""
    from programme.ballots import send_code

    ready()
    console.print(f"Code sent to {send_code(ballot_id=ballot_id, channel_url=url)}")


@programme_app.command("vote")
def vote_command(
    ballot_id: int, choice: Choices,
    code: Annotated[str, typer.Option(help="The code sent to your channel")],
) -> None:
    """Vote on a public ballot with your one-time code."""
    from programme.ballots import cast_public_vote

    ready()
    vote = cast_public_vote(ballot_id=ballot_id, code=code, choices=choice)
    _recorded(vote)


@programme_app.command("vote-expert")
def vote_expert_command(ballot_id: int, choice: Choices, actor: Actor,
                        token: Token = None) -> None:
    """Vote on an expert ballot with your API token."""
    from programme.ballots import cast_expert_vote

    ready()
    vote = cast_expert_vote(ballot_id=ballot_id, choices=choice, actor=actor, token=token,
                            channel=CHANNEL)
    _recorded(vote)


def _recorded(vote: Vote) -> None:
    from programme.receipts import receipt_id

    assert vote.id is not None
    console.print(f"Vote #{vote.id} recorded for {', '.join(f'#{c}' for c in vote.choices)}")
    console.print(f"Receipt id: {receipt_id(ballot_id=vote.ballot_id, vote_id=vote.id)} "
                  "(fetch the receipt with `dueprocess programme receipt` once a signed "
                  "tree head covers the vote, within DUEPROCESS_MAX_UNSIGNED_SECONDS)",
                  markup=False, highlight=False)


@programme_app.command("receipt")
def receipt_command(
    receipt: Annotated[str, typer.Argument(help="The receipt id given when you voted")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the receipt "
                                         "(JSON)")],
) -> None:
    """Fetch a vote's receipt: its leaf and inclusion proof against a signed tree head."""
    from programme.receipts import fetch_receipt

    ready()
    fetched = fetch_receipt(receipt)
    try:
        output.write_text(fetched.to_json(), encoding="utf-8")
    except OSError as exc:
        raise DueProcessError(f"--output: cannot write {output}: {exc.strerror}") from None
    console.print(f"Receipt {fetched.receipt_id} written to {output}: leaf "
                  f"{fetched.leaf_index} of the tree head of {fetched.tree_head.tree_size} "
                  "leaves; check it with dueprocess verify-receipt", markup=False,
                  highlight=False)


def verify_receipt_command(
    receipt: Annotated[Path, typer.Argument(help="The receipt (JSON)")],
    trusted_key: Annotated[Path, typer.Option(help="The log's published public key (PEM)")],
) -> None:
    """Check a vote receipt offline: its record, inclusion proof and signed tree head."""
    from dueprocess.errors import Refused
    from dueprocess.rules.engine import Unmet
    from programme.receipts import ReceiptRefused, verify_receipt

    data, key = read_bytes(receipt, "RECEIPT"), read_bytes(trusted_key, "--trusted-key")
    try:
        checked = verify_receipt(data, trusted_public_key_pem=key)
    except ReceiptRefused as exc:
        raise Refused([Unmet(exc.rule, RECEIPTS, f"{receipt}: {exc.reason}")]) from None
    console.print(checked.summary(), markup=False, highlight=False, soft_wrap=True)


def read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DueProcessError(f"{what}: cannot read {path}: {exc.strerror}") from None


@programme_app.command("register-import")
def register_import_command(
    file: Annotated[Path, typer.Argument(help="The resident register (CSV: resident_id, "
                                              "street, community)")],
    issuer: Annotated[str, typer.Option(help="The OIDC issuer whose subjects the ids are")],
    actor: Actor, token: Token = None,
) -> None:
    """Import the resident register in force (each import is logged)."""
    from programme.residents import import_register_as

    data = read_bytes(file, "FILE")
    ready()
    with working(f"importing the register {file.name} …"):
        register = import_register_as(data=data, issuer=issuer, actor=actor, token=token,
                                      channel=CHANNEL)
    console.print(f"Register #{register.id} imported: {register.residents} residents of "
                  f"{register.issuer} (file SHA-256 {register.file_sha256}); it is the "
                  "register in force", markup=False, highlight=False)


@programme_app.command("ballot-close")
def ballot_close_command(ballot_id: int, actor: Actor, token: Token = None) -> None:
    """Close a ballot after its window; its tally closes the ballot's log chain."""
    from programme.ballots import close_ballot_as

    ready()
    tally = close_ballot_as(ballot_id=ballot_id, actor=actor, token=token, channel=CHANNEL)
    for option, count in sorted(tally.items(), key=lambda kv: -kv[1]):
        console.print(f"  proposal #{option}: {count}")


@programme_app.command("export-ballot")
def export_ballot_command(ballot_id: int, directory: Path) -> None:
    """Export a closed ballot as a dossier anyone can recount offline."""
    from dueprocess.ledger import export_dossier
    from models.programme import ballot_chain

    ready()
    report = export_dossier(ballot_chain(ballot_id), directory, of_case=False)
    console.print(f"Ballot #{ballot_id}: {len(report.items)} records written to {directory}")


@programme_app.command("recount")
def recount_command(
    directory: Path,
    trusted_key: Annotated[Path, typer.Option(help="The log's published public key (PEM)")],
) -> None:
    """Recount an exported ballot offline and check every vote against the signed log."""
    from ledger import DossierError
    from programme.recount import RecountError, recount

    try:
        result = recount(directory, trusted_public_key_pem=trusted_key.read_bytes())
    except (DossierError, RecountError, OSError) as exc:
        raise DueProcessError(f"{directory}: {exc}") from None
    console.print(result.summary(), markup=False, highlight=False)


@programme_app.command("list-open")
def list_open_command(
    ballot_id: int, file: CaseFile,
    size: Annotated[int, typer.Option(help="How many matters, by votes")],
    token: Token = None,
) -> None:
    """Open the year's list case from a closed ballot: its draft is the shortlist."""
    from programme.list_case import open_list_case_as

    data = read_mapping(file)
    ready()
    case = open_list_case_as(ballot_id=ballot_id, list_size=size, case_file=data,
                             token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@programme_app.command("list-revise")
def list_revise_command(
    case_id: str, file: CaseFile,
    add: Annotated[list[int] | None, typer.Option(help="A proposal to add; repeat")] = None,
    remove: Annotated[list[int] | None, typer.Option(help="A proposal to remove; repeat")]
    = None,
    token: Token = None,
) -> None:
    """Revise a decided list: a new list case, decided through the procedure again."""
    from programme.list_case import revise_list_as

    data = read_mapping(file)
    ready()
    case = revise_list_as(case_id=case_id, add=add or [], remove=remove or [],
                          case_file=data, token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(programme_app, name="programme")
    app.command("verify-receipt")(verify_receipt_command)
