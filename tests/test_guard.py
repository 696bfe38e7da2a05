"""Guard: metrics and logging around retry around breaker around the call."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest

from felix_reliability import (
    Backoff,
    CircuitBreaker,
    DeadLetter,
    DeadLetterReason,
    Guard,
    InMemoryMetrics,
    MemoryDeadLetterStore,
    RetryPolicy,
    bind_context,
    replay_dead_letters,
)
from felix_reliability._guard import json_safe_arguments
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock

FELIX_BACKOFF = Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None)


class Flaky:
    """A callable that fails a scripted number of times, then returns."""

    def __init__(self, failures: int, exc: Exception | None = None) -> None:
        self.failures = failures
        self.exc = exc or ConnectionError("telegram unreachable")
        self.calls = 0

    def __call__(self, chat_id: int, text: str) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return f"sent {text} to {chat_id}"


def make_guard(
    clock: FakeClock,
    *,
    store: MemoryDeadLetterStore | None = None,
    metrics: InMemoryMetrics | None = None,
    breaker: CircuitBreaker | None = None,
    **options: object,
) -> Guard:
    return Guard(
        name="telegram.send_message",
        retry=RetryPolicy(on=(ConnectionError,), attempts=4, backoff=FELIX_BACKOFF, clock=clock),
        breaker=breaker,
        dead_letters=store,
        metrics=metrics,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_success_after_retries_counts_one_call() -> None:
    """Two failures then success: 3 attempts, sleeps 1 and 2, one successful call counted."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    store = MemoryDeadLetterStore()
    send = Flaky(2)
    guard = make_guard(clock, store=store, metrics=metrics)
    assert guard.call(send, 42, "hello") == "sent hello to 42"
    assert (send.calls, clock.sleeps) == (3, [1.0, 2.0])
    assert metrics.total("felix_calls", {"outcome": "success"}) == 1
    assert metrics.total("felix_calls", {"outcome": "failure"}) == 0
    assert store.count() == 0


def test_exhausted_retries_dead_letter_and_reraise_with_note() -> None:
    """Four failures: the original exception is re-raised with a note naming the letter."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    metrics = InMemoryMetrics(clock=clock)
    guard = make_guard(clock, store=store, metrics=metrics)
    send = Flaky(10)
    with bind_context(request_id="req1", orderId=123), pytest.raises(ConnectionError) as info:
        guard.call(send, 42, text="hello")
    assert send.calls == 4
    [letter] = store.list()
    assert f"dead-lettered as {letter.id}" in info.value.__notes__
    assert letter.reason is DeadLetterReason.RETRIES_EXHAUSTED
    assert (letter.operation, letter.attempts) == ("telegram.send_message", 4)
    assert letter.payload == {"args": [42], "kwargs": {"text": "hello"}}
    assert letter.context == {"requestId": "req1", "orderId": 123}
    assert letter.error_type == "ConnectionError"
    assert (letter.last_failure_at - letter.first_failure_at).total_seconds() == 7.0
    labels = {"operation": "telegram.send_message", "reason": "retries_exhausted"}
    assert metrics.total("felix_dead_letters", labels) == 1
    assert metrics.total("felix_calls", {"outcome": "failure"}) == 1


def test_permanent_error_is_not_retried() -> None:
    """An exception the policy does not retry is dead-lettered as permanent at once."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    send = Flaky(1, ValueError("chat not found"))
    with pytest.raises(ValueError, match="chat not found"):
        make_guard(clock, store=store).call(send, 1, "x")
    assert (send.calls, clock.sleeps) == (1, [])
    assert [letter.reason for letter in store.list()] == [DeadLetterReason.PERMANENT_ERROR]


def test_open_breaker_ends_the_retries() -> None:
    """The breaker sees every attempt; once open, retrying stops and the reason is circuit_open."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    breaker = CircuitBreaker(name="telegram", failure_threshold=2, clock=clock)
    send = Flaky(10)
    with pytest.raises(CircuitOpenError):
        make_guard(clock, store=store, breaker=breaker).call(send, 1, "x")
    assert send.calls == 2
    [letter] = store.list()
    assert letter.reason is DeadLetterReason.CIRCUIT_OPEN
    assert letter.attempts == 3


def test_without_retry_an_open_breaker_is_circuit_open() -> None:
    """With no policy, a rejected call is dead-lettered with reason circuit_open."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    breaker = CircuitBreaker(name="telegram", clock=clock)
    breaker.force_open()
    guard = Guard(name="op", breaker=breaker, dead_letters=store, clock=clock)
    with pytest.raises(CircuitOpenError):
        guard.call(Flaky(0), 1, "x")
    assert [letter.reason for letter in store.list()] == [DeadLetterReason.CIRCUIT_OPEN]


def test_fallback_value_is_returned_instead_of_raising() -> None:
    """With a fallback, the caller gets fallback(exc, letter)."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()

    def fallback(exc: Exception, letter: DeadLetter) -> str:
        return f"queued {letter.id} after {type(exc).__name__}"

    guard = make_guard(clock, store=store, fallback=fallback)
    result = guard.call(Flaky(10), 1, "x")
    [letter] = store.list()
    assert result == f"queued {letter.id} after ConnectionError"


def test_custom_payload_hook_and_broken_hook() -> None:
    """The payload hook decides the letter's payload; a raising hook falls back to the arguments."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    guard = make_guard(
        clock, store=store, payload=lambda chat_id, text: {"chat": chat_id, "t": text}
    )
    with pytest.raises(ConnectionError):
        guard.call(Flaky(10), 5, "hi")

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError

    other = make_guard(clock, store=store, payload=broken)
    with pytest.raises(ConnectionError):
        other.call(Flaky(10), 6, "yo")
    assert [letter.payload for letter in store.list()] == [
        {"chat": 5, "t": "hi"},
        {"args": [6, "yo"], "kwargs": {}},
    ]


def test_failing_sink_falls_back_to_logging_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    """A sink that raises loses nothing: the letter is logged CRITICAL and the failure counted."""

    class BrokenSink:
        def put(self, letter: DeadLetter) -> None:
            raise OSError("disk full")

    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    guard = make_guard(clock, metrics=metrics)
    guard.dead_letters = BrokenSink()
    with caplog.at_level(logging.WARNING), pytest.raises(ConnectionError):
        guard.call(Flaky(10), 1, "x")
    assert metrics.total("felix_dead_letter_write_failures", {"sink": "BrokenSink"}) == 1
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert critical[0].getMessage().startswith("DEAD_LETTER:")


def test_no_sink_logs_the_letter(caplog: pytest.LogCaptureFixture) -> None:
    """Without a sink the letter is still written, to the log."""
    clock = FakeClock()
    with caplog.at_level(logging.CRITICAL), pytest.raises(ConnectionError):
        make_guard(clock).call(Flaky(10), 1, "x")
    assert any(r.getMessage().startswith("DEAD_LETTER:") for r in caplog.records)


def test_write_ahead_deletes_on_success_and_updates_on_failure() -> None:
    """A pending letter exists during the call, is deleted on success, finalised on failure."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    seen: list[list[DeadLetterReason]] = []

    def send(chat_id: int, fail: bool) -> str:
        seen.append([letter.reason for letter in store.list()])
        if fail:
            raise ValueError("forbidden")
        return "ok"

    guard = make_guard(clock, store=store, write_ahead=True)
    assert guard.call(send, 1, fail=False) == "ok"
    assert store.count() == 0
    with pytest.raises(ValueError, match="forbidden"):
        guard.call(send, 2, fail=True)
    assert seen == [[DeadLetterReason.PENDING], [DeadLetterReason.PENDING]]
    [letter] = store.list()
    assert letter.reason is DeadLetterReason.PERMANENT_ERROR
    assert letter.payload == {"args": [2], "kwargs": {"fail": True}}


def test_write_ahead_needs_a_store() -> None:
    """write_ahead without update/delete is a TypeError naming the parameter."""
    with pytest.raises(TypeError, match="write_ahead=True needs dead_letters"):
        Guard(name="op", write_ahead=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": ""}, "name must not be empty"),
        ({"name": 3}, "name must be a str"),
        ({"name": "op", "retry": object()}, "retry must be a RetryPolicy"),
        ({"name": "op", "breaker": object()}, "breaker must be a CircuitBreaker"),
        ({"name": "op", "payload": 1}, "payload must be callable"),
        ({"name": "op", "fallback": "x"}, "fallback must be callable"),
    ],
)
def test_invalid_configuration_names_the_parameter(
    options: dict[str, object], message: str
) -> None:
    """Bad arguments fail at construction, naming the parameter."""
    with pytest.raises((TypeError, ValueError), match=message):
        Guard(**options)  # type: ignore[arg-type]


def test_replay_writes_no_second_letter() -> None:
    """A Guard inside a replay handler that fails again leaves the original letter alone."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    guard = make_guard(clock, store=store, write_ahead=True)
    send = Flaky(100)
    with pytest.raises(ConnectionError):
        guard.call(send, 1, "x")
    [original] = store.list()

    def handler(letter: DeadLetter) -> None:
        guard.call(send, *letter.payload["args"])  # type: ignore[index]

    report = replay_dead_letters(store, handler, clock=clock)
    assert report.failed == [original.id]
    [after] = store.list()
    assert (after.id, after.replay_count) == (original.id, 1)


def test_replay_success_deletes_the_letter() -> None:
    """Once the dependency is back, replay through the Guard delivers and deletes the letter."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    guard = make_guard(clock, store=store)
    send = Flaky(4)
    with pytest.raises(ConnectionError):
        guard.call(send, 1, "x")
    report = replay_dead_letters(
        store,
        lambda letter: guard.call(send, *letter.payload["args"]),
        clock=clock,  # type: ignore[index]
    )
    assert len(report.replayed) == 1
    assert store.count() == 0


def test_decorator_keeps_the_signature_and_name() -> None:
    """@guard keeps the function's name and behaviour."""
    clock = FakeClock()
    guard = make_guard(clock)

    @guard
    def send(chat_id: int, text: str) -> str:
        return f"{chat_id}:{text}"

    assert send(1, "a") == "1:a"
    assert send.__name__ == "send"


def test_async_decorator_and_call() -> None:
    """Async functions are guarded the same way: retries, breaker, letter."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    breaker = CircuitBreaker(name="telegram", clock=clock)
    guard = make_guard(clock, store=store, breaker=breaker, write_ahead=True)
    calls = 0

    @guard
    async def send(chat_id: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls < 3:
            raise ConnectionError
        return chat_id

    async def fail(chat_id: int) -> int:
        raise ValueError(chat_id)

    async def main() -> int:
        assert await send(7) == 7
        with pytest.raises(ValueError):
            await guard.call(fail, 8)
        return calls

    assert asyncio.run(main()) == 3
    assert clock.sleeps == [1.0, 2.0]
    assert [letter.reason for letter in store.list()] == [DeadLetterReason.PERMANENT_ERROR]
    assert breaker.snapshot().total_calls == 4


def test_async_fallback() -> None:
    """The fallback also serves async calls."""
    clock = FakeClock()
    guard = Guard(name="op", fallback=lambda exc, letter: -1, clock=clock)

    async def fail() -> int:
        raise ValueError

    assert asyncio.run(guard.call(fail)) == -1


def test_cancellation_is_not_dead_lettered() -> None:
    """A cancelled call is not a failure: no letter, the cancellation propagates."""
    clock = FakeClock()
    store = MemoryDeadLetterStore()
    guard = make_guard(clock, store=store)

    async def hang() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        task = asyncio.ensure_future(guard.call(hang))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert store.count() == 0


def test_write_ahead_survives_store_failures(caplog: pytest.LogCaptureFixture) -> None:
    """A store failing on pending put or delete never fails the call; failures are counted."""

    class FlakyStore(MemoryDeadLetterStore):
        def put(self, letter: DeadLetter) -> None:
            raise OSError

        def delete(self, letter_id: str) -> bool:
            raise OSError

    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    guard = make_guard(clock, metrics=metrics, store=FlakyStore(), write_ahead=True)
    assert guard.call(Flaky(0), 1, "x") == "sent x to 1"
    assert metrics.total("felix_dead_letter_write_failures") == 1

    class DeleteFails(MemoryDeadLetterStore):
        def delete(self, letter_id: str) -> bool:
            raise OSError

    guard = make_guard(clock, metrics=metrics, store=DeleteFails(), write_ahead=True)
    assert guard.call(Flaky(0), 1, "x") == "sent x to 1"
    assert metrics.total("felix_dead_letter_write_failures") == 2


def test_json_safe_arguments_never_repr() -> None:
    """Unserializable values become a marker naming only their type."""

    class Token:
        def __repr__(self) -> str:
            return "secret-token"

    data = json_safe_arguments(1, math.nan, b"x", Token(), {"k": (1, 2)}, {1: "int key"})
    assert data == {
        "args": [
            1,
            "<unserializable nan>",
            "<unserializable bytes>",
            "<unserializable Token>",
            {"k": [1, 2]},
            "<unserializable dict>",
        ],
        "kwargs": {},
    }


def test_repr_names_the_operation() -> None:
    """The repr shows the operation."""
    assert repr(Guard(name="op")).startswith("Guard(name='op'")


def test_rejected_results_that_exhaust_retries_are_returned() -> None:
    """retry_on_result exhausting its attempts returns the last result: not a failure."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    policy = RetryPolicy(
        on=(ConnectionError,), attempts=2, retry_on_result=lambda r: r is None, clock=clock
    )
    guard = Guard(name="op", retry=policy, metrics=metrics, clock=clock)
    assert guard.call(lambda: None) is None
    assert metrics.total("felix_calls", {"outcome": "success"}) == 1
