"""docs/forms.md's table of the fields a reviewer types per stage, before (every top-level
field of the evidence schema) and after the inbox fills in what dueprocess holds, is the
one the form code gives for a stage with everything known (a published window and a
hearing, comments received, an organ with its head, a registered expert)."""

from __future__ import annotations

import re
from pathlib import Path

from models.stage_kinds import STAGE_KINDS
from portal.inbox.forms import form_fields
from portal.inbox.prefill import Known, Member, OpinionRow, Prefill, Roster

DOC = Path(__file__).resolve().parents[2] / "docs" / "forms.md"
# Filled in and shown read-only, never typed (portal.inbox.prefill).
NOT_TYPED = {"known", "files", "scan", "signing"}


def _known(*names: str) -> dict[str, Known]:
    return {n: Known(n, "x", "x", "") for n in names}


EVERYTHING_KNOWN = {
    "public_participation": Prefill(
        known=_known("call_published_on", "window_opens", "window_closes", "call_url",
                     "shortened_reason", "shortened_reason_published", "hearing"),
        opinions=(OpinionRow("campaign-X: …", 40, "…"),), hearing=("Resident Gao",)),
    "expert_review": Prefill(known=_known("expert_name", "affiliation", "field_of_expertise",
                                                    "signed_on"),
                             signing=True),
    "risk_assessment": Prefill(known=_known("assessed_on")),
    "legality_review": Prefill(known=_known("received_on", "issued_on")),
    "collective_decision": Prefill(known=_known("head"), roster=Roster(
        (Member("m", "M", False), Member("h", "H", True)), 2)),
    "assignment": Prefill(known=_known("assigned_on")),
    "recommendation_reply": Prefill(known=_known("replied_on")),
    "decision_evaluation": Prefill(known=_known("concluded_on")),
}


def typed(kind: str, prefill: Prefill | None) -> list[str]:
    labels = {"opinions": "(per row)", "roster": "(per member)", "signed_by": "(per participant)",
              "elsewhere": "(outside the portal)"}
    return [f"{f.name} {labels[f.widget]}" if f.widget in labels else f.name
            for f in form_fields(STAGE_KINDS[kind].evidence, prefill=prefill)
            if f.widget not in NOT_TYPED]


def expected_rows() -> list[tuple[str, int, int]]:
    return [(kind, len(typed(kind, None)), len(typed(kind, EVERYTHING_KNOWN.get(kind))))
            for kind in STAGE_KINDS]


def test_the_documented_counts_are_the_forms() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = [(m[1], int(m[2]), int(m[3])) for m in re.finditer(
        r"^\| `([a-z_]+)` \| (\d+) \| (\d+) \|", text, re.M)]
    assert rows == expected_rows(), "\n".join(
        f"| `{k}` | {b} | {a} | {', '.join(typed(k, EVERYTHING_KNOWN.get(k)))} |"
        for k, b, a in expected_rows())
    before = sum(b for _, b, _ in expected_rows())
    after = sum(a for _, _, a in expected_rows())
    assert f"**{before}** typed fields before, **{after}** after" in text
