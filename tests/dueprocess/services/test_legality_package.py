"""The legality review submission package is assembled from the case record (Art. 26)."""

from __future__ import annotations

from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.rules.package import assemble_package
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from models.evidence import EvidenceItem
from tests.support import VALID_STEPS, published_events, record_steps, watch_events

UPSTREAM = [s for s in VALID_STEPS if s[0] in
            ("public_participation", "expert_review", "risk_assessment")]


def test_opening_the_review_assembles_the_package_with_every_digest(case_id: str) -> None:
    watch_events()
    record_steps(case_id, UPSTREAM)
    with session_scope() as session:
        case = get_case(session, case_id)
        package = assemble_package(load_facts(session, case), "legality_review")
        digests = {(i.id, i.payload_sha256) for i in session.exec(
            select(EvidenceItem).where(EvidenceItem.case_id == case_id)
            .order_by(col(EvidenceItem.id)))}
    assert package.legal_basis == case.legal_basis and package.problems() == []
    assert [p.stage_key for p in package.procedures] == [
        "public_participation", "expert_review", "risk_assessment"]
    assert {(e.id, e.payload_sha256) for p in package.procedures for e in p.evidence} == digests
    assert package.draft is not None and package.draft.version == 1
    [event] = [e for e in published_events(case_id) if e.kind == "legality.package_assembled"]
    assert event.digest == package.sha256 and event.stage_key == "legality_review"
    assert len(event.body["evidence"]) == 5
