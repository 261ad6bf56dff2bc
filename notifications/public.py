"""What other capabilities may use of notifications (the one module they import).

The portal takes subscriptions through `subscribe`, `confirm` and `unsubscribe`; the
programme and the implementation pages prove a resident controls a channel with one-time
codes (the message in the resident's language: `code_message`); any page links to a case
with `case_url`; an item's events reach its followers through `queue_item_event`.
"""

from __future__ import annotations

from notifications.content import case_url
from notifications.followers import (
    follow_item,
    follow_with_proven_channel,
    item_tag,
    proposal_tag,
    queue_item_digests,
    queue_item_event,
)
from notifications.one_time_codes import (
    CODE_TTL,
    GUESSES_COUNTED,
    CodeRefused,
    canonical_channel,
    code_text,
    count_guesses,
    digest_matches,
    guesses_spent,
    log_counted_guesses,
    log_finished_minutes,
    new_code,
    parse_code,
    secret_digest,
    send_code_to,
)
from notifications.render import code_message
from notifications.subscriptions import confirm, subscribe, unsubscribe

__all__ = [
    "CODE_TTL",
    "GUESSES_COUNTED",
    "CodeRefused",
    "canonical_channel",
    "case_url",
    "code_message",
    "code_text",
    "confirm",
    "count_guesses",
    "digest_matches",
    "follow_item",
    "follow_with_proven_channel",
    "guesses_spent",
    "item_tag",
    "log_counted_guesses",
    "log_finished_minutes",
    "new_code",
    "parse_code",
    "proposal_tag",
    "queue_item_digests",
    "queue_item_event",
    "secret_digest",
    "send_code_to",
    "subscribe",
    "unsubscribe",
]
