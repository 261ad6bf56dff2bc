"""What the demo's scripted reviewers record, stage by stage (valid unless named otherwise)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dueprocess.rules import signatures
from models.evidence_schemas import ExpertOpinionEvidence


def demo_key(handle: str) -> Ed25519PrivateKey:
    """A demo signing key derived from a published seed: never use it for real opinions."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"dueprocess demo key: {handle}".encode()).digest()
    )


PARTICIPATION: dict[str, Any] = {
    "call_published_on": "2026-09-01",  # the window dueprocess publishes (case.yaml clock)
    "call_url": "https://www.bjhd.gov.cn/consultation/parking-fees-2026",
    "published_materials": ["draft", "explanation"],
    "window_opens": "2026-09-01",
    "window_closes": "2026-10-01",
    "specific_groups_affected": True,
    "groups_consulted": ["Zhongguancun residents' committees", "Beijing Taxi Drivers' Union"],
    "opinions_received": 412,
    "adoption_statement": (
        "412 opinions in 9 clusters. Adopted: free drop-off extended to 15 minutes (131). "
        "Partly adopted: school-zone hours (88). Not adopted: flat fee for all zones (54), "
        "because zone pricing is the legal basis of the scheme."
    ),
    "responses": [
        {"cluster": "Extend free drop-off to 15 minutes", "opinions": 131,
         "response": "adopted", "reason": "Matches hospital drop-off times in the survey."},
        {"cluster": "Peak hours should follow school hours", "opinions": 88,
         "response": "partly_adopted", "reason": "School zones start at 07:00; the rest keep "
                                                 "the district peak."},
        {"cluster": "One flat fee for all zones", "opinions": 54, "response": "not_adopted",
         "reason": "Zone pricing is the legal basis of the scheme (Price Law Art. 18)."},
        {"cluster": "Night-worker exemption too narrow", "opinions": 71,
         "response": "partly_adopted", "reason": "Permit holders keep the night rate; the "
                                                 "meeting decides on wider exemptions."},
        {"cluster": "Five smaller clusters (signage, payment apps, enforcement)",
         "opinions": 68, "response": "adopted", "reason": "Built into the implementation plan."},
    ],
}

# A hearing's evidence (Art. 16-17), for cases that announced it with dueprocess (the
# demo holds none: announcing one delivers materials to real participant channels).
HEARING: dict[str, Any] = {
    "held_on": "2026-09-25",
    "selection_method_published_on": "2026-09-08",  # the day dueprocess announced it
    "participants_published_on": "2026-09-08",
    "materials_sent_on": "2026-09-16",  # the day the last participant received them
    "participants": ["Resident Gao", "Nurse Feng", "Driver Tang", "Shop owner Yu"],
    "record_signed_by": ["Resident Gao", "Nurse Feng", "Driver Tang", "Shop owner Yu"],
}

# Refused: a 19-day window typed, where dueprocess published 30 days (Art. 15).
PARTICIPATION_SHORT_WINDOW: dict[str, Any] = {
    **PARTICIPATION, "window_closes": "2026-09-20",
}

_EXPERT_OPINIONS = (
    ("prof.zhang", "Zhang Min", "Tsinghua University", "transport economics",
     "supports", "Peak pricing near hospitals is well supported by cruising data."),
    ("prof.chen", "Chen Jie", "Beijing Jiaotong University", "traffic engineering",
     "supports_with_changes", "Monitor displacement into residential lanes."),
    ("dr.zhou", "Zhou Lan", "Beijing Transport Institute", "public finance",
     "opposes", "Revenue use is not ring-fenced; publish it."),
)


def expert_opinion(handle: str, name: str, affiliation: str, field: str, conclusion: str,
            opinion: str) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "expert_name": name, "affiliation": affiliation, "field_of_expertise": field,
        "direct_interest": False, "conclusion": conclusion, "opinion": opinion,
        "signed_on": "2026-10-12",
    }
    if handle == "prof.zhang":  # signs with her registered key (see case.yaml)
        message = ExpertOpinionEvidence.model_validate(evidence).signed_bytes()
        evidence["signature_ed25519"] = signatures.sign(demo_key(handle), message)
    else:  # signed and sealed on paper; the scan's hash is recorded
        evidence["sealed_scan_sha256"] = hashlib.sha256(
            f"sealed scan of the opinion of {name}".encode()).hexdigest()
    return evidence


EXPERTS: dict[str, dict[str, Any]] = {o[0]: expert_opinion(*o) for o in _EXPERT_OPINIONS}

RISK: dict[str, Any] = {
    "areas": ["social_stability", "public_safety", "finance"],
    "risk_points": ["displacement into residential lanes", "complaints from night workers"],
    "prevention_measures": ["resident permits keep the night rate", "six-month review"],
    "response_plan": "Street offices collect complaints weekly; a hotline answers within 48 h.",
    "departments_consulted": ["District Public Security Bureau", "District Finance Bureau"],
    "controllable": True,
    "level": "low",
    "assessed_on": "2026-10-15",
}

LEGALITY: dict[str, Any] = {
    "received_on": "2026-11-02",
    "issued_on": "2026-11-13",
    "outcome": "lawful",
    "opinion": "The fee levels are within the price catalogue; procedure complied with.",
    "review_covers": ["authority", "procedure", "content"],
    "advisers_consulted": ["Government legal adviser Wu Qing", "Public-sector lawyer Zheng Hui"],
}

MEETING: dict[str, Any] = {
    "meeting_type": "executive",
    "held_on": "2026-11-20",
    "members_present": ["guo.deputy", "he.deputy", "ma.director", "lin.mayor"],
    "materials_received": ["draft", "public_opinion_adoption", "expert_opinion_adoption",
                           "risk_report", "legality_opinion"],
    "expert_opinion_adoption": (
        "Adopted: peak pricing near hospitals (Zhang) and lane monitoring (Chen). "
        "Partly adopted: revenue is published yearly, not ring-fenced (Zhou)."
    ),
    "statements": [
        {"speaker": "guo.deputy", "position": "for", "text": "Supports the scheme."},
        {"speaker": "ma.director", "position": "against",
         "text": "The night-worker exemption is too narrow."},
        {"speaker": "he.deputy", "position": "for", "text": "Supports a 6-month review."},
        {"speaker": "lin.mayor", "position": "for", "text": "Approved with a 6-month review."},
    ],
    "head": "lin.mayor",
    "head_decision": "approve",
    "decision_text": "The fee adjustment is approved from 2027-01-01, reviewed after 6 months.",
    "dissent": [{"member": "ma.director", "text": "The night-worker exemption is too narrow."}],
}

PUBLICATION: dict[str, Any] = {
    "published_on": "2026-11-24",
    "channels": ["gazette", "website"],
    "url": "https://www.bjhd.gov.cn/zwgk/decisions/parking-fees-2026",
    "adoption_explanation": "Public opinions: 9 clusters answered; experts: 3 opinions, 2 adopted.",
    "expert_adoption_explanation": (
        "Peak pricing and lane monitoring adopted; revenue is published yearly rather than "
        "ring-fenced."
    ),
    "party_committee_consulted_on": "2026-11-21",
    "party_committee_reference": "Haidian District Party Committee, reply 2026-117",
}

# The demo case's simulated clock (case.yaml) starts on 2026-09-01 at 09:00 in Beijing; the
# comment window dueprocess publishes then runs to 2026-10-01. Each stage is recorded on
# this date of the case clock, once what it declares has happened (all typed dates above
# fall between the opening and it): 30 days of comments, 7 working days of legality
# review after the package went out, the meeting after the opinion, publication after.
BEIJING = timezone(timedelta(hours=8))
STARTS_AT = datetime(2026, 9, 1, 9, 0, tzinfo=BEIJING)
RECORDED_ON: dict[str, date] = {
    "public_participation": date(2026, 10, 8),
    "expert_review": date(2026, 10, 12),
    "risk_assessment": date(2026, 10, 15),
    "legality_review": date(2026, 11, 13),
    "collective_decision": date(2026, 11, 20),
    "publication": date(2026, 11, 24),
    "filing": date(2026, 12, 1),
}


def recorded_at(stage_key: str) -> datetime:
    """The case time at which the demo records a stage: 10:00 in Beijing on its day."""
    return datetime.combine(RECORDED_ON[stage_key], time(10, 0), tzinfo=BEIJING)
