"""Audiences are Apprise tags: `public` (every public subscriber), `case-<id>` (followers
of one case), `officials`, `reviewers-<stage key>` (the reviewers of a stage) and
`hearing-<id>` (the participants of one hearing, `models.hearings`)."""

from __future__ import annotations

PUBLIC = "public"
OFFICIALS = "officials"


def case_tag(case_id: str) -> str:
    return f"case-{case_id}"


def reviewers_tag(stage_key: str) -> str:
    return f"reviewers-{stage_key}"


def named_for_notice(tag: str) -> bool:
    """A tag whose channels were named for the notices sent to it (a hearing's
    participants): they receive them whenever they are sent out, unlike a subscriber
    who confirmed after a notice was queued."""
    return tag.startswith("hearing-")
