"""The Pacer's schedule on a FakeClock: per-chat spacing, global spacing, pauses, deadlines."""

from __future__ import annotations

import asyncio
import itertools
import math
import pickle
from collections import defaultdict

import pytest
from hypothesis import given

from felix_reliability._pacing import MAX_PAUSE, Pacer
from felix_reliability._telegram_api import TelegramPacingError, breaker_outcome, is_retryable
from felix_reliability.adapters.telegram import TelegramPacing
from felix_reliability.testing import FakeClock
from tests.strategies_pacing import operations, pacings

FAR = 1e9  # a deadline that never binds
TOLERANCE = 1e-6


def pacer(**options: float) -> tuple[Pacer, FakeClock]:
    clock = FakeClock()
    return Pacer(TelegramPacing(**options), clock), clock  # type: ignore[arg-type]


def test_defaults_are_telegrams_limits() -> None:
    """One message per second per chat, 30 per second in all, a flood at two paused chats."""
    assert (
        TelegramPacing().per_chat_interval,
        TelegramPacing().global_rate,
        TelegramPacing().flood_chats,
    ) == (1.0, 30.0, 2)


def test_one_chat_is_spaced_by_the_interval() -> None:
    """Three messages to one chat go at 0, 1 and 2 s."""
    p, clock = pacer()
    times = []
    for _ in range(3):
        p.acquire(42, FAR)
        times.append(clock.monotonic())
    assert times == [0.0, 1.0, 2.0]
    assert clock.sleeps == [1.0, 1.0]


def test_different_chats_are_spaced_by_the_global_rate() -> None:
    """Messages to different chats wait only 1 / global_rate for each other."""
    p, clock = pacer(global_rate=4.0)
    for chat in (1, 2, 3):
        p.acquire(chat, FAR)
    assert clock.sleeps == [0.25, 0.25]


def test_no_wait_when_the_chat_was_idle() -> None:
    """A chat whose last message is older than the interval sends at once."""
    p, clock = pacer()
    p.acquire(1, FAR)
    clock.advance(1.5)
    p.acquire(1, FAR)
    assert clock.sleeps == []


def test_zero_interval_and_infinite_rate_never_wait() -> None:
    """per_chat_interval=0 and global_rate=inf turn both limits off."""
    p, clock = pacer(per_chat_interval=0.0, global_rate=math.inf)
    for _ in range(5):
        p.acquire(1, FAR)
    assert clock.sleeps == []


def test_a_pause_holds_its_chat_only() -> None:
    """After pause(A, 5), A waits 5 s; B only waits for the global spacing."""
    p, clock = pacer(global_rate=10.0)
    p.pause("A", 5.0)
    p.acquire("B", FAR)
    p.acquire("A", FAR)
    assert [pytest.approx(5.0)] == clock.sleeps
    assert pytest.approx(5.0) == clock.monotonic()


def test_a_pause_may_only_lengthen() -> None:
    """A shorter second pause of the same chat does not cut the first short."""
    p, clock = pacer()
    p.pause("A", 5.0)
    p.pause("A", 1.0)
    p.acquire("A", FAR)
    assert clock.sleeps == [5.0]


def test_a_pause_lasts_at_most_an_hour() -> None:
    """An absurd retry_after (1e12 s) pauses the chat for MAX_PAUSE only."""
    p, clock = pacer()
    p.pause("A", 1e12)
    p.acquire("A", FAR)
    assert clock.sleeps == [MAX_PAUSE]


def test_paused_chats_at_once_pause_everything() -> None:
    """With flood_chats=2, a second paused chat pauses every chat: a global flood wait."""
    p, clock = pacer()
    p.pause("A", 3.0)
    p.pause("B", 4.0)
    p.acquire("C", FAR)
    assert clock.sleeps == [4.0]


def test_flood_chats_one_pauses_everything_on_any_429() -> None:
    """flood_chats=1: every 429 is taken for a global flood wait."""
    p, clock = pacer(flood_chats=1)
    p.pause("A", 2.0)
    p.acquire("C", FAR)
    assert clock.sleeps == [2.0]


def test_an_ended_pause_does_not_count_towards_a_flood() -> None:
    """A pause that ended is forgotten: a later 429 on another chat pauses that chat only."""
    p, clock = pacer()
    p.pause("A", 1.0)
    clock.advance(2.0)
    p.pause("B", 3.0)
    p.acquire("C", FAR)
    assert clock.sleeps == []


def test_a_wait_past_the_deadline_raises_without_sleeping() -> None:
    """The pacer refuses at once when the message could not go before the deadline."""
    p, clock = pacer()
    p.acquire(7, FAR)
    with pytest.raises(TelegramPacingError) as info:
        p.acquire(7, 0.5)
    assert (
        info.value.chat_id,
        info.value.retry_after,
        info.value.time_left,
        clock.sleeps,
    ) == (7, 1.0, 0.5, [])
    assert "client-side pacing: chat 7 may send in 1 s" in str(info.value)


def test_a_refusal_takes_no_slot() -> None:
    """After a refusal the next message to the chat still goes at its first free moment."""
    p, clock = pacer()
    p.acquire(7, FAR)
    with pytest.raises(TelegramPacingError):
        p.acquire(7, 0.5)
    p.acquire(7, FAR)
    assert clock.sleeps == [1.0]


def test_a_wait_ending_exactly_at_the_deadline_is_refused() -> None:
    """Like the retry policy, a wait that ends at the deadline counts as past it."""
    p, _ = pacer()
    p.acquire(7, FAR)
    with pytest.raises(TelegramPacingError):
        p.acquire(7, 1.0)


def test_async_acquire_sleeps_with_the_clock() -> None:
    """acquire_async paces like acquire, through clock.sleep_async."""
    p, clock = pacer()

    async def main() -> None:
        await p.acquire_async(1, FAR)
        await p.acquire_async(1, FAR)

    asyncio.run(main())
    assert clock.sleeps == [1.0]


def test_idle_chats_are_forgotten() -> None:
    """Memory stays bounded: at most global_rate * interval + 1 chats are tracked."""
    p, clock = pacer(per_chat_interval=1.0, global_rate=10.0)
    most = 0
    for chat in range(500):
        p.acquire(chat, FAR)
        most = max(most, p.tracked_chats())
    assert most <= 11
    clock.advance(1.0)
    p.acquire("last", FAR)
    assert p.tracked_chats() == 1


def test_ended_pauses_are_forgotten() -> None:
    """A paused chat is tracked until its pause ends, then dropped."""
    p, clock = pacer(flood_chats=100)
    for chat in range(50):
        p.pause(chat, 2.0)
    assert p.tracked_chats() == 50
    clock.advance(2.0)
    p.acquire("other", FAR)
    assert p.tracked_chats() == 1


def test_pacing_error_is_retryable_and_ignored_by_the_breaker() -> None:
    """The policy waits (or gives up on the deadline) and the breaker does not count it."""
    error = TelegramPacingError(1, 2.0, 1.0)
    assert (is_retryable(error, idempotent=False), breaker_outcome(error)) == (True, "ignored")


def test_pacing_error_pickles() -> None:
    """It survives pickling (process pools, multiprocessing queues) with its fields."""
    error = pickle.loads(pickle.dumps(TelegramPacingError("@news", 2.0, 1.0)))  # noqa: S301 - our own bytes
    assert ("@news", 2.0, 1.0, str(TelegramPacingError("@news", 2.0, 1.0))) == (
        error.chat_id,
        error.retry_after,
        error.time_left,
        str(error),
    )


@pytest.mark.parametrize(
    ("options", "error", "name"),
    [
        ({"per_chat_interval": -1.0}, ValueError, "per_chat_interval"),
        ({"per_chat_interval": math.inf}, ValueError, "per_chat_interval"),
        ({"per_chat_interval": "1"}, TypeError, "per_chat_interval"),
        ({"global_rate": 0}, ValueError, "global_rate"),
        ({"global_rate": math.nan}, ValueError, "global_rate"),
        ({"global_rate": None}, TypeError, "global_rate"),
        ({"flood_chats": 0}, ValueError, "flood_chats"),
        ({"flood_chats": 1.5}, TypeError, "flood_chats"),
    ],
)
def test_invalid_configuration_names_the_parameter(
    options: dict[str, object], error: type[Exception], name: str
) -> None:
    """Each invalid value raises at construction, naming the parameter."""
    with pytest.raises(error, match=name):
        TelegramPacing(**options)  # type: ignore[arg-type]


@given(pacing=pacings(), ops=operations)
def test_schedule_never_breaks_a_limit(
    pacing: TelegramPacing, ops: list[tuple[object, ...]]
) -> None:
    """Whatever the sends, sleeps and 429s: never two messages to one chat closer than
    the interval, never two messages closer than 1 / global_rate (so never more than
    ceil(global_rate) in a second), never a message to a chat while it is paused."""
    clock = FakeClock()
    p = Pacer(pacing, clock)
    sends: list[tuple[object, float]] = []
    pauses: defaultdict[object, list[tuple[float, float]]] = defaultdict(list)
    floods: list[tuple[float, float]] = []
    for op in ops:
        if op[0] == "send":
            p.acquire(op[1], FAR)  # type: ignore[arg-type]
            t = clock.monotonic()
            assert not any(t < until - TOLERANCE for _, until in pauses[op[1]] + floods)
            sends.append((op[1], t))
        elif op[0] == "advance":
            clock.advance(op[1])  # type: ignore[arg-type]
        else:
            now, until = clock.monotonic(), clock.monotonic() + op[2]  # type: ignore[operator]
            pauses[op[1]].append((now, until))
            live = {chat for chat, spans in pauses.items() if any(s <= now < u for s, u in spans)}
            live.add(op[1])
            if len(live) >= pacing.flood_chats:
                floods.append((now, until))
            p.pause(op[1], op[2])  # type: ignore[arg-type]
    times = [t for _, t in sends]
    assert all(b - a >= 1 / pacing.global_rate - TOLERANCE for a, b in itertools.pairwise(times))
    for start in times:
        in_window = [t for t in times if start <= t < start + 1.0 - TOLERANCE]
        assert len(in_window) <= math.ceil(pacing.global_rate)
    by_chat: defaultdict[object, list[float]] = defaultdict(list)
    for chat, t in sends:
        by_chat[chat].append(t)
    for chat_times in by_chat.values():
        gaps = [b - a for a, b in itertools.pairwise(chat_times)]
        assert all(gap >= pacing.per_chat_interval - TOLERANCE for gap in gaps)
