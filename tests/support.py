"""Helpers shared by tests: the demo submissions in stage order."""

from __future__ import annotations

from typing import Any

from dueprocess.demo import submissions

# (stage, recorder, evidence) in an order the procedure allows.
VALID_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("public_participation", "li.wei", submissions.PARTICIPATION),
    *[("expert_review", handle, opinion) for handle, opinion in submissions.EXPERTS.items()],
    ("risk_assessment", "liu.yang", submissions.RISK),
    ("legality_review", "sun.hao", submissions.LEGALITY),
    ("collective_decision", "zhao.li", submissions.MEETING),
    ("publication", "qian.yu", submissions.PUBLICATION),
]
