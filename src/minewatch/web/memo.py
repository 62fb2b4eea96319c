"""Read-only figures kept for a moment, while nothing has changed.

The dashboard and the bulletins aggregate many rows, and fifty officials open them at once. Every
write to a case, a project or a public report appends to the audit chain, so a figure computed
at one position of the chain (:func:`minewatch.domain.dashboard.figures.chain_position`) holds
until the chain moves on: a :class:`Memo` keeps results under a key that includes that
position, for at most ``ttl_s`` seconds (figures that depend on the clock, such as overdue
counts, are at most that stale). Each app has its own memo (``app.state``), so two databases
never share one. The caller has already checked the actor's region: keys carry the region, and
nothing is kept that a caller could not have computed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")

TTL_S = 60.0
MAX_ENTRIES = 1024


class Memo:
    """A small least-recently-used store of computed results with an age limit."""

    def __init__(self, *, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result kept under ``key``, else ``compute()`` (kept for next time)."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self.ttl_s:
                self._entries.move_to_end(key)
                value: T = found[1]
                return value
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def memo_of(request: Request) -> Memo:
    """The app's memo (made on first use)."""
    state = request.app.state
    memo = getattr(state, "memo", None)
    if memo is None:
        memo = Memo()
        state.memo = memo
    assert isinstance(memo, Memo)
    return memo
