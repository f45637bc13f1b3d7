"""Client-side pacing of REST calls (coolkit-cloud.md §11).

CoolKit asks for at least 500 ms between calls to one endpoint and at most 300 calls per
5 minutes from one IP. Every call reserves a slot that honours both rules, then sleeps until
it; reservations are made without awaiting, so concurrent callers can never overtake the limits.
Share one limiter between every client of one host (one Home Assistant instance).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable
import time

# 500 ms is the documented minimum; the margin absorbs network jitter between two calls.
MIN_INTERVAL = 0.6
MAX_CALLS = 300
WINDOW = 300.0


class RateLimiter:
    """Space calls per key and cap them in a sliding window."""

    def __init__(
        self,
        min_interval: float = MIN_INTERVAL,
        max_calls: int = MAX_CALLS,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a limiter; the defaults are CoolKit's documented limits (with a margin)."""
        self._min_interval = min_interval
        self._window = window
        self._clock = clock
        self._max_calls = max_calls
        self._last: dict[str, float] = {}
        self._slots: list[float] = []  # the latest `max_calls` reserved slots, sorted

    def reserve(self, key: str, min_interval: float | None = None) -> float:
        """Reserve the next allowed slot for `key`; return how long to wait for it."""
        now = self._clock()
        interval = self._min_interval if min_interval is None else min_interval
        slot = now
        if (last := self._last.get(key)) is not None:
            slot = max(slot, last + interval)
        if len(self._slots) == self._max_calls:
            # Any window holding the new slot then holds fewer than max_calls older ones.
            slot = max(slot, self._slots[0] + self._window)
        self._last[key] = slot
        bisect.insort(self._slots, slot)
        if len(self._slots) > self._max_calls:
            del self._slots[0]
        return slot - now

    async def acquire(self, key: str, min_interval: float | None = None) -> None:
        """Wait until a call to `key` is allowed."""
        if (delay := self.reserve(key, min_interval)) > 0:
            await asyncio.sleep(delay)
