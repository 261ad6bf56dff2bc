"""The implementation rules' refusals name their rule; each is audited on the chain it
concerns (docs/implementation.md lists the rules)."""

from __future__ import annotations

from dueprocess.errors import Refused
from dueprocess.rules.engine import Unmet

RULES = "implementation rules"


def refused(rule: str, message: str) -> Refused:
    return Refused([Unmet(rule, RULES, message)])
