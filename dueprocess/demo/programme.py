"""`dueprocess demo --programme`: a year of the practical-matters programme, end to end.

On the embedded default (SQLite, a local Prefect server, the served deployments):
residents propose, moderation merges a duplicate and refuses one out of scope, residents
vote with one-time codes delivered through Apprise to their channels, anyone recounts
the closed ballot offline, the list case made from the shortlist runs the Decree 713
procedure in the major-decision flow, the decided list's items get departments and
milestones, one milestone is missed and escalated by supervision, and the year's report
is drawn. The list case runs on simulated time, like the main demo's; ballots run on the
system clock (a vote counts when dueprocess records it).
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from sqlmodel import select

from dueprocess.cli_kit import working
from dueprocess.clock import system_now
from dueprocess.db import migrate, session_scope
from dueprocess.demo import submissions
from dueprocess.demo.credentials import token_for
from dueprocess.demo.notices import deliver_demo_notices, start_demo_channels
from dueprocess.demo.run import CASE_FILE, demo_stack, patience, record_step, step
from dueprocess.i18n import translations
from dueprocess.ledger import export_and_verify, export_dossier, log_public_key_pem
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.cases import read_case_file, register_person
from dueprocess.settings import get_notify_settings, get_settings
from implementation.items import add_milestone_as, record_progress_as, register_item_as
from implementation.report import (
    chart_labels,
    chart_spec,
    chart_svg,
    department_figures,
    report_csv,
)
from implementation.supervision import supervise_overdue
from models.cases import DraftVersion
from models.implementation import ItemCreate, MilestoneCreate, ProgressUpdateCreate
from models.programme import (
    BallotCreate,
    MarkCreate,
    MarkKind,
    Proposal,
    ProposalCreate,
    Roll,
    ballot_chain,
)
from notifications.public import code_message
from programme.ballots import cast_public_vote, close_ballot_as, open_ballot_as, send_code
from programme.list_case import list_of_case, open_list_case_as
from programme.participation import participation_evidence
from programme.proposals import moderate_as, submit_proposal
from programme.recount import recount

OFFICIAL = "wang.fang"
PROPOSALS = (
    ("交通", "street", "中关村街道", "Zhongguancun No. 2 primary school gate",
     "A pedestrian crossing light at the school gate, where children cross four lanes."),
    ("养老", "street", "学院路街道", "Xueyuan Road community centre",
     "A canteen for elderly residents that serves lunch at noon on weekdays."),
    ("环境", "district", None, "Qinghe river banks",
     "Clean up the Qinghe river banks and add a walking path along them."),
    ("教育", "street", "海淀街道", "Haidian street library",
     "Open the street library in the evenings and at weekends for pupils."),
    ("交通", "district", None, "Metro Line 16 stations",
     "Covered bicycle parking at every Line 16 station in the district."),
    ("养老", "street", "学院路街道", "Xueyuan Road, building 7",
     "A lunch canteen for the elderly at the Xueyuan Road community centre."),  # duplicate
    ("其他", "district", None, "Capital airport",
     "A second runway for the capital airport, to cut flight delays."),  # out of scope
)
VOTERS = 9
# Each residents' choices (indexes into the ballot's options); the tally follows.
CHOICES = ((0, 1), (0, 2), (0, 1), (1, 3), (0,), (1, 2), (2, 4), (0, 3), (1,))
# Departments of the demo's people, who report the items' progress.
DEPARTMENTS = (("District Urban Management Commission", "li.wei"),
               ("District Stability Office", "liu.yang"))


def _register_people() -> None:
    with session_scope() as session:
        for person in read_case_file(CASE_FILE).people:
            register_person(session, person)


def _proposals(console: Console) -> list[int]:
    ids = []
    for n, (category, level, street, place, text) in enumerate(PROPOSALS):
        proposal = submit_proposal(request=ProposalCreate(
            category=category, level=level, street=street, place=place, description=text),
            client=f"192.0.2.{n + 10}")
        ids.append(proposal.id or 0)
        console.print(f"  proposal #{proposal.id} ({category}, {street or level}): receipt "
                      f"{proposal.receipt_number}", highlight=False)
    duplicate, out_of_scope = ids[-2], ids[-1]
    moderate_as(proposal_id=duplicate, mark=MarkCreate(
        kind=MarkKind.MERGED, merged_into=ids[1], reason=f"The same canteen as #{ids[1]}."),
        actor=OFFICIAL, token=token_for(OFFICIAL), channel="demo")
    moderate_as(proposal_id=out_of_scope, mark=MarkCreate(
        kind=MarkKind.REFUSED, reason="Airports are a national matter, not the district's."),
        actor=OFFICIAL, token=token_for(OFFICIAL), channel="demo")
    console.print(f"  moderation: #{duplicate} merged into #{ids[1]}, #{out_of_scope} refused "
                  "(reasons published, nothing deleted)")
    return ids[:-2]


def _vote(console: Console, options: list[int], receiver: Any) -> int:
    now = system_now()
    window = timedelta(seconds=patience(20))  # long enough for the votes on this machine
    ballot = open_ballot_as(request=BallotCreate(
        year=now.year, title="Practical matters for the people: next year's list",
        roll=Roll.PUBLIC, choose_up_to=2, opens_at=now - timedelta(minutes=1),
        closes_at=now + window, options=options),
        actor=OFFICIAL, token=token_for(OFFICIAL), channel="demo")
    assert ballot.id is not None
    for voter, picks in zip(range(VOTERS), CHOICES, strict=True):
        url = f"json://127.0.0.1:{receiver.port}/voter-{voter}"
        send_code(ballot_id=ballot.id, channel_url=url)
        subject = code_message(code="", minutes=0, language=get_notify_settings().notify_language,
                               ballot_id=ballot.id).subject
        sent = [m for m in receiver.accepted if m["title"] == subject]
        code = re.findall(r"\b(\d+-\d{8})\b", sent[-1]["message"])[-1]
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[options[i] for i in picks])
    console.print(f"  ballot #{ballot.id}: {VOTERS} residents got a one-time code through "
                  "Apprise and voted (each under a keyed pseudonym)")
    left = max(0.0, (ballot.closes_at - system_now()).total_seconds()) + 0.5
    with working(f"waiting {left:.0f} s for the ballot to close …", on=console):
        time.sleep(left)
    tally = close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                            channel="demo")
    console.print("  closed; tally: " + ", ".join(
        f"#{p}: {n}" for p, n in sorted(tally.items(), key=lambda kv: -kv[1])))
    return ballot.id


def _recount(console: Console, ballot_id: int, data_dir: Path) -> None:
    directory = data_dir / "dossiers" / ballot_chain(ballot_id)
    export_dossier(ballot_chain(ballot_id), directory, announce=lambda _: None, of_case=False)
    key = log_public_key_pem()  # in real use, the key the log published, held by others
    assert key is not None, "the export signs a tree head with the log's key"
    console.print("  " + recount(directory, trusted_public_key_pem=key).summary(),
                  highlight=False, markup=False)


def _list_case_file() -> dict[str, Any]:
    data = yaml.safe_load(CASE_FILE.read_text(encoding="utf-8"))
    for generated in ("title", "draft"):
        del data[generated]
    data["summary"] = ("The district's list of practical matters for the people, made from "
                       "residents' proposals and their vote, decided by the procedure.")
    data["legal_basis"] = ["Decree 713 (Major Administrative Decision Procedure), Art. 3"]
    return dict(data)


def draft_text(case_id: str) -> str:
    with session_scope() as session:
        return session.exec(select(DraftVersion.text).where(
            DraftVersion.case_id == case_id)).first() or ""


def _reviewed(evidence: dict[str, Any], **texts: Any) -> dict[str, Any]:
    return {**evidence, **texts}


def _decide(console: Console, case_id: str) -> None:
    from dueprocess.orchestration.case_runs import (  # deferred: Prefect, once PREFECT_* are set
        start_case_run,
        wait_for_gate,
    )

    run_id = start_case_run(case_id)
    with working("waiting for the list case's flow run to reach its first gate …",
                 on=console):
        gate = wait_for_gate(case_id, timeout=patience(120))
    if gate is None:
        raise RuntimeError("the flow run did not reach its first gate")
    console.print(f"  flow run {run_id} at its first gate")
    record_step(console, case_id, "public_participation", "li.wei",
                participation_evidence(case_id), resume=False)
    for handle, name, unit, field, conclusion, text in (
            ("prof.zhang", "Zhang Min", "Tsinghua University", "urban planning", "supports",
             "The listed matters are feasible within one year."),
            ("prof.chen", "Chen Jie", "Beijing Jiaotong University", "traffic engineering",
             "supports_with_changes", "Time the crossing light with the school hours."),
            ("dr.zhou", "Zhou Lan", "Beijing Transport Institute", "public finance",
             "supports_with_changes", "Publish each matter's budget with its progress.")):
        record_step(console, case_id, "expert_review", handle,
                    submissions.expert_opinion(handle, name, unit, field, conclusion, text),
                    resume=False)
    record_step(console, case_id, "risk_assessment", "liu.yang", _reviewed(
        submissions.RISK, risk_points=["works near a school during term"],
        prevention_measures=["works in the school holidays"],
        response_plan="Street offices answer complaints within 48 h."))
    record_step(console, case_id, "legality_review", "sun.hao", _reviewed(
        submissions.LEGALITY, opinion="Each matter is within the district's powers."))
    record_step(console, case_id, "collective_decision", "zhao.li", _reviewed(
        submissions.MEETING, expert_opinion_adoption="Adopted: school-hour timing (Chen), "
        "budgets published with progress (Zhou).", decision_text="The list is adopted.",
        dissent=[], statements=[
            {"speaker": s["speaker"], "position": "for", "text": "Supports the list."}
            for s in submissions.MEETING["statements"]]))
    record_step(console, case_id, "publication", "qian.yu", _reviewed(
        submissions.PUBLICATION, url="https://www.bjhd.gov.cn/zwgk/practical-matters",
        adoption_explanation="Every proposal answered; experts: 3 opinions, 2 adopted.",
        expert_adoption_explanation="School-hour timing and published budgets adopted."))


def _at(console: Console, case_id: str, moment: str) -> datetime:
    now = advance_clock_to(case_id=case_id, moment=datetime.fromisoformat(moment),
                           person="demo")
    console.print(f"  [magenta]simulated time[/]: {now.astimezone(submissions.BEIJING):%Y-%m-%d}",
                  highlight=False)
    return now


def _implement(console: Console, case_id: str, listed: list[int]) -> None:
    items: list[tuple[Any, list[Any], str]] = []
    for proposal_id, (department, reporter) in zip(listed, DEPARTMENTS, strict=False):
        with session_scope() as session:
            proposal = session.get(Proposal, proposal_id)
            assert proposal is not None
            level, street, place = proposal.level, proposal.street, proposal.place
        item = register_item_as(request=ItemCreate(
            case_id=case_id, title=place, department=department, level=level, street=street,
            proposal_id=proposal_id), actor=OFFICIAL, token=token_for(OFFICIAL), channel="demo")
        dues = (f"2027-0{len(items) + 1}-15", f"2027-0{len(items) + 5}-30")
        milestones = [add_milestone_as(item_id=item.id or 0, request=MilestoneCreate(
            title=title, due_on=date.fromisoformat(due)), actor=OFFICIAL,
            token=token_for(OFFICIAL), channel="demo")
            for title, due in zip(("Design approved", "In service"), dues, strict=True)]
        items.append((item, milestones, reporter))
        console.print(f"  item #{item.id} {place} → {department}: milestones due "
                      + ", ".join(str(m.due_on) for m in milestones), highlight=False)

    def report(index: int, milestone: int, percent: int) -> None:
        item, milestones, reporter = items[index]
        update = record_progress_as(item_id=item.id or 0, request=ProgressUpdateCreate(
            text=f"{milestones[milestone].title}: done", percent=percent,
            evidence=[f"acceptance record {item.id}-{milestone + 1}"],
            completes_milestone=milestones[milestone].id),
            actor=reporter, token=token_for(reporter), channel="demo")
        console.print(f"  {reporter} reports item #{item.id}: {milestones[milestone].title} "
                      f"done on {update.recorded_on} ({percent}%)", highlight=False)

    _at(console, case_id, "2027-01-10T10:00:00+08:00")
    report(0, 0, 40)
    _at(console, case_id, "2027-02-20T10:00:00+08:00")
    for record in supervise_overdue():
        console.print(f"  [red]supervision[/]: milestone #{record.milestone_id} of item "
                      f"#{record.item_id} was due {record.due_on}; escalated to the officials "
                      f"({record.department})", highlight=False)
    report(1, 0, 30)  # done late
    _at(console, case_id, "2027-05-20T10:00:00+08:00")
    report(0, 1, 100)
    supervise_overdue()


def _report(console: Console, year: int, data_dir: Path) -> None:
    figures = department_figures(year=year)
    table = Table(title=f"Supervision report {year}")
    for column in ("department", "milestones", "on time", "late", "overdue", "not yet due",
                   "completed %"):
        table.add_column(column)
    for f in figures:
        table.add_row(f.department, str(f.milestones), str(f.done_on_time), str(f.done_late),
                      str(f.overdue), str(f.not_yet_due), str(f.completed_percent or "-"))
    console.print(table)
    folder = data_dir / "programme"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"report-{year}.csv").write_text(report_csv(figures), encoding="utf-8")
    svg = chart_svg(chart_spec(figures, title=f"Supervision report {year}",
                               labels=chart_labels(translations("en"))))
    (folder / f"report-{year}.svg").write_text(svg, encoding="utf-8")
    console.print(f"  chart and CSV: {folder}/report-{year}.svg, .csv", highlight=False)


def run_programme_demo(console: Console) -> None:
    started = time.monotonic()
    os.environ["DUEPROCESS_ALLOW_SIMULATED_TIME"] = "true"  # a demo stack (see run_demo)
    os.environ["DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS"] = "true"  # voters on loopback
    get_settings.cache_clear()
    data_dir = get_settings().data_dir
    console.print(f"[bold]dueprocess demo --programme[/] — data directory {data_dir}")
    migrate()
    _register_people()
    channels = start_demo_channels(data_dir)
    with demo_stack(console, data_dir):
        step(console, "Residents propose practical matters (我要提实事); moderation "
             "publishes its reasons")
        options = _proposals(console)
        step(console, "Residents vote on the shortlist")
        ballot_id = _vote(console, options, channels.receiver)
        step(console, "Anyone recounts the closed ballot from its export")
        _recount(console, ballot_id, data_dir)
        step(console, "The list case: its draft is the shortlist, decided by the "
             "Decree 713 procedure in the major-decision flow")
        case = open_list_case_as(ballot_id=ballot_id, list_size=3,
                                 case_file=_list_case_file(),
                                 token=token_for(OFFICIAL), channel="demo")
        console.print(f"  opened case {case.id}: {case.title}; its draft:",
                      highlight=False)
        console.print("    " + draft_text(case.id).replace("\n", "\n    "),
                      highlight=False, markup=False)
        _decide(console, case.id)
        with session_scope() as session:
            link = list_of_case(session, case.id)
            listed = list(link.proposals) if link else []
        step(console, "Implementation: departments, milestones, progress; supervision "
             "escalates a missed milestone")
        _implement(console, case.id, listed)
        step(console, "The deliver-notices flow sends the case's notices")
        deliver_demo_notices(console, case.id, channels)
    step(console, "The year's supervision report")
    _report(console, 2027, data_dir)
    export_and_verify(case.id, data_dir / "dossiers" / case.id, console)
    url = get_notify_settings().portal_url.rstrip("/")
    console.print(f"Public pages (`DUEPROCESS_DATA_DIR={data_dir} dueprocess portal`): "
                  f"{url}/programme/items, {url}/programme/report/2027, {url}/cases/{case.id}",
                  highlight=False)
    console.print(f"Programme demo finished in {time.monotonic() - started:.1f} s.")
