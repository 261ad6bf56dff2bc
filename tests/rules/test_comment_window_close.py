"""The comment window is open until 24:00 Beijing time of its last published day.

The call for comments reads "2026-09-01 to 2026-10-01": a comment at 23:59 on 2026-10-01
is in time, and the participation gate waits until the day is over (Art. 15).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from dueprocess.clock import (
    closing_time,
    comment_window_close,
    end_of_day,
    last_day,
    zoned_time,
)
from dueprocess.demo import submissions as demo
from dueprocess.demo.submissions import BEIJING
from dueprocess.rules import evaluate_gate, evidence_problems
from dueprocess.rules.facts import WindowFact
from tests.rules.conftest import NOW, OPENED_AT, FactsFactory

PP = "public_participation"
ZONE = "Asia/Shanghai"
LAST_MINUTE = datetime(2026, 10, 1, 23, 59, tzinfo=BEIJING)
MIDNIGHT = datetime(2026, 10, 2, 0, 0, tzinfo=BEIJING)  # 2026-10-01 24:00


def test_the_window_closes_at_24_00_beijing_of_its_last_published_day() -> None:
    closes = comment_window_close(OPENED_AT, 30, ZONE)  # opened 2026-09-01 09:00
    assert closes == MIDNIGHT == end_of_day(date(2026, 10, 1), ZONE)
    assert last_day(closes, ZONE) == date(2026, 10, 1)  # the day the notice names
    assert closes - OPENED_AT >= timedelta(days=30)  # never shorter than 30 × 24 hours
    assert closing_time(closes, ZONE) == "2026-10-01 24:00 Beijing time"
    assert closing_time(closes, ZONE, "zh-CN") == "2026年10月1日 24:00（北京时间）"
    assert zoned_time(closes, ZONE) == "2026-10-02 00:00 Beijing time"  # a start, not an end
    assert zoned_time(OPENED_AT, ZONE, "zh-CN") == "2026年9月1日 09:00（北京时间）"
    # Opened late in the evening, it still closes at the end of the 30th day after.
    late = datetime(2026, 9, 1, 23, 30, tzinfo=BEIJING)
    assert comment_window_close(late, 30, ZONE) == MIDNIGHT


def closed_problems(make_facts: FactsFactory, now: datetime) -> list[str]:
    facts = make_facts(evidence=((PP, demo.PARTICIPATION),))
    return [str(u) for u in evaluate_gate(facts, PP, now).unmet if u.rule == "PP-WINDOW-CLOSED"]


def test_the_gate_waits_until_24_00_of_the_last_day(make_facts: FactsFactory) -> None:
    [open_until] = closed_problems(make_facts, LAST_MINUTE)
    assert "[PP-WINDOW-CLOSED, Art. 15]" in open_until
    assert "open until 2026-10-01 24:00 Beijing time" in open_until
    assert closed_problems(make_facts, MIDNIGHT) == []


def test_the_typed_close_is_the_last_published_day(make_facts: FactsFactory) -> None:
    """`window_closes` is the day the notice names, not the day after its 24:00."""
    facts = make_facts()
    model = facts.procedure.stage(PP).stage_kind.evidence

    def problems(closes: str) -> list[str]:
        evidence = model.model_validate({**demo.PARTICIPATION, "window_closes": closes})
        return [str(u) for u in evidence_problems(facts, PP, evidence, NOW, recorded_by="li.wei")
                if u.rule == "PP-WINDOW-AS-PUBLISHED"]

    assert problems("2026-10-01") == []
    [refused] = problems("2026-10-02")
    assert "window_closes 2026-10-02 contradicts" in refused and "to 2026-10-01" in refused


def test_the_length_counts_published_days(make_facts: FactsFactory) -> None:
    """A 29-day window opened at midnight lasts 30 × 24 hours to its 24:00, but it is still
    29 published days: shorter than 30, refused without a published reason."""
    midnight = datetime(2026, 9, 1, 0, 0, tzinfo=BEIJING)
    facts = replace(make_facts(), opened_at=midnight,
                    comment_window=WindowFact(midnight, comment_window_close(midnight, 29, ZONE)))
    model = facts.procedure.stage(PP).stage_kind.evidence.model_validate(
        {**demo.PARTICIPATION, "window_closes": "2026-09-30"})
    refused = [str(u) for u in evidence_problems(facts, PP, model, NOW, recorded_by="li.wei")
               if u.rule == "PP-WINDOW-LENGTH"]
    assert refused == ["[PP-WINDOW-LENGTH, Art. 15] the published comment window is 29 days, "
                       "shorter than 30, and no reason for shortening it was published with "
                       "the call for comments"]
