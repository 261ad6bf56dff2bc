"""What other capabilities may use of notifications (the one module they import).

The portal takes subscriptions through `subscribe`, `confirm` and `unsubscribe`; the
programme and the implementation pages prove a resident controls a channel with one-time
codes (the message in the resident's language: `code_message`); any page links to a case
with `case_url`.
"""

from __future__ import annotations

from notifications.content import case_url
from notifications.one_time_codes import CODE_TTL, new_code, send_code_to
from notifications.render import code_message
from notifications.subscriptions import confirm, subscribe, unsubscribe

__all__ = ["CODE_TTL", "case_url", "code_message", "confirm", "new_code", "send_code_to",
           "subscribe", "unsubscribe"]
