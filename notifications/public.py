"""What other capabilities may use of notifications (the one module they import).

The portal takes subscriptions through `subscribe`, `confirm` and `unsubscribe`; the
programme and the implementation pages prove a resident controls a channel with one-time
codes; any page links to a case with `case_url`.
"""

from __future__ import annotations

from notifications.content import case_url
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
    new_code,
    parse_code,
    secret_digest,
    send_code_to,
)
from notifications.subscriptions import confirm, subscribe, unsubscribe

__all__ = ["CODE_TTL", "GUESSES_COUNTED", "CodeRefused", "canonical_channel", "case_url",
           "code_text", "confirm", "count_guesses", "digest_matches", "guesses_spent",
           "log_counted_guesses", "new_code", "parse_code", "secret_digest", "send_code_to",
           "subscribe", "unsubscribe"]
