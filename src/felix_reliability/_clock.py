"""Time as a seam: every component that waits or measures takes a `Clock`."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """The source of time for everything that waits or measures durations.

    `monotonic` measures durations; `wall` is for timestamps only.

    .. versionadded:: 0.1.0
    """

    def monotonic(self) -> float:
        """Return seconds from an arbitrary, never decreasing origin."""
        ...

    def wall(self) -> float:
        """Return the wall-clock time as epoch seconds (for timestamps only)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for *seconds*."""
        ...

    async def sleep_async(self, seconds: float) -> None:
        """Suspend the calling task for *seconds*."""
        ...


class SystemClock:
    """The real clock: `time.monotonic`, `time.time`, `time.sleep`, `asyncio.sleep`.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def wall(self) -> float:
        """Return `time.time()`."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Sleep with `time.sleep`."""
        time.sleep(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Sleep with `asyncio.sleep`."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"
