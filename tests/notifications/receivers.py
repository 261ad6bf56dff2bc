"""A real SMTP receiver (aiosmtpd) on loopback that honours the Idempotency-Key header."""

from __future__ import annotations

import email
import threading
from collections import Counter
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from dueprocess.stack.processes import free_port


class SmtpReceiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.accepted: list[Message] = []
        self.arrivals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=dueprocess@example.org"
                f"&to=citizen@example.org")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        key = str(message.get("Idempotency-Key", ""))
        with self._lock:
            self.arrivals[key] += 1
            if self.arrivals[key] == 1 or not key:
                self.accepted.append(message)
        return "250 OK"

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m.get("Idempotency-Key", "")) for m in self.accepted)

    def start(self) -> SmtpReceiver:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")
