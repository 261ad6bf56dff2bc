"""Per-client sliding-window rate limit for the portal's POST endpoints (in memory, per
process: run one portal process per address, or put a shared limiter in front)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, *, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, *, now: float | None = None) -> float | None:
        """Record a hit; None when allowed, else seconds until the client may try again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            if len(hits) >= self.count:
                return hits[0] + self.seconds - now
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle clients; bounded memory
                self._hits = {k: v for k, v in self._hits.items() if v}
            return None
