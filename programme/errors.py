"""The programme's refusals name their rule; each is audited on the chain it concerns."""

from __future__ import annotations

from dueprocess.errors import Refused
from dueprocess.rules.engine import Unmet

RULES = "programme rules"  # docs/programme.md lists each rule


def refused(rule: str, message: str) -> Refused:
    return Refused([Unmet(rule, RULES, message)])
