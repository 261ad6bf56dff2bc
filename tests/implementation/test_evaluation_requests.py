"""Residents' requests for an evaluation under the hardened channel-code rules (issue 20,
item 2): one channel however it is typed, codes that die after 5 wrong attempts, a
decision's attempt budget, refused codes only counted, and channel requests counting
toward the threshold only where configured."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from implementation.evaluation_due import confirm_request, send_request_code
from ledger import utc_timestamp
from models.base import utcnow
from models.evidence import Refusal
from models.follow_up import EvaluationDue, EvaluationRequest, follow_up_chain
from models.ledger import LogLeaf
from notifications.public import GUESSES_COUNTED, guesses_spent, log_finished_minutes
from notifications.transport.receiver import WebhookReceiver


@pytest.fixture(autouse=True)
def loopback_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("DUEPROCESS_EVALUATION_REQUEST_THRESHOLD", "3")


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def code_sent(webhook: WebhookReceiver, case_id: str, channel: str) -> str:
    send_request_code(case_id=case_id, channel_url=channel)
    found = re.search(r"\b(\d+-\d{8})\b", webhook.accepted[-1]["message"])
    assert found, webhook.accepted[-1]
    return found.group(1)


def rule_of(case_id: str, code: str) -> str:
    try:
        confirm_request(case_id=case_id, code=code)
    except Refused as refused:
        return ",".join(p.rule for p in refused.problems)
    return "counted"


def due(case_id: str) -> EvaluationDue | None:
    with session_scope() as session:
        return session.exec(select(EvaluationDue).where(
            EvaluationDue.case_id == case_id)).first()


def audit_of(case_id: str) -> tuple[int, list[dict[str, object]]]:
    """Refusal rows and log records on the decision's follow-up chain."""
    chain = follow_up_chain(case_id)
    with session_scope() as session:
        refusals = len(session.exec(select(Refusal.id).where(Refusal.case_id == chain)).all())
        records = [json.loads(r) for r in session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == chain).order_by(col(LogLeaf.leaf_index)))]
    return refusals, records


def test_one_webhook_typed_twice_asks_once_and_six_paths_reach_nothing_by_default(
    decided_case: str, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = code_sent(webhook, decided_case, f"{webhook.url}/same")
    assert rule_of(decided_case, first) == "counted"
    again = code_sent(webhook, decided_case, f"{webhook.url}/same/")  # the trailing slash
    assert rule_of(decided_case, again) == "EVAL-REQUEST-ONCE"
    for path in range(5):  # one person, six paths on one host: six channel requests
        assert rule_of(decided_case, code_sent(webhook, decided_case,
                                               f"{webhook.url}/path-{path}")) == "counted"
    assert due(decided_case) is None  # channel requests do not count toward 3 by default
    with session_scope() as session:
        levels = session.exec(select(EvaluationRequest.assurance).where(
            EvaluationRequest.case_id == decided_case)).all()
    assert levels == ["channel"] * 6

    monkeypatch.setenv("DUEPROCESS_EVALUATION_CHANNEL_REQUESTS_COUNT", "true")
    assert rule_of(decided_case, code_sent(webhook, decided_case,
                                           f"{webhook.url}/path-6")) == "counted"
    marked = due(decided_case)
    assert marked is not None and (marked.reason, marked.requests) == ("residents", 7)


def test_a_request_code_dies_after_five_wrong_attempts_and_guesses_are_only_counted(
    decided_case: str, webhook: WebhookReceiver,
) -> None:
    code = code_sent(webhook, decided_case, f"{webhook.url}/guessed")
    locator, secret = code.split("-")
    guesses = [f"{locator}-{(int(secret) + n) % 10**8:08d}" for n in range(1, 6)]
    assert [rule_of(decided_case, g) for g in guesses] == [
        "EVAL-REQUEST-CODE"] * 4 + ["EVAL-REQUEST-CODE-ATTEMPTS"]
    with pytest.raises(Refused, match=r"\[EVAL-REQUEST-CODE-ATTEMPTS, [^]]+\] code: refused "
                                      r"after 5 wrong attempts; ask for a new one"):
        confirm_request(case_id=decided_case, code=code)
    assert rule_of(decided_case, code_sent(webhook, decided_case,
                                           f"{webhook.url}/guessed")) == "counted"
    refusals, records = audit_of(decided_case)
    assert refusals == 0  # six refused codes, no refusal row and no record each
    assert not any(r.get("event") == GUESSES_COUNTED for r in records)  # this minute's: open
    with session_scope() as session:
        assert guesses_spent(session, follow_up_chain(decided_case)) == 6


def test_past_the_decisions_attempt_budget_no_request_code_is_taken(
    decided_case: str, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_EVALUATION_REQUEST_ATTEMPT_BUDGET", "2")
    code = code_sent(webhook, decided_case, f"{webhook.url}/late")
    assert [rule_of(decided_case, g) for g in ("12345678", "1-00000000")] == [
        "EVAL-REQUEST-CODE"] * 2
    with pytest.raises(Refused, match=rf"\[EVAL-REQUEST-GUESS-BUDGET, [^]]+\] code: the "
                                      rf"requests for case {decided_case} have refused 2 wrong "
                                      "codes, their attempt budget"):
        confirm_request(case_id=decided_case, code=code)


def test_each_minutes_refused_codes_are_one_record(decided_case: str) -> None:
    """Guesses over three minutes: each minute's count is logged once the minute is over."""
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
    for minute in range(3):
        for n in range(40):
            at = start + timedelta(minutes=minute, seconds=n)
            with pytest.raises(Refused, match="EVAL-REQUEST-CODE"):
                confirm_request(case_id=decided_case, code=f"1-{n:08d}", now=at)
    refusals, records = audit_of(decided_case)
    counted = [r["body"] for r in records if r.get("event") == GUESSES_COUNTED]
    assert refusals == 0 and [c["refused_guesses"] for c in counted] == [40, 40]  # type: ignore[index]
    # The last minute has no later guess: the watchdog's sweep logs it once it is over.
    third, chain = start + timedelta(minutes=2), follow_up_chain(decided_case)

    def swept(after: timedelta) -> list[str]:  # other tests' chains may be swept too
        return [m for m in log_finished_minutes(now=third + after) if m.startswith(chain)]

    assert swept(timedelta(seconds=59)) == []
    assert swept(timedelta(minutes=1)) == [f"{chain} {utc_timestamp(third)}: 40"]
    assert swept(timedelta(minutes=2)) == []
    _, records = audit_of(decided_case)
    assert [r["body"]["refused_guesses"] for r in records  # type: ignore[index]
            if r.get("event") == GUESSES_COUNTED] == [40, 40, 40]
    verify_log()
