"""Helpers for testing code that uses felix-reliability.

`FakeClock` replaces `SystemClock` so that tests never wait for real: sleeping
advances the fake time at once and is recorded.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import asyncio
import threading

from felix_reliability._fake_telegram import FakeTelegramServer
from felix_reliability._testing_mode import instant_retries, set_testing
from felix_reliability._validation import check_non_negative_float

__all__ = [
    "FakeClock",
    "FakeTelegramServer",
    "instant_retries",
    "set_testing",
]


class FakeClock:
    """A clock that never really sleeps.

    `sleep` and `sleep_async` advance the time by the requested amount and
    append it to `sleeps`; `advance` moves the time without recording a sleep.
    `wall` is `wall_start` plus the time elapsed since `start`. It is safe to
    share between threads.

    Args:
        start: The initial value of `monotonic()`.
        wall_start: The initial value of `wall()`, in epoch seconds
            (default 1,700,000,000: 2023-11-14T22:13:20Z).

    >>> clock = FakeClock()
    >>> clock.sleep(1.5)
    >>> clock.monotonic(), clock.sleeps
    (1.5, [1.5])

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_lock", "_now", "_start", "_wall_start", "sleeps")

    def __init__(self, start: float = 0.0, *, wall_start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._start = float(start)
        self._now = float(start)
        self._wall_start = float(wall_start)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self._now

    def wall(self) -> float:
        """Return the fake wall-clock time in epoch seconds."""
        return self._wall_start + (self._now - self._start)

    def advance(self, seconds: float) -> None:
        """Move the time forward by *seconds* without recording a sleep.

        Raises:
            ValueError: If *seconds* is negative or not finite.
        """
        step = check_non_negative_float("seconds", seconds)
        with self._lock:
            self._now += step

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance the time by *seconds* at once.

        Raises:
            ValueError: If *seconds* is negative or not finite.
        """
        step = check_non_negative_float("seconds", seconds)
        with self._lock:
            self.sleeps.append(step)
            self._now += step

    async def sleep_async(self, seconds: float) -> None:
        """Like `sleep`, then yield to the event loop once, as a real sleep would."""
        self.sleep(seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"FakeClock(monotonic={self._now!r}, sleeps={len(self.sleeps)})"
