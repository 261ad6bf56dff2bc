"""What the demo's scripted reviewers record, stage by stage (valid unless named otherwise)."""

from __future__ import annotations

from typing import Any

PARTICIPATION: dict[str, Any] = {
    "call_published_on": "2026-08-31",
    "call_url": "https://www.bjhd.gov.cn/consultation/parking-fees-2026",
    "window_opens": "2026-09-01",
    "window_closes": "2026-10-08",
    "opinions_received": 412,
    "adoption_statement": (
        "412 opinions in 9 clusters. Adopted: free drop-off extended to 15 minutes (131). "
        "Partly adopted: school-zone hours (88). Not adopted: flat fee for all zones (54), "
        "because zone pricing is the legal basis of the scheme."
    ),
}

# Refused: a 19-day window without a stated reason (Art. 15).
PARTICIPATION_SHORT_WINDOW: dict[str, Any] = {
    **PARTICIPATION, "window_closes": "2026-09-20",
}

EXPERTS: dict[str, dict[str, Any]] = {
    handle: {
        "expert_name": name, "affiliation": affiliation, "field_of_expertise": field,
        "direct_interest": False, "conclusion": conclusion, "opinion": opinion,
        "signed_on": "2026-10-12",
    }
    for handle, name, affiliation, field, conclusion, opinion in (
        ("prof.zhang", "Zhang Min", "Tsinghua University", "transport economics",
         "supports", "Peak pricing near hospitals is well supported by cruising data."),
        ("prof.chen", "Chen Jie", "Beijing Jiaotong University", "traffic engineering",
         "supports_with_changes", "Monitor displacement into residential lanes."),
        ("dr.zhou", "Zhou Lan", "Beijing Transport Institute", "public finance",
         "opposes", "Revenue use is not ring-fenced; publish it."),
    )
}

RISK: dict[str, Any] = {
    "risk_points": ["displacement into residential lanes", "complaints from night workers"],
    "prevention_measures": ["resident permits keep the night rate", "six-month review"],
    "response_plan": "Street offices collect complaints weekly; a hotline answers within 48 h.",
    "controllable": True,
    "level": "low",
    "assessed_on": "2026-10-15",
}

LEGALITY: dict[str, Any] = {
    "received_on": "2026-11-02",
    "issued_on": "2026-11-13",
    "outcome": "lawful",
    "opinion": "The fee levels are within the price catalogue; procedure complied with.",
}

MEETING: dict[str, Any] = {
    "meeting_type": "executive",
    "held_on": "2026-11-20",
    "members_present": ["Deputy Mayor Guo", "Deputy Mayor He", "Director Ma", "Mayor Lin"],
    "statements": [
        {"speaker": "Deputy Mayor Guo", "position": "for", "text": "Supports the scheme."},
        {"speaker": "Director Ma", "position": "against",
         "text": "The night-worker exemption is too narrow."},
        {"speaker": "Deputy Mayor He", "position": "for", "text": "Supports a 6-month review."},
        {"speaker": "Mayor Lin", "position": "for", "text": "Approved with a 6-month review."},
    ],
    "head": "Mayor Lin",
    "head_decision": "approve",
    "decision_text": "The fee adjustment is approved from 2027-01-01, reviewed after 6 months.",
    "dissent": [{"member": "Director Ma", "text": "The night-worker exemption is too narrow."}],
}

PUBLICATION: dict[str, Any] = {
    "published_on": "2026-11-24",
    "channels": ["gazette", "website"],
    "url": "https://www.bjhd.gov.cn/zwgk/decisions/parking-fees-2026",
    "adoption_explanation": "Public opinions: 9 clusters answered; experts: 3 opinions, 2 adopted.",
}
