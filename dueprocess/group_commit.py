"""Group commit: requests that arrive together are stored in one transaction.

A request hands its checked item to the process's writers and waits on a future; a
writer takes every item waiting (up to `max_batch`) and calls `store(batch)`, which must
answer each item's future (a result once committed, or the refusal). Two writers, so one
stores its batch while the other holds the log head to append its own. Writers start on
the first item of a process (and again in a forked child). Used by the portal's comment
intake and the programme's vote intake.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, Protocol, TypeVar


class Pending(Protocol):
    @property
    def future(self) -> Future[Any]: ...


P = TypeVar("P", bound=Pending)


class GroupCommit(Generic[P]):
    def __init__(self, name: str, store: Callable[[list[P]], None], *,
                 max_batch: int = 500, writers: int = 2) -> None:
        self.name, self.store = name, store
        self.max_batch, self.writers = max_batch, writers
        self.queue: queue.SimpleQueue[P] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.pid = 0

    def submit(self, pending: P) -> Future[Any]:
        with self.lock:
            if self.pid != os.getpid():  # first item of this process (or of a fork)
                self.queue = queue.SimpleQueue()
                self.pid = os.getpid()
                for n in range(self.writers):
                    threading.Thread(target=self._run, name=f"{self.name}-{n}",
                                     daemon=True).start()
        self.queue.put(pending)
        return pending.future

    def _run(self) -> None:
        source = self.queue
        while True:
            batch = [source.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(source.get_nowait())
                except queue.Empty:
                    break
            try:
                self.store(batch)
            except BaseException as exc:  # answer every waiting request, keep the writer
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
