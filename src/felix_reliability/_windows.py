"""Bounded rolling windows of call outcomes: the last N calls, or the last T seconds.

Both windows answer the same question, "how many calls and how many failures
are in the window?", in O(1) memory that does not grow with traffic. Callers
serialize access (the breaker holds its lock); the windows take no lock.
"""

from __future__ import annotations

import math

__all__ = ["CountWindow", "TimeBuckets"]


class CountWindow:
    """The outcomes of the last `size` calls, in a ring of booleans."""

    __slots__ = ("_failures", "_filled", "_next", "_ring")

    def __init__(self, size: int) -> None:
        self._ring = bytearray(size)  # 1 = failure, 0 = success
        self._next = 0
        self._filled = 0
        self._failures = 0

    def add(self, successes: int, failures: int, now: float = 0.0) -> None:
        """Record *successes* successes, then *failures* failures."""
        del now  # a count window ignores time
        ring = self._ring
        size = len(ring)
        if successes >= size:
            # Older successes would be overwritten anyway: keep the last `size`.
            ring[:] = bytes(size)
            self._failures = 0
            self._filled = size
            successes = 0
        for flag, count in ((0, successes), (1, failures)):
            for _ in range(count):
                self._failures += flag - ring[self._next]
                ring[self._next] = flag
                self._next = (self._next + 1) % size
                self._filled = min(size, self._filled + 1)

    def totals(self, now: float = 0.0) -> tuple[int, int]:
        """Return ``(calls, failures)`` in the window."""
        del now
        return self._filled, self._failures

    def clear(self) -> None:
        """Forget every outcome."""
        self._ring[:] = bytes(len(self._ring))
        self._next = self._filled = self._failures = 0


class TimeBuckets:
    """Calls and failures of the last `seconds`, in `buckets` equal time buckets.

    A bucket covers ``seconds / buckets``; an outcome lands in the bucket of
    its time, and a bucket older than the window is recycled for the next
    period. The window's edge is therefore accurate to one bucket.
    """

    __slots__ = ("_calls", "_epochs", "_failures", "_width")

    def __init__(self, seconds: float, buckets: int = 10) -> None:
        self._width = seconds / buckets
        self._epochs = [-1] * buckets
        self._calls = [0] * buckets
        self._failures = [0] * buckets

    def _slot(self, now: float) -> int:
        epoch = math.floor(now / self._width)
        slot = epoch % len(self._epochs)
        if self._epochs[slot] != epoch:
            self._epochs[slot] = epoch
            self._calls[slot] = 0
            self._failures[slot] = 0
        return slot

    def add(self, successes: int, failures: int, now: float = 0.0) -> None:
        """Record outcomes that happened at *now*."""
        slot = self._slot(now)
        self._calls[slot] += successes + failures
        self._failures[slot] += failures

    def totals(self, now: float = 0.0) -> tuple[int, int]:
        """Return ``(calls, failures)`` of the buckets still inside the window at *now*."""
        oldest = math.floor(now / self._width) - len(self._epochs) + 1
        calls = failures = 0
        for slot, epoch in enumerate(self._epochs):
            if epoch >= oldest:
                calls += self._calls[slot]
                failures += self._failures[slot]
        return calls, failures

    def clear(self) -> None:
        """Forget every outcome."""
        size = len(self._epochs)
        self._epochs = [-1] * size
        self._calls = [0] * size
        self._failures = [0] * size
