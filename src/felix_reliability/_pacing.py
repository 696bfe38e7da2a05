"""Client-side pacing for the Telegram notifiers: per chat, global, and pauses after a 429.

A `Pacer` decides, under one lock, whether a message may go now: at least
``per_chat_interval`` seconds after the previous message to the same chat, at
least ``1 / global_rate`` seconds after the previous message to any chat,
and not while the chat (or the whole bot) is paused by a 429. If it may, the
send is recorded at that instant (the check and the record are one step, so
two threads never both take the same slot); if not, the caller sleeps until
the earliest moment it could go, outside the lock, and asks again. Waiting
callers are not served in order: after a sleep they compete again, which
costs nothing in correctness and keeps the state to two numbers per chat.

The global limit is a minimum spacing, not a token bucket: no bursts, so in
any window of one second at most ``ceil(global_rate)`` messages go out.

Memory is bounded: a chat is forgotten as soon as it may send again (its
previous message is older than ``per_chat_interval``), so with a finite
``global_rate`` at most ``global_rate * per_chat_interval + 1`` chats are
tracked for spacing, plus the chats paused by a 429 until their pause ends.
"""

from __future__ import annotations

import math
import threading
from typing import Final

import attrs

from felix_reliability._clock import Clock
from felix_reliability._telegram_api import TelegramPacingError
from felix_reliability._validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)

__all__ = ["MAX_PAUSE", "Pacer", "TelegramPacing"]

# Float sums (now + wait) may land a hair before the target; closer than this counts as there.
_TOLERANCE: Final = 1e-6
# A 429 pauses at most this long: a broken or hostile retry_after (say 1e12 s) must not
# stop a chat, or with a flood every chat, for good. If Telegram still refuses, the
# next 429 pauses again.
MAX_PAUSE: Final = 3600.0


def _per_chat_interval(value: object) -> float:
    return check_non_negative_float("per_chat_interval", value)


def _global_rate(value: object) -> float:
    return check_positive_float("global_rate", value, allow_inf=True)


def _flood_chats(value: object) -> int:
    return check_positive_int("flood_chats", value)


@attrs.frozen
class TelegramPacing:
    """How fast a notifier may send: Telegram's limits, kept on the client side.

    Give it to `TelegramNotifier` or `AsyncTelegramNotifier` as *pacing*:
    all sends of that notifier (all threads, all tasks) share one schedule.
    A message that would have to wait past its send's deadline is not sent:
    the send fails at once and is dead-lettered.

    Args:
        per_chat_interval: The least time between two messages to one chat,
            in seconds (Telegram: about 1 per second; 0 for no limit).
        global_rate: Messages per second to all chats together (Telegram:
            about 30); they are spaced evenly, ``1 / global_rate`` apart
            (``math.inf`` for no limit).
        flood_chats: A 429 pauses its chat for ``retry_after``; when this
            many chats are paused at once, it is taken for a global flood
            wait and pauses every chat. Telegram's answer does not say which
            limit was hit; one chat throttled while the client keeps the
            per-chat pace hints at a global limit only when others are too.
            1 pauses everything on every 429.

    Raises:
        TypeError: If a value is not a number (the message names it).
        ValueError: If a value is out of range (the message names it).

    >>> from felix_reliability.adapters.telegram import TelegramPacing
    >>> TelegramPacing()
    TelegramPacing(per_chat_interval=1.0, global_rate=30.0, flood_chats=2)
    >>> TelegramPacing(global_rate=0)
    Traceback (most recent call last):
    ...
    felix_reliability.exceptions.ConfigurationError: global_rate must be a finite number > 0, got 0

    .. versionadded:: 0.1.0
    """

    per_chat_interval: float = attrs.field(default=1.0, converter=_per_chat_interval)
    global_rate: float = attrs.field(default=30.0, converter=_global_rate)
    flood_chats: int = attrs.field(default=2, converter=_flood_chats)


@attrs.define
class Pacer:
    """The shared schedule of one notifier (see the module docstring)."""

    pacing: TelegramPacing
    clock: Clock
    _spacing: float = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    # chat -> time of its last message, oldest first (re-inserted on each send).
    _last: dict[int | str, float] = attrs.field(init=False, factory=dict[int | str, float])
    # chat -> end of its pause after a 429.
    _paused: dict[int | str, float] = attrs.field(init=False, factory=dict[int | str, float])
    _global_last: float = attrs.field(init=False, default=-math.inf)
    _global_paused: float = attrs.field(init=False, default=-math.inf)

    def __attrs_post_init__(self) -> None:
        self._spacing = 1.0 / self.pacing.global_rate

    def tracked_chats(self) -> int:
        """Return how many chats the pacer holds state for (for tests of the bound)."""
        with self._lock:
            return len(self._last.keys() | self._paused.keys())

    def acquire(self, chat_id: int | str, deadline_at: float) -> None:
        """Wait until a message to *chat_id* may go, and record it; sleeps with the clock.

        Raises:
            TelegramPacingError: The message could not go before *deadline_at*.
        """
        while (wait := self._try(chat_id, deadline_at)) > 0:
            self.clock.sleep(wait)

    async def acquire_async(self, chat_id: int | str, deadline_at: float) -> None:
        """Like `acquire`, sleeping with ``clock.sleep_async``."""
        while (wait := self._try(chat_id, deadline_at)) > 0:
            await self.clock.sleep_async(wait)

    def _try(self, chat_id: int | str, deadline_at: float) -> float:
        """Record a message to *chat_id* now and return 0, or return how long to wait first.

        Raises:
            TelegramPacingError: The wait would end at or after *deadline_at*.
        """
        with self._lock:
            now = self.clock.monotonic()
            self._forget(now)
            ready = max(
                self._last.get(chat_id, -math.inf) + self.pacing.per_chat_interval,
                self._paused.get(chat_id, -math.inf),
                self._global_last + self._spacing,
                self._global_paused,
            )
            if ready - now <= _TOLERANCE:
                self._last.pop(chat_id, None)
                self._last[chat_id] = now
                self._global_last = now
                return 0.0
            if ready >= deadline_at:
                raise TelegramPacingError(chat_id, ready - now, deadline_at - now)
            return ready - now

    def _forget(self, now: float) -> None:
        """Drop chats that may send again (oldest first) and pauses that ended."""
        interval = self.pacing.per_chat_interval
        last = self._last
        while last:
            chat = next(iter(last))
            if last[chat] + interval > now + _TOLERANCE:
                break
            del last[chat]
        if self._paused:
            for chat in [chat for chat, until in self._paused.items() if until <= now]:
                del self._paused[chat]

    def pause(self, chat_id: int | str, retry_after: float) -> None:
        """Pause *chat_id* for *retry_after* seconds (at most an hour) after a 429.

        When ``flood_chats`` chats are paused at once, every chat is paused.
        """
        with self._lock:
            now = self.clock.monotonic()
            self._forget(now)
            until = now + min(retry_after, MAX_PAUSE)
            self._paused[chat_id] = max(self._paused.get(chat_id, -math.inf), until)
            if len(self._paused) >= self.pacing.flood_chats:
                self._global_paused = max(self._global_paused, until)
