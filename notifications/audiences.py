"""Audiences are Apprise tags: `public` (every public subscriber), `case-<id>` (followers
of one case), `officials`, and `reviewers-<stage key>` (the reviewers of a stage)."""

from __future__ import annotations

PUBLIC = "public"
OFFICIALS = "officials"


def case_tag(case_id: str) -> str:
    return f"case-{case_id}"


def reviewers_tag(stage_key: str) -> str:
    return f"reviewers-{stage_key}"
