"""Pacing in the Telegram notifiers, against a real HTTP server on 127.0.0.1 and a FakeClock."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest

from felix_reliability import (
    DeadLetterReason,
    Guard,
    MemoryDeadLetterStore,
    RetryPolicy,
)
from felix_reliability._telegram_api import is_retryable
from felix_reliability.adapters.telegram import (
    OPERATION,
    AsyncTelegramNotifier,
    TelegramNotifier,
    TelegramPacing,
)
from felix_reliability.testing import FakeClock, FakeTelegramServer

TOKEN = "123456789:AAF1-secret-pacing-token-abcdefghijkl"
TOLERANCE = 1e-6


@pytest.fixture
def server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer(TOKEN) as fake:
        yield fake


class Paced:
    """A paced notifier on a FakeClock whose client records when each request was made."""

    def __init__(
        self, server: FakeTelegramServer, pacing: TelegramPacing, *, guard: Guard | None = None
    ) -> None:
        self.clock = FakeClock()
        self.store = MemoryDeadLetterStore()
        self.requests: list[tuple[object, float]] = []
        self.client = httpx.Client(event_hooks={"request": [self._record]})
        self.notifier = TelegramNotifier(
            TOKEN,
            client=self.client,
            base_url=server.base_url,
            dead_letters=self.store,
            clock=self.clock,
            guard=guard,
            pacing=pacing,
        )

    def _record(self, request: httpx.Request) -> None:
        chat = json.loads(request.content)["chat_id"]
        self.requests.append((chat, self.clock.monotonic()))

    def times(self, chat: object) -> list[float]:
        return [t for c, t in self.requests if c == chat]

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def paced(server: FakeTelegramServer) -> Iterator[Paced]:
    stack = Paced(server, TelegramPacing())
    yield stack
    stack.close()


def no_retry_guard(clock: FakeClock, store: MemoryDeadLetterStore) -> Guard:
    """A Guard that makes one attempt: a 429 fails the send at once and leaves the pause."""
    return Guard(name=OPERATION, dead_letters=store, clock=clock)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_pacing_is_off_by_default(server: FakeTelegramServer) -> None:
    """Without pacing, back-to-back messages to one chat do not wait."""
    clock = FakeClock()
    with TelegramNotifier(TOKEN, base_url=server.base_url, clock=clock) as notifier:
        notifier.send_message(1, "a")
        notifier.send_message(1, "b")
        assert (notifier.pacing, clock.sleeps) == (None, [])


def test_one_chat_is_spaced_by_the_interval(paced: Paced) -> None:
    """Two messages to one chat: the second request is made 1 s after the first."""
    first = paced.notifier.send_message(42, "a")
    second = paced.notifier.send_message(42, "b")
    assert (first.ok, second.ok) == (True, True)
    assert paced.clock.sleeps == [1.0]
    assert paced.times(42) == [0.0, 1.0]


def test_different_chats_wait_only_for_the_global_rate(paced: Paced) -> None:
    """Messages to five chats go 1/30 s apart, not 1 s."""
    for chat in range(5):
        assert paced.notifier.send_message(chat, "hi").ok
    assert all(gap == pytest.approx(1 / 30) for gap in gaps([t for _, t in paced.requests]))
    assert pytest.approx(4 / 30) == paced.clock.monotonic()


def test_a_429_pauses_its_chat_but_not_others(server: FakeTelegramServer) -> None:
    """429 retry_after=5 on chat A: the next message to B goes at once, the next to A after 5 s."""
    stack = Paced(server, TelegramPacing(global_rate=100.0))
    stack.notifier = TelegramNotifier(
        TOKEN,
        client=stack.client,
        base_url=server.base_url,
        clock=stack.clock,
        guard=no_retry_guard(stack.clock, stack.store),
        pacing=TelegramPacing(global_rate=100.0),
    )
    server.rate_limit(5, chat_id="A")
    assert not stack.notifier.send_message("A", "first").ok
    assert stack.notifier.send_message("B", "meanwhile").ok
    assert pytest.approx(0.01) == stack.clock.monotonic()
    assert stack.notifier.send_message("A", "second").ok
    assert [0.0, pytest.approx(5.0)] == stack.times("A")
    stack.close()


def test_the_retry_after_a_429_waits_once(paced: Paced, server: FakeTelegramServer) -> None:
    """The policy's retry_after wait ends the chat's pause: no second wait on top."""
    server.rate_limit(5, chat_id=1)
    delivery = paced.notifier.send_message(1, "hi")
    assert (delivery.ok, delivery.attempts, paced.clock.sleeps) == (True, 2, [5.0])


def test_429s_on_two_chats_pause_everything(server: FakeTelegramServer) -> None:
    """Two chats throttled at once is taken for a global flood wait: a third chat waits too."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    with TelegramNotifier(
        TOKEN,
        base_url=server.base_url,
        clock=clock,
        guard=no_retry_guard(clock, store),
        pacing=TelegramPacing(global_rate=100.0),
    ) as notifier:
        server.rate_limit(4, chat_id="A")
        server.rate_limit(4, chat_id="B")
        notifier.send_message("A", "a")
        notifier.send_message("B", "b")
        assert notifier.send_message("C", "c").ok
    assert pytest.approx(0.01 + 4.0) == clock.monotonic()


def test_a_wait_past_the_deadline_fails_fast_as_deadline_exceeded(
    server: FakeTelegramServer,
) -> None:
    """A 10 s deadline and a 15 s chat interval: the second send is dead-lettered at once,
    deadline_exceeded, without a request or a sleep; the breaker ignores it."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    guard = Guard(
        name=OPERATION,
        retry=RetryPolicy(
            on=lambda exc: is_retryable(exc, idempotent=False),
            deadline=10.0,
            max_retry_after=20.0,
            clock=clock,
        ),
        dead_letters=store,
        clock=clock,
    )
    with TelegramNotifier(
        TOKEN,
        base_url=server.base_url,
        clock=clock,
        guard=guard,
        pacing=TelegramPacing(per_chat_interval=15.0),
    ) as notifier:
        assert notifier.send_message(9, "first").ok
        delivery = notifier.send_message(9, "second")
    assert (
        delivery.ok,
        delivery.attempts,
        clock.sleeps,
        server.request_count,
    ) == (False, 0, [], 1)
    assert delivery.error is not None
    assert "TelegramPacingError: client-side pacing: chat 9 may send in 15 s" in delivery.error
    [letter] = store.list()
    assert (DeadLetterReason.DEADLINE_EXCEEDED, letter.id) == (
        letter.reason,
        delivery.dead_letter_id,
    )


def test_a_wait_above_max_retry_after_fails_fast_too(paced: Paced) -> None:
    """The default policy checks max_retry_after (20 s) before its 30 s deadline: a pacing
    wait past the deadline is then dead-lettered as retry_after_too_long, still at once."""
    stack_notifier = TelegramNotifier(
        TOKEN,
        client=paced.client,
        base_url=paced.notifier.base_url,
        dead_letters=paced.store,
        clock=paced.clock,
        pacing=TelegramPacing(per_chat_interval=40.0),
    )
    assert stack_notifier.send_message(9, "first").ok
    delivery = stack_notifier.send_message(9, "second")
    assert (delivery.ok, paced.clock.sleeps) == (False, [])
    [letter] = paced.store.list()
    assert letter.reason == DeadLetterReason.RETRY_AFTER_TOO_LONG


def test_a_wait_within_the_deadline_is_slept(paced: Paced) -> None:
    """A 25 s pause is within the 30 s deadline: the send waits for it and is delivered."""
    assert paced.notifier.pacing is not None
    notifier = TelegramNotifier(
        TOKEN,
        client=paced.client,
        base_url=paced.notifier.base_url,
        clock=paced.clock,
        pacing=TelegramPacing(per_chat_interval=25.0),
    )
    assert notifier.send_message(3, "a").ok
    assert notifier.send_message(3, "b").ok
    assert paced.clock.sleeps == [25.0]


def test_threads_share_one_schedule(server: FakeTelegramServer) -> None:
    """8 threads, 4 chats, 40 messages through one notifier: every message is delivered,
    no chat gets two requests closer than 1 s, and the fake time moved only by pacing waits,
    none longer than one interval."""
    stack = Paced(server, TelegramPacing())
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for n in range(5):
                assert stack.notifier.send_message(index % 4, f"{index}-{n}").ok
        except BaseException as exc:
            errors.append(exc)

    # FakeClock time is shared: another thread's sleep moves it. A long switch interval
    # keeps each thread running from the pacer's decision to its request (no I/O between).
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
        stack.close()
    assert errors == []
    assert len(server.messages) == 40
    by_chat: defaultdict[object, list[float]] = defaultdict(list)
    for chat, t in stack.requests:
        by_chat[chat].append(t)
    assert all(gap >= 1.0 - TOLERANCE for times in by_chat.values() for gap in gaps(times))
    assert pytest.approx(sum(stack.clock.sleeps)) == stack.clock.monotonic()
    assert all(wait <= 1.0 + TOLERANCE for wait in stack.clock.sleeps)
    assert stack.clock.monotonic() >= 9.0 - TOLERANCE


def test_async_notifier_paces(server: FakeTelegramServer) -> None:
    """Three concurrent tasks to one chat: requests 1 s apart, through clock.sleep_async."""
    clock = FakeClock()
    requests: list[float] = []

    async def record(request: httpx.Request) -> None:
        requests.append(clock.monotonic())

    async def main() -> list[bool]:
        async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
            notifier = AsyncTelegramNotifier(
                TOKEN,
                client=client,
                base_url=server.base_url,
                clock=clock,
                pacing=TelegramPacing(),
            )
            deliveries = await asyncio.gather(
                *(notifier.send_message(5, f"m{n}") for n in range(3))
            )
            return [delivery.ok for delivery in deliveries]

    assert asyncio.run(main()) == [True, True, True]
    assert all(gap >= 1.0 - TOLERANCE for gap in gaps(sorted(requests)))


def test_async_notifier_pauses_after_a_429(server: FakeTelegramServer) -> None:
    """The async notifier pauses the chat after a 429 as the sync one does."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()

    async def main() -> None:
        async with AsyncTelegramNotifier(
            TOKEN,
            base_url=server.base_url,
            clock=clock,
            guard=no_retry_guard(clock, store),
            pacing=TelegramPacing(),
        ) as notifier:
            server.rate_limit(3, chat_id=1)
            assert not (await notifier.send_message(1, "a")).ok
            assert (await notifier.send_message(1, "b")).ok

    asyncio.run(main())
    assert clock.sleeps == [3.0]


def test_a_429_without_pacing_pauses_nothing(server: FakeTelegramServer) -> None:
    """Without pacing, a 429 leaves no state behind: the next send goes at once."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    with TelegramNotifier(
        TOKEN, base_url=server.base_url, clock=clock, guard=no_retry_guard(clock, store)
    ) as notifier:
        server.rate_limit(3, chat_id=1)
        notifier.send_message(1, "a")
        assert notifier.send_message(1, "b").ok
    assert clock.sleeps == []


def test_invalid_pacing_is_refused(server: FakeTelegramServer) -> None:
    """pacing must be a TelegramPacing; the error names the parameter."""
    with pytest.raises(TypeError, match="pacing must be a TelegramPacing"):
        TelegramNotifier(TOKEN, base_url=server.base_url, pacing={"per_chat_interval": 1.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pacing must be a TelegramPacing"):
        AsyncTelegramNotifier(TOKEN, base_url=server.base_url, pacing=1.0)  # type: ignore[arg-type]
