"""Comments sent on the portal flow into the public-participation stage: its gate stays
shut until the evidence counts them among the opinions received, and the adoption
statement's responses answer them (PP-EVERY-OPINION-ANSWERED, Art. 18)."""

from __future__ import annotations

from typing import Any

import pytest

from dueprocess.db import session_scope
from dueprocess.demo.submissions import PARTICIPATION
from dueprocess.errors import Refused
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from portal.comments.submission import CommentCreate, comments_for_case, submit_comment
from tests.support import advance_to_step, token_for

STAGE = "public_participation"


def participation(opinions: int) -> dict[str, Any]:
    """The demo's valid participation evidence, declaring `opinions` opinions, all answered."""
    return {**PARTICIPATION, "opinions_received": opinions,
            "adoption_statement": f"{opinions} opinions in one cluster, adopted.",
            "responses": [{"cluster": "Longer free drop-off", "opinions": opinions,
                           "response": "adopted", "reason": "Matches the survey."}]}


def blocked_by(case_id: str, rule: str) -> list[str]:
    progress = advance_case(case_id=case_id)
    return [u.message for u in progress.blocked.get(STAGE, []) if u.rule == rule]


def test_portal_comments_must_be_counted_and_answered_before_the_stage_completes(
    consulting_case: str,
) -> None:
    receipts = [submit_comment(case_id=consulting_case, client="198.51.100.7",
                               comment=CommentCreate(body=f"意见 {n}: 延长免费时段"))
                .receipt_number for n in range(3)]
    with session_scope() as session:
        listed = comments_for_case(session, case_id=consulting_case)
        facts = load_facts(session, get_case(session, consulting_case))
    assert [c.receipt_number for c in listed.comments] == receipts
    assert facts.public_comments == tuple(receipts)

    # The window dueprocess published closes; then the officer's statement answers only
    # 2 opinions: the 3 portal comments are not all counted, so it is refused when
    # recorded (Art. 18) and nothing is stored.
    advance_to_step(consulting_case, STAGE)
    with pytest.raises(Refused) as refused:
        record_evidence(case_id=consulting_case, stage_key=STAGE, recorded_by="li.wei",
                        evidence=participation(2), channel="test", token=token_for("li.wei"))
    [message] = [p.message for p in refused.value.problems
                 if p.rule == "PP-EVERY-OPINION-ANSWERED"]
    assert "opinions_received is 2, but the portal received 3 comments" in message
    assert receipts[0] in message and receipts[-1] in message
    assert refused.value.refusal_id is not None
    with session_scope() as session:
        assert load_facts(session, get_case(session, consulting_case)).evidence == ()

    # Counted and answered: the gate no longer holds the stage for this rule.
    record_evidence(case_id=consulting_case, stage_key=STAGE, recorded_by="li.wei",
                    evidence=participation(3), channel="test", token=token_for("li.wei"))
    assert blocked_by(consulting_case, "PP-EVERY-OPINION-ANSWERED") == []
