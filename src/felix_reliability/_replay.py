"""Replaying dead letters, and the flag that tells a Guard a replay is running."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._dead_letters import DeadLetter, DeadLetterReason, DeadLetterStore
from felix_reliability._validation import (
    check_count,
    check_non_negative_float,
    check_positive_float,
)
from felix_reliability.exceptions import CircuitOpenError

__all__ = ["DEFAULT_PENDING_GRACE", "ReplayReport", "is_replaying", "replay_dead_letters"]

#: Seconds a ``pending`` letter must have waited before replay treats it as abandoned.
DEFAULT_PENDING_GRACE: Final = 600.0

_PAGE: Final = 100
_REPLAYING: ContextVar[bool] = ContextVar("felix_reliability_replaying", default=False)


def is_replaying() -> bool:
    """Return whether the current context is a replay handler's call.

    A Guard reads this and writes no new letter for a replayed call: the
    letter being replayed stays in the store when the handler raises.
    """
    return _REPLAYING.get()


def _no_ids() -> list[str]:
    return []


@attrs.frozen
class ReplayReport:
    """What a replay did, as lists of letter ids in the order they were met.

    Attributes:
        replayed: Letters the handler accepted; they were deleted.
        failed: Letters the handler refused; they stay with ``replay_count + 1``.
        skipped: Letters not offered to the handler: refused *max_replays*
            times already, or ``pending`` letters younger than the grace period.
        circuit_open: Whether the replay stopped at a `CircuitOpenError`
            (that letter and the rest were left untouched).

    .. versionadded:: 0.1.0
    """

    replayed: list[str] = attrs.field(factory=_no_ids)
    failed: list[str] = attrs.field(factory=_no_ids)
    skipped: list[str] = attrs.field(factory=_no_ids)
    circuit_open: bool = False


def replay_dead_letters(
    store: DeadLetterStore,
    handler: Callable[[DeadLetter], object],
    *,
    operation: str | None = None,
    limit: int | None = None,
    max_replays: int = 5,
    rate: float | None = None,
    pending_grace: float = DEFAULT_PENDING_GRACE,
    clock: Clock | None = None,
    progress: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Offer stored letters to *handler*, oldest first, and settle each one.

    The handler returns normally to accept a letter (it is deleted) or raises
    to refuse it (it stays, with ``replay_count + 1``). A `CircuitOpenError`
    from the handler stops the replay at once and leaves that letter and the
    rest untouched. While the handler runs, a Guard inside it writes no new
    letter. Delivery is at least once: make the handler idempotent, with the
    letter's ``id`` as the idempotency key.

    Args:
        store: Where the letters are.
        handler: Called with each letter.
        operation: Only letters of this operation.
        limit: Offer at most this many letters to the handler (default: all).
        max_replays: Skip letters already refused this many times.
        rate: At most this many letters per second (default: no pacing).
        pending_grace: Seconds a ``pending`` (write-ahead) letter must be old
            before it counts as abandoned and is replayed; younger ones are
            skipped, since their call may still be running.
        clock: Paces *rate* and tells the age of ``pending`` letters.
        progress: Called with the report so far after each letter.

    Returns:
        The `ReplayReport`.

    Raises:
        ValueError: If a parameter is out of range.

    .. versionadded:: 0.1.0
    """
    check_count("limit", limit, allow_none=True)
    check_count("max_replays", max_replays)
    interval = 0.0 if rate is None else 1.0 / check_positive_float("rate", rate)
    grace = timedelta(seconds=check_non_negative_float("pending_grace", pending_grace))
    clock = clock or SystemClock()
    report = ReplayReport()
    offered = 0
    next_at: float | None = None
    offset = 0
    while True:
        page = store.list(operation=operation, limit=_PAGE, offset=offset)
        for letter in page:
            if not _due(letter, max_replays, grace, clock):
                report.skipped.append(letter.id)
                offset += 1
            else:
                if limit is not None and offered >= limit:
                    return report
                if next_at is not None and next_at > clock.monotonic():
                    clock.sleep(next_at - clock.monotonic())
                next_at = clock.monotonic() + interval
                offered += 1
                outcome = _offer(store, handler, letter)
                if outcome is None:
                    return attrs.evolve(report, circuit_open=True)
                (report.replayed if outcome else report.failed).append(letter.id)
                offset += 0 if outcome else 1
            if progress is not None:
                progress(report)
        if len(page) < _PAGE:
            return report


def _due(letter: DeadLetter, max_replays: int, grace: timedelta, clock: Clock) -> bool:
    """Say whether *letter* may be offered: not refused too often, not a young pending one."""
    if letter.replay_count >= max_replays:
        return False
    return (
        letter.reason is not DeadLetterReason.PENDING
        or datetime.fromtimestamp(clock.wall(), UTC) - letter.created_at >= grace
    )


def _offer(
    store: DeadLetterStore, handler: Callable[[DeadLetter], object], letter: DeadLetter
) -> bool | None:
    """Run the handler on *letter*; settle it; return accepted, refused, or None (circuit open)."""
    token = _REPLAYING.set(True)
    try:
        handler(letter)
    except CircuitOpenError:
        return None
    except Exception:  # noqa: BLE001 - any refusal keeps the letter for later
        store.update(attrs.evolve(letter, replay_count=letter.replay_count + 1))
        return False
    finally:
        _REPLAYING.reset(token)
    store.delete(letter.id)
    return True
