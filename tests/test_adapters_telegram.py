"""TelegramNotifier against a real HTTP server on 127.0.0.1 (FakeTelegramServer)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from felix_reliability import (
    DeadLetterReason,
    Guard,
    InMemoryMetrics,
    MemoryDeadLetterStore,
    Secret,
    replay_dead_letters,
)
from felix_reliability.adapters.telegram import (
    AsyncTelegramNotifier,
    TelegramNotifier,
    telegram_guard,
)
from felix_reliability.testing import FakeClock, FakeTelegramServer

TOKEN = "123456789:AAF1-secret-test-token-abcdefghijklmn"


_OPEN: list[TelegramNotifier] = []


@pytest.fixture
def server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer(TOKEN) as fake:
        yield fake
    while _OPEN:
        _OPEN.pop().close()


class Stack:
    """A notifier wired to in-memory metrics and dead letters, on a FakeClock."""

    def __init__(self, server: FakeTelegramServer, **options: object) -> None:
        self.clock = FakeClock()
        self.metrics = InMemoryMetrics(clock=self.clock)
        self.store = MemoryDeadLetterStore()
        self.notifier = TelegramNotifier(
            Secret(TOKEN),
            base_url=server.base_url,
            dead_letters=self.store,
            metrics=self.metrics,
            clock=self.clock,
            **options,  # type: ignore[arg-type]
        )
        _OPEN.append(self.notifier)

    @property
    def breaker_totals(self) -> tuple[int, int, int]:
        snapshot = self.notifier.guard.breaker.snapshot()  # type: ignore[union-attr]
        return snapshot.total_successes, snapshot.total_failures, snapshot.total_ignored


def test_send_delivers_once(server: FakeTelegramServer) -> None:
    """A healthy API: one request, the message recorded, one successful call counted."""
    stack = Stack(server)
    delivery = stack.notifier.send_message(42, "Your order 7 is ready", parse_mode="HTML")
    assert (delivery.ok, delivery.attempts, delivery.dead_letter_id, delivery.error) == (
        True,
        1,
        None,
        None,
    )
    [message] = server.messages
    assert (message.chat_id, message.text, message.message_id) == (
        42,
        "Your order 7 is ready",
        delivery.message_id,
    )
    assert message.params["parse_mode"] == "HTML"
    assert stack.metrics.success_rate("felix_calls", 3600) == 1.0


def test_rate_limit_waits_exactly_retry_after_and_is_ignored_by_the_breaker(
    server: FakeTelegramServer,
) -> None:
    """429 with retry_after=3: one server-given 3 s wait, then delivery; the breaker ignores it."""
    stack = Stack(server)
    server.rate_limit(3)
    delivery = stack.notifier.send_message(1, "hi")
    assert (delivery.ok, delivery.attempts) == (True, 2)
    assert stack.clock.sleeps == [3.0]
    assert stack.breaker_totals == (1, 0, 1)
    assert stack.metrics.total("felix_retries", {"delay_source": "server"}) == 1


def test_rate_limit_beyond_max_retry_after_gives_up(server: FakeTelegramServer) -> None:
    """A flood wait above 20 s is not slept: the message is dead-lettered at once."""
    stack = Stack(server)
    server.rate_limit(3600)
    delivery = stack.notifier.send_message(1, "hi")
    assert not delivery.ok
    assert stack.clock.sleeps == []
    [letter] = stack.store.list()
    assert letter.reason is DeadLetterReason.RETRY_AFTER_TOO_LONG


def test_server_errors_retry_with_backoff(server: FakeTelegramServer) -> None:
    """Two 5xx answers (one an HTML proxy page): waits 1 and 2 s, then delivery."""
    stack = Stack(server)
    server.server_error(500)
    server.server_error(502, html=True)
    delivery = stack.notifier.send_message(1, "hi")
    assert (delivery.ok, delivery.attempts, stack.clock.sleeps) == (True, 3, [1.0, 2.0])
    assert stack.breaker_totals == (1, 2, 0)


def test_blocked_user_is_permanent_and_never_opens_the_breaker(server: FakeTelegramServer) -> None:
    """403 from a user who blocked the bot: no retry, a permanent letter, a breaker success."""
    stack = Stack(server)
    server.reject(403, times=None, chat_id=13)
    for _ in range(15):
        delivery = stack.notifier.send_message(13, "hi", order_id=99)
        assert not delivery.ok
        assert delivery.error is not None
        assert "bot was blocked" in delivery.error
    assert stack.clock.sleeps == []
    assert stack.notifier.breaker is not None
    assert stack.notifier.breaker.state.value == "closed"
    assert stack.breaker_totals == (15, 0, 0)
    letters = stack.store.list()
    assert {letter.reason for letter in letters} == {DeadLetterReason.PERMANENT_ERROR}
    assert letters[0].context["orderId"] == 99
    assert letters[0].payload["chat_id"] == 13  # type: ignore[index]


def test_bad_token_is_logged_critical(
    server: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    """401: not retried, a breaker failure, and a CRITICAL line that does not hold the token."""
    stack = Stack(server)
    notifier = TelegramNotifier(
        "987654321:WRONG-token-wrong-token-wrong-tokenxx",
        base_url=server.base_url,
        guard=stack.notifier.guard,
        clock=stack.clock,
    )
    _OPEN.append(notifier)
    with caplog.at_level(logging.DEBUG):
        delivery = notifier.send_message(1, "hi")
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert stack.breaker_totals == (0, 1, 0)
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("401" in line for line in critical)
    assert all("WRONG-token" not in r.getMessage() for r in caplog.records)


def test_migrated_chat_is_followed_once(server: FakeTelegramServer) -> None:
    """A group upgraded to a supergroup: the notifier resends to the new chat id."""
    stack = Stack(server)
    server.migrate(-100, -1009)
    delivery = stack.notifier.send_message(-100, "hi")
    assert (delivery.ok, delivery.chat_id, delivery.attempts) == (True, -1009, 2)
    assert [m.chat_id for m in server.messages] == [-1009]


def test_read_timeout_is_retried_only_when_idempotent(server: FakeTelegramServer) -> None:
    """A slow answer past the timeout may have been delivered: retried only if idempotent."""
    stack = Stack(server, timeout=0.05)
    server.slow(0.15)
    first = stack.notifier.send_message(1, "once")
    assert (first.ok, first.attempts) == (False, 1)
    assert [letter.reason for letter in stack.store.list()] == [DeadLetterReason.PERMANENT_ERROR]
    server.slow(0.15)
    second = stack.notifier.send_message(1, "twice is fine", idempotent=True)
    assert (second.ok, second.attempts) == (True, 2)
    assert server.count(1, "twice is fine") == 2


def test_outage_opens_the_breaker_and_stops_calls(server: FakeTelegramServer) -> None:
    """During an outage the breaker opens after 10 failures; then the server sees no calls."""
    stack = Stack(server)
    server.start_outage()
    for _ in range(3):
        stack.notifier.send_message(1, "hi")
    assert stack.notifier.breaker is not None
    assert stack.notifier.breaker.state.value == "open"
    seen = server.request_count
    assert seen == 10
    for _ in range(5):
        delivery = stack.notifier.send_message(1, "during the outage")
        assert not delivery.ok
    assert server.request_count == seen
    reasons = [letter.reason for letter in stack.store.list()]
    assert reasons.count(DeadLetterReason.CIRCUIT_OPEN) >= 5


def test_replay_after_recovery_delivers_every_letter(server: FakeTelegramServer) -> None:
    """After the outage, replaying the letters through resend delivers them all."""
    stack = Stack(server)
    server.start_outage()
    for order in range(4):
        stack.notifier.send_message(7, f"order {order}", order_id=order)
    server.end_outage()
    stack.clock.advance(121.0)
    report = replay_dead_letters(stack.store, stack.notifier.resend, clock=stack.clock)
    assert len(report.replayed) == 4
    assert stack.store.count() == 0
    assert sorted(m.text for m in server.messages) == [f"order {i}" for i in range(4)]


def test_text_is_checked_before_sending(server: FakeTelegramServer) -> None:
    """Over-long or empty texts are refused clearly, and nothing is sent."""
    stack = Stack(server)
    with pytest.raises(ValueError, match="at most 4096 characters, got 4097"):
        stack.notifier.send_message(1, "x" * 4097)
    with pytest.raises(ValueError, match="text must not be empty"):
        stack.notifier.send_message(1, "")
    with pytest.raises(TypeError, match="text must be a str"):
        stack.notifier.send_message(1, 5)  # type: ignore[arg-type]
    assert server.request_count == 0


def test_invalid_configuration_names_the_parameter() -> None:
    """Bad token, URL, timeout or guard fail at construction."""
    with pytest.raises(TypeError, match="token must be"):
        TelegramNotifier(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url must be"):
        TelegramNotifier(TOKEN, base_url="ftp://x")
    with pytest.raises(ValueError, match="timeout"):
        TelegramNotifier(TOKEN, timeout=0)
    with pytest.raises(TypeError, match="guard must be a Guard"):
        TelegramNotifier(TOKEN, guard=object())  # type: ignore[arg-type]


def test_the_token_reaches_no_log_exception_letter_or_metric(
    server: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Through every kind of fault, the token appears nowhere a person or a tool could read."""
    stack = Stack(server)
    server.set_fault_rate(0.5, seed=3)
    root = logging.getLogger()
    with caplog.at_level(logging.DEBUG):
        root.setLevel(logging.DEBUG)
        deliveries = [stack.notifier.send_message(i % 5, f"m{i}", order_id=i) for i in range(60)]
    texts = [record.getMessage() for record in caplog.records]
    texts += [caplog.text, repr(stack.notifier)]
    texts += [d.error or "" for d in deliveries]
    texts += [letter.to_json() for letter in stack.store.list()]
    texts += [json.dumps(stack.metrics.label_sets(name)) for name in stack.metrics.names()]
    assert any(not d.ok for d in deliveries)
    assert [t for t in texts if TOKEN in t or "secret-test-token" in t] == []


def test_custom_client_is_not_closed(server: FakeTelegramServer) -> None:
    """A client passed in stays open after the notifier closes."""
    with httpx.Client() as client:
        with TelegramNotifier(TOKEN, client=client, base_url=server.base_url) as notifier:
            assert notifier.send_message(1, "hi").ok
        assert not client.is_closed


def test_telegram_guard_can_share_a_breaker(server: FakeTelegramServer) -> None:
    """telegram_guard takes a breaker, so several notifiers can share one circuit."""
    first = telegram_guard()
    second = telegram_guard(breaker=first.breaker)
    assert isinstance(second, Guard)
    assert second.breaker is first.breaker


def test_resend_rejects_a_letter_that_is_not_a_message(server: FakeTelegramServer) -> None:
    """A foreign letter is refused with a clear error instead of sending garbage."""
    from felix_reliability import DeadLetter

    stack = Stack(server)
    letter = DeadLetter.create(operation="x", payload=[1], reason="permanent_error")
    with pytest.raises(ValueError, match="does not hold a Telegram message"):
        stack.notifier.resend(letter)


def test_async_notifier(server: FakeTelegramServer) -> None:
    """The async notifier retries, dead-letters and resends like the sync one."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()

    async def main() -> None:
        async with AsyncTelegramNotifier(
            TOKEN, base_url=server.base_url, dead_letters=store, clock=clock
        ) as notifier:
            server.server_error(503)
            delivered = await notifier.send_message(5, "async hello", order_id=1)
            assert (delivered.ok, delivered.attempts) == (True, 2)
            server.reject(400, "Bad Request: chat not found")
            failed = await notifier.send_message(6, "nobody")
            assert not failed.ok
            assert failed.dead_letter_id is not None
            [letter] = store.list()
            await notifier.resend(letter)
            server.reject(400)
            with pytest.raises(RuntimeError, match="resending dead letter"):
                await notifier.resend(letter)
            server.migrate(-5, -55)
            migrated = await notifier.send_message(-5, "moved")
            assert migrated.chat_id == -55

    asyncio.run(main())
    assert clock.sleeps == [1.0]
    assert server.count(6, "nobody") == 1


def test_sync_resend_raises_when_it_fails(server: FakeTelegramServer) -> None:
    """resend refuses the letter (raises) when the message still cannot be sent."""
    stack = Stack(server)
    server.reject(400, times=2)
    stack.notifier.send_message(1, "hi")
    [letter] = stack.store.list()
    with pytest.raises(RuntimeError, match=f"resending dead letter {letter.id} failed"):
        stack.notifier.resend(letter)


def test_async_notifier_leaves_a_given_client_open(server: FakeTelegramServer) -> None:
    """An AsyncClient passed in is the caller's to close."""

    async def main() -> bool:
        async with httpx.AsyncClient() as client:
            notifier = AsyncTelegramNotifier(TOKEN, client=client, base_url=server.base_url)
            await notifier.aclose()
            return client.is_closed

    assert asyncio.run(main()) is False
