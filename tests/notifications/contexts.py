"""A notice's context with every field a notice template may read (the templates are
strict: a field missing here fails the render), filled with the text a test chooses."""

from __future__ import annotations

from typing import Any


def notice_context(*, text: str, title: str, legal_basis: list[str], stage: dict[str, Any],
                   evidence: list[dict[str, Any]]) -> dict[str, Any]:
    case = {"id": "dp-2026-abcdef", "title": title, "summary": text, "organ": text,
            "undertaking_unit": text, "legal_basis": legal_basis}
    return {
        "case": case, "case_url": "http://127.0.0.1:8000/cases/dp-2026-abcdef",
        "draft": {"title": text, "text": text, "version": 1, "sha256": "ab" * 32},
        "consultation": {"opens_on": "2026-11-01", "closes_on": "2026-11-20", "days": 19,
                         "closes_at": {"zh-CN": "2026年11月20日 24:00（北京时间）",
                                       "en": "2026-11-20 24:00 Beijing time"},
                         "shortened_reason": text},
        "hearing": {"held_on": "2026-12-20", "place": text, "selection_method": text,
                    "participants": [text]},
        "stage": stage,
        "decision": {"outcome": "approve", "text": text, "decided_by": text,
                     "decided_on": "2026-11-20"},
        "participation": {"opinions_received": 3, "adoption_statement": text},
        "experts": {"count": 2, "conclusions": {"supports": 1, "opposes": 1}},
        "risk": {"controllable": True, "level": "low"},
        "legality": {"outcome": "lawful"},
        "publication": {"url": "https://example.org/p", "published_on": "2026-11-24",
                        "adoption_explanation": text},
        "evidence": evidence,
        "progress": {"text": text, "percent": 40, "reported_by": text, "as_of": "2027-03-01"},
        "item": {"id": 3, "title": text, "department": text, "url": "https://example.org/i/3"},
        "milestone": {"title": text, "due_on": "2027-03-01"},
        "reason": "residents", "requests": 100,
        "event": "progress", "summary": text, "occurred": "2027-03-01 09:30",
        "day": "2027-03-01", "events": [{"subject": text, "text": text}],
        "evaluation_url": "http://127.0.0.1:8000/programme/evaluations/dp-2026-abcdef",
    }
