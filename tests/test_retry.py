"""RetryPolicy: schedules, give-up reasons, server delays, forms, callbacks and metrics."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from felix_reliability import (
    Backoff,
    GiveUpReason,
    RetryBudget,
    RetryPolicy,
    RetryState,
    retry,
)
from felix_reliability._metrics import RETRIES, RETRY_GIVE_UPS
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock, instant_retries, set_testing
from tests.strategies_retry import backoffs

FELIX_HUB = Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None)


class Recorder:
    """A MetricsCollector that keeps every increment."""

    def __init__(self) -> None:
        self.increments: list[tuple[str, float, dict[str, str]]] = []

    def increment(
        self, name: str, value: float = 1.0, labels: Mapping[str, str] | None = None
    ) -> None:
        self.increments.append((name, value, dict(labels or {})))

    def observe(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        raise AssertionError("retry observes nothing")  # pragma: no cover - never called

    def set_gauge(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        raise AssertionError("retry sets no gauge")  # pragma: no cover - never called


class SlowDownError(Exception):
    """An exception carrying a server delay, like Telegram's RetryAfter."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


class Flaky:
    """Fail with the given exceptions in turn, then return "ok"."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def felix_hub_policy(clock: FakeClock, **kwargs: object) -> RetryPolicy:
    options: dict[str, object] = {"on": (ConnectionError,), "attempts": 4, "backoff": FELIX_HUB}
    options.update(kwargs)
    return RetryPolicy(clock=clock, **options)  # type: ignore[arg-type]


def test_felix_hub_schedule_sleeps_1_2_4_then_reraises_with_a_note() -> None:
    """4 calls, sleeps [1, 2, 4], then the last original exception with a PEP 678 note."""
    clock = FakeClock()
    states: list[RetryState] = []
    policy = felix_hub_policy(clock, on_give_up=states.append)
    errors = [ConnectionError(f"down {n}") for n in range(4)]
    flaky = Flaky(*errors)
    with pytest.raises(ConnectionError) as info:
        policy.call(flaky)
    assert flaky.calls == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert errors[-1] is info.value
    assert info.value.__notes__ == [
        (
            "retry gave up after 4 attempts (attempts_exhausted); "
            "waits: 1s (backoff), 2s (backoff), 4s (backoff)"
        )
    ]
    [state] = states
    assert state.give_up_reason == GiveUpReason.ATTEMPTS_EXHAUSTED
    assert state.waits == ((1.0, "backoff"), (2.0, "backoff"), (4.0, "backoff"))
    assert state.attempts == 4
    assert state.total_wait == 7.0
    assert errors[-1] is state.last_exception


def test_success_on_the_first_try_touches_nothing() -> None:
    """A first success returns its value with no sleep, callback or metric."""
    clock = FakeClock()
    metrics = Recorder()
    calls: list[RetryState] = []
    policy = felix_hub_policy(
        clock, metrics=metrics, on_retry=calls.append, on_give_up=calls.append
    )
    assert policy.call(Flaky()) == "ok"
    assert clock.sleeps == []
    assert calls == []
    assert metrics.increments == []


def test_a_call_that_recovers_returns_its_value() -> None:
    """Two failures then success: the value, and two waits."""
    clock = FakeClock()
    flaky = Flaky(ConnectionError(), ConnectionError())
    assert felix_hub_policy(clock).call(flaky) == "ok"
    assert clock.sleeps == [1.0, 2.0]
    assert flaky.calls == 3


def test_an_exception_outside_on_is_not_retried() -> None:
    """not_retryable: one call, the exception raised with a note."""
    clock = FakeClock()
    states: list[RetryState] = []
    flaky = Flaky(KeyError("bug"))
    with pytest.raises(KeyError) as info:
        felix_hub_policy(clock, on_give_up=states.append).call(flaky)
    assert flaky.calls == 1
    assert states[0].give_up_reason == GiveUpReason.NOT_RETRYABLE
    assert info.value.__notes__ == ["retry gave up after 1 attempt (not_retryable); waits: none"]


def test_a_predicate_chooses_what_to_retry() -> None:
    """`on` may be a predicate over the exception."""
    clock = FakeClock()
    policy = RetryPolicy(
        on=lambda exc: "transient" in str(exc), attempts=3, backoff=Backoff.constant(1), clock=clock
    )
    flaky = Flaky(ValueError("transient"), ValueError("permanent"))
    with pytest.raises(ValueError, match="permanent"):
        policy.call(flaky)
    assert flaky.calls == 2


def test_a_single_exception_type_is_accepted_for_on() -> None:
    """`on=ConnectionError` means `on=(ConnectionError,)`."""
    clock = FakeClock()
    policy = RetryPolicy(on=ConnectionError, attempts=2, backoff=FELIX_HUB, clock=clock)
    assert policy.call(Flaky(ConnectionError())) == "ok"


def test_circuit_open_is_never_retried() -> None:
    """CircuitOpenError ends retrying at once, even when `on` matches it."""
    clock = FakeClock()
    states: list[RetryState] = []
    flaky = Flaky(CircuitOpenError("telegram", 30.0))
    policy = RetryPolicy(on=(Exception,), clock=clock, on_give_up=states.append)
    with pytest.raises(CircuitOpenError):
        policy.call(flaky)
    assert flaky.calls == 1
    assert clock.sleeps == []
    assert states[0].give_up_reason == GiveUpReason.CIRCUIT_OPEN


def test_base_exceptions_are_never_retried_nor_annotated() -> None:
    """KeyboardInterrupt propagates at once, untouched, with no callback."""
    clock = FakeClock()
    states: list[RetryState] = []
    interrupt = KeyboardInterrupt()
    flaky = Flaky(ConnectionError(), interrupt)
    with pytest.raises(KeyboardInterrupt) as info:
        felix_hub_policy(clock, on_give_up=states.append).call(flaky)
    assert interrupt is info.value
    assert not hasattr(interrupt, "__notes__")
    assert states == []
    assert flaky.calls == 2


def test_a_server_delay_is_honored_exactly() -> None:
    """retry_after wins over the backoff and is waited exactly."""
    clock = FakeClock()
    states: list[RetryState] = []
    flaky = Flaky(SlowDownError(7), ConnectionError())
    policy = felix_hub_policy(clock, on=(SlowDownError, ConnectionError), on_retry=states.append)
    assert policy.call(flaky) == "ok"
    assert clock.sleeps == [7.0, 2.0]
    assert states[-1].waits == ((7.0, "server"), (2.0, "backoff"))


def test_a_server_delay_with_jitter_is_never_shorter_than_asked() -> None:
    """retry_after_jitter only adds, up to its value."""
    clock = FakeClock()
    policy = RetryPolicy(on=(SlowDownError,), attempts=50, retry_after_jitter=0.5, clock=clock)
    policy.call(Flaky(*[SlowDownError(3) for _ in range(40)]))
    assert len(clock.sleeps) == 40
    assert all(3.0 <= sleep <= 3.5 for sleep in clock.sleeps)


def test_server_delays_can_be_ignored() -> None:
    """retry_after=False uses the backoff even when the server gives a delay."""
    clock = FakeClock()
    policy = felix_hub_policy(clock, on=(SlowDownError,), retry_after=False)
    policy.call(Flaky(SlowDownError(100)))
    assert clock.sleeps == [1.0]


def test_a_server_delay_above_max_retry_after_gives_up_without_sleeping() -> None:
    """retry_after_too_long: the exception is raised at once, nothing sleeps."""
    clock = FakeClock()
    states: list[RetryState] = []
    flaky = Flaky(SlowDownError(301))
    with pytest.raises(SlowDownError):
        felix_hub_policy(clock, on=(SlowDownError,), on_give_up=states.append).call(flaky)
    assert clock.sleeps == []
    assert flaky.calls == 1
    assert states[0].give_up_reason == GiveUpReason.RETRY_AFTER_TOO_LONG


def test_a_huge_server_delay_gives_up_without_sleeping() -> None:
    """A delay of 10**400 seconds is clamped, found too long, and not slept."""
    clock = FakeClock()
    states: list[RetryState] = []
    with pytest.raises(SlowDownError):
        felix_hub_policy(clock, on=(SlowDownError,), on_give_up=states.append).call(
            Flaky(SlowDownError(10**400))
        )
    assert clock.sleeps == []
    assert states[0].give_up_reason == GiveUpReason.RETRY_AFTER_TOO_LONG


def test_a_backoff_wait_that_would_pass_the_deadline_gives_up() -> None:
    """deadline_exceeded: after waiting 1 s, a 2 s wait would end at 3 s > 2.5 s."""
    clock = FakeClock()
    states: list[RetryState] = []
    flaky = Flaky(*[ConnectionError() for _ in range(4)])
    with pytest.raises(ConnectionError):
        felix_hub_policy(clock, deadline=2.5, on_give_up=states.append).call(flaky)
    assert clock.sleeps == [1.0]
    assert flaky.calls == 2
    assert states[0].give_up_reason == GiveUpReason.DEADLINE_EXCEEDED
    assert states[0].elapsed == 1.0


def test_a_server_delay_that_would_pass_the_deadline_gives_up() -> None:
    """A server delay inside max_retry_after but past the deadline ends retrying at once."""
    clock = FakeClock()
    states: list[RetryState] = []
    with pytest.raises(SlowDownError):
        felix_hub_policy(clock, on=(SlowDownError,), deadline=10, on_give_up=states.append).call(
            Flaky(SlowDownError(20))
        )
    assert clock.sleeps == []
    assert states[0].give_up_reason == GiveUpReason.DEADLINE_EXCEEDED


def test_the_deadline_counts_the_time_attempts_take() -> None:
    """Time spent inside attempts counts against the deadline."""
    clock = FakeClock()
    calls = 0

    def slow() -> str:
        nonlocal calls
        calls += 1
        clock.advance(2.0)
        raise ConnectionError

    with pytest.raises(ConnectionError):
        felix_hub_policy(clock, deadline=4.5).call(slow)
    # attempt 1 ends at 2, wait 1 -> 3, attempt 2 ends at 5: a 2 s wait would pass 4.5.
    assert calls == 2
    assert clock.sleeps == [1.0]


def test_a_spent_budget_fails_fast() -> None:
    """budget_exhausted: a shared budget with no room stops the retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_per_second=0.1, clock=clock)  # one retry per 10 s
    states: list[RetryState] = []
    policy = felix_hub_policy(clock, budget=budget, on_give_up=states.append)
    with pytest.raises(ConnectionError):
        policy.call(Flaky(*[ConnectionError() for _ in range(4)]))
    assert clock.sleeps == [1.0]
    assert states[0].give_up_reason == GiveUpReason.BUDGET_EXHAUSTED


def test_a_budget_allows_a_ratio_of_the_calls() -> None:
    """With ratio 0.5 and no floor, 10 calls allow 5 retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.5, min_per_second=0.0, clock=clock)
    for _ in range(10):
        budget.record_call()
    assert [budget.try_spend() for _ in range(6)] == [True] * 5 + [False]


def test_a_budget_forgets_calls_older_than_its_window() -> None:
    """After ten seconds, old calls and retries no longer count."""
    clock = FakeClock()
    budget = RetryBudget(ratio=1.0, min_per_second=0.0, clock=clock)
    budget.record_call()
    assert budget.try_spend()
    assert not budget.try_spend()
    clock.advance(11)
    budget.record_call()
    assert budget.try_spend()


def test_zero_waits_call_no_sleep() -> None:
    """Backoff.constant(0) retries without calling sleep at all."""
    clock = FakeClock()
    policy = RetryPolicy(on=(ConnectionError,), backoff=Backoff.constant(0), clock=clock)
    assert policy.call(Flaky(ConnectionError(), ConnectionError())) == "ok"
    assert clock.sleeps == []


def test_rejected_results_are_retried_and_the_last_is_returned() -> None:
    """retry_on_result retries values; when retrying ends the last value is returned."""
    clock = FakeClock()
    states: list[RetryState] = []
    results = iter([None, None, None, None])
    policy = felix_hub_policy(clock, retry_on_result=lambda r: r is None, on_give_up=states.append)
    assert policy.call(lambda: next(results)) is None
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert states[0].last_exception is None
    assert states[0].give_up_reason == GiveUpReason.ATTEMPTS_EXHAUSTED


def test_a_rejected_result_may_carry_a_server_delay() -> None:
    """A result with retry_after waits what it says; an accepted result ends the call."""
    clock = FakeClock()

    class Answer:
        def __init__(self, ok: bool) -> None:
            self.ok = ok
            self.retry_after = 5

    answers = iter([Answer(False), Answer(True)])
    policy = felix_hub_policy(clock, retry_on_result=lambda a: not a.ok)
    assert policy.call(lambda: next(answers)).ok
    assert clock.sleeps == [5.0]


def test_an_accepted_first_result_is_returned_by_the_general_path() -> None:
    """With retry_on_result set, a first good value is returned at once."""
    clock = FakeClock()
    policy = felix_hub_policy(clock, retry_on_result=lambda r: r is None)
    assert policy(Flaky())() == "ok"
    assert clock.sleeps == []


def test_on_retry_sees_the_wait_about_to_begin() -> None:
    """on_retry runs before each wait with no give-up reason and the wait as the last entry."""
    clock = FakeClock()
    states: list[RetryState] = []
    felix_hub_policy(clock, on_retry=states.append).call(
        Flaky(ConnectionError(), ConnectionError())
    )
    assert [state.attempts for state in states] == [1, 2]
    assert list(states[0].waits) == [(1.0, "backoff")]
    assert all(state.give_up_reason is None for state in states)


def test_a_failing_callback_is_logged_and_does_not_break_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception in on_retry is logged; the call goes on."""

    def broken(state: RetryState) -> None:
        raise RuntimeError("callback bug")

    clock = FakeClock()
    with caplog.at_level(logging.ERROR, logger="felix_reliability.retry"):
        assert felix_hub_policy(clock, on_retry=broken).call(Flaky(ConnectionError())) == "ok"
    assert [r.getMessage()[:14] for r in caplog.records] == ["retry callback"]


def test_metrics_count_waits_by_source_and_give_ups_by_reason() -> None:
    """felix_retries per wait by delay_source; felix_retry_give_ups by reason."""
    clock = FakeClock()
    metrics = Recorder()
    policy = felix_hub_policy(
        clock, on=(SlowDownError, ConnectionError), metrics=metrics, attempts=3
    )

    @policy
    def send() -> str:
        raise flaky_errors.pop(0)

    flaky_errors: list[Exception] = [SlowDownError(1), ConnectionError(), ConnectionError()]
    with pytest.raises(ConnectionError):
        send()
    operation = send.__qualname__
    assert [
        (RETRIES, 1.0, {"operation": operation, "delay_source": "server"}),
        (RETRIES, 1.0, {"operation": operation, "delay_source": "backoff"}),
        (RETRY_GIVE_UPS, 1.0, {"operation": operation, "reason": "attempts_exhausted"}),
    ] == metrics.increments


def test_name_sets_the_operation_label() -> None:
    """name= replaces the function's qualified name in the metric labels."""
    clock = FakeClock()
    metrics = Recorder()
    policy = felix_hub_policy(clock, metrics=metrics, name="telegram.send_message")
    policy.call(Flaky(ConnectionError()))
    assert metrics.increments[0][2]["operation"] == "telegram.send_message"


def test_the_private_entry_point_reports_each_give_up_to_its_caller() -> None:
    """_execute (for Guard) takes the operation label and a per-call on_give_up."""
    clock = FakeClock()
    metrics = Recorder()
    seen: list[RetryState] = []
    policy = felix_hub_policy(clock, metrics=metrics)
    with pytest.raises(KeyError):
        policy._execute(Flaky(KeyError()), (), {}, operation="guarded", on_give_up=seen.append)
    assert seen[0].give_up_reason == GiveUpReason.NOT_RETRYABLE
    assert metrics.increments[0] == (
        RETRY_GIVE_UPS,
        1.0,
        {"operation": "guarded", "reason": "not_retryable"},
    )


def test_the_decorator_preserves_the_function() -> None:
    """functools.wraps keeps the name and docstring; arguments pass through."""

    @retry(on=(ConnectionError,), clock=FakeClock())
    def add(a: int, b: int = 0) -> int:
        """Add two numbers."""
        return a + b

    assert add(2, b=3) == 5
    assert add.__name__ == "add"
    assert add.__doc__ == "Add two numbers."


def test_decorated_functions_retry_on_every_path() -> None:
    """The fast path (no deadline, budget or result check) and the general path both retry."""
    clock = FakeClock()
    fast_flaky = Flaky(ConnectionError())
    general_flaky = Flaky(ConnectionError())
    assert felix_hub_policy(clock)(fast_flaky)() == "ok"
    assert felix_hub_policy(clock, deadline=60)(general_flaky)() == "ok"
    assert 2 == fast_flaky.calls == general_flaky.calls


def test_elapsed_counts_from_the_first_failure_without_a_deadline() -> None:
    """Without a deadline the success path reads no clock; elapsed starts at the first failure."""
    clock = FakeClock()
    states: list[RetryState] = []

    @felix_hub_policy(clock, on_give_up=states.append, attempts=2)
    def slow() -> None:
        clock.advance(5)
        raise ConnectionError

    with pytest.raises(ConnectionError):
        slow()
    assert states[0].elapsed == 6.0


def test_a_policy_is_shared_safely_between_threads() -> None:
    """Per-call state lives in the call: concurrent calls do not mix attempts."""
    clock = FakeClock()
    policy = RetryPolicy(
        on=(ConnectionError,), attempts=3, backoff=Backoff.constant(0), clock=clock
    )
    results: list[str] = []

    def worker() -> None:
        results.extend(policy.call(Flaky(ConnectionError(), ConnectionError())) for _ in range(200))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 800


# --- async ---


class AsyncFlaky:
    """The async twin of Flaky."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(0)
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_async_functions_are_retried_with_the_async_sleep() -> None:
    """A decorated coroutine function sleeps with sleep_async and re-raises with a note."""
    clock = FakeClock()
    flaky = AsyncFlaky(*[ConnectionError() for _ in range(4)])

    @felix_hub_policy(clock)
    async def send() -> str:
        return await flaky()

    with pytest.raises(ConnectionError) as info:
        asyncio.run(send())
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert "attempts_exhausted" in info.value.__notes__[0]


def test_async_call_and_the_general_async_path_retry() -> None:
    """policy.call on a coroutine function returns an awaitable; deadline/result paths work."""
    clock = FakeClock()

    async def main() -> list[object]:
        first = await felix_hub_policy(clock).call(AsyncFlaky(ConnectionError()))
        second = await felix_hub_policy(clock, deadline=60)(AsyncFlaky(ConnectionError()))()
        answers = iter([None, "ok"])

        async def answer() -> str | None:
            return next(answers)

        third = await felix_hub_policy(clock, retry_on_result=lambda r: r is None).call(answer)
        fourth = await felix_hub_policy(clock, retry_on_result=lambda r: r is None).call(
            AsyncFlaky()
        )
        return [first, second, third, fourth]

    assert asyncio.run(main()) == ["ok", "ok", "ok", "ok"]
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_async_rejected_results_are_returned_when_retrying_ends() -> None:
    """The async general path returns the last rejected value on exhaustion."""
    clock = FakeClock()

    async def never_ready() -> None:
        return None

    policy = felix_hub_policy(clock, attempts=2, retry_on_result=lambda r: r is None)
    assert asyncio.run(policy.call(never_ready)) is None
    assert clock.sleeps == [1.0]


class BlockingClock(FakeClock):
    """A FakeClock whose async sleep blocks until cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = asyncio.Event()

    async def sleep_async(self, seconds: float) -> None:
        self.sleeping.set()
        await asyncio.Event().wait()


def test_cancelling_a_sleeping_async_retry_propagates_at_once() -> None:
    """Cancellation during the wait ends the call with CancelledError; no further attempt."""
    clock = BlockingClock()
    flaky = AsyncFlaky(*[ConnectionError() for _ in range(4)])
    states: list[RetryState] = []

    async def main() -> None:
        task = asyncio.create_task(felix_hub_policy(clock, on_give_up=states.append).call(flaky))
        await clock.sleeping.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert flaky.calls == 1
    assert states == []


# --- blocks ---


def test_a_block_is_retried_until_it_succeeds() -> None:
    """for attempt in policy: with attempt: retries the block."""
    clock = FakeClock()
    flaky = Flaky(ConnectionError(), ConnectionError())
    numbers = []
    for attempt in felix_hub_policy(clock):
        with attempt:
            numbers.append(attempt.number)
            flaky()
    assert numbers == [1, 2, 3]
    assert clock.sleeps == [1.0, 2.0]


def test_a_block_that_gives_up_raises_with_a_note() -> None:
    """The block's last exception propagates out of the loop with the note."""
    clock = FakeClock()
    with pytest.raises(ConnectionError) as info:  # noqa: PT012 - the loop is the unit under test
        for attempt in felix_hub_policy(clock, attempts=2):
            with attempt:
                raise ConnectionError
    assert "retry gave up after 2 attempts" in info.value.__notes__[0]


def test_attempt_remaining_is_the_time_left_before_the_deadline() -> None:
    """attempt.remaining shrinks with the clock; None without a deadline."""
    clock = FakeClock()
    remaining = []
    for attempt in felix_hub_policy(clock, deadline=10):
        with attempt:
            remaining.append(attempt.remaining)
            if attempt.number < 3:
                raise ConnectionError
    assert remaining == [10.0, 9.0, 7.0]
    for attempt in felix_hub_policy(clock):
        with attempt:
            assert attempt.remaining is None
            assert repr(attempt) == "RetryAttempt(number=1, remaining=None)"


def test_a_block_without_with_runs_once() -> None:
    """An attempt never entered counts as done: the loop stops."""
    clock = FakeClock()
    assert sum(1 for _ in felix_hub_policy(clock)) == 1


def test_a_base_exception_leaves_a_block_at_once() -> None:
    """KeyboardInterrupt inside the block is not retried."""
    clock = FakeClock()
    with pytest.raises(KeyboardInterrupt):  # noqa: PT012 - the loop is the unit under test
        for attempt in felix_hub_policy(clock):
            with attempt:
                raise KeyboardInterrupt
    assert clock.sleeps == []


def test_an_async_block_is_retried_with_the_async_sleep() -> None:
    """async for attempt in policy: with attempt: retries the block."""
    clock = FakeClock()

    async def main() -> int:
        flaky = AsyncFlaky(ConnectionError(), ConnectionError())
        async for attempt in felix_hub_policy(clock, budget=RetryBudget(clock=clock)):
            with attempt:
                await flaky()
        return flaky.calls

    assert asyncio.run(main()) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_a_block_reports_to_metrics_as_block_unless_named() -> None:
    """A block's operation label is the policy name, else "block"."""
    clock = FakeClock()
    metrics = Recorder()
    for attempt in felix_hub_policy(clock, metrics=metrics):
        with attempt:
            if attempt.number == 1:
                raise ConnectionError
    assert metrics.increments[0][2]["operation"] == "block"


# --- testing switches ---


def test_instant_retries_skips_waits_inside_the_block_only() -> None:
    """instant_retries(): no sleep inside, waits still recorded; sleeping again after."""
    clock = FakeClock()
    states: list[RetryState] = []
    policy = felix_hub_policy(clock, on_retry=states.append)
    with instant_retries():
        assert policy.call(Flaky(ConnectionError(), ConnectionError())) == "ok"
        assert asyncio.run(policy.call(AsyncFlaky(ConnectionError()))) == "ok"
    assert clock.sleeps == []
    assert states[1].waits == ((1.0, "backoff"), (2.0, "backoff"))
    policy.call(Flaky(ConnectionError()))
    assert clock.sleeps == [1.0]


def test_set_testing_skips_waits_process_wide() -> None:
    """set_testing(True) reaches other threads; set_testing(False) restores waiting."""
    clock = FakeClock()
    policy = felix_hub_policy(clock)
    set_testing(True)
    try:
        thread = threading.Thread(target=policy.call, args=(Flaky(ConnectionError()),))
        thread.start()
        thread.join()
    finally:
        set_testing(False)
    assert clock.sleeps == []
    policy.call(Flaky(ConnectionError()))
    assert clock.sleeps == [1.0]


def test_set_testing_requires_a_bool() -> None:
    """set_testing names its parameter when given a non-bool."""
    with pytest.raises(TypeError, match="enabled"):
        set_testing(1)  # type: ignore[arg-type]


# --- configuration ---


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"attempts": 0}, "attempts", ValueError),
        ({"attempts": 2.5}, "attempts", TypeError),
        ({"backoff": 1.0}, "backoff", TypeError),
        ({"deadline": 0}, "deadline", ValueError),
        ({"deadline": "30"}, "deadline", TypeError),
        ({"retry_after": "yes"}, "retry_after", TypeError),
        ({"max_retry_after": -1}, "max_retry_after", ValueError),
        ({"retry_after_jitter": float("inf")}, "retry_after_jitter", ValueError),
        ({"retry_on_result": 3}, "retry_on_result", TypeError),
        ({"budget": 0.2}, "budget", TypeError),
        ({"on_retry": "log"}, "on_retry", TypeError),
        ({"on_give_up": 1}, "on_give_up", TypeError),
        ({"clock": object()}, "clock", TypeError),
        ({"metrics": object()}, "metrics", TypeError),
        ({"name": ""}, "name", TypeError),
        ({"on": ()}, "on", ValueError),
        ({"on": (ValueError, "KeyError")}, "on", TypeError),
        ({"on": 42}, "on", TypeError),
    ],
)
def test_invalid_configuration_names_the_parameter(
    kwargs: dict[str, object], name: str, error: type[Exception]
) -> None:
    """Every bad value raises at construction, naming the parameter."""
    options: dict[str, object] = {"on": (ConnectionError,)}
    options.update(kwargs)
    with pytest.raises(error, match=name):
        RetryPolicy(**options)  # type: ignore[arg-type]


def test_on_is_required() -> None:
    """Retrying every exception is never the default."""
    with pytest.raises(TypeError, match="on"):
        RetryPolicy()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"ratio": -0.1}, "ratio"), ({"min_per_second": float("nan")}, "min_per_second")],
)
def test_invalid_budget_configuration_names_the_parameter(
    kwargs: dict[str, float], name: str
) -> None:
    """RetryBudget validates its values."""
    with pytest.raises(ValueError, match=name):
        RetryBudget(**kwargs)


def test_budget_clock_must_be_a_clock() -> None:
    """RetryBudget rejects a clock that is not a Clock."""
    with pytest.raises(TypeError, match="clock"):
        RetryBudget(clock=object())  # type: ignore[arg-type]


def test_retry_builds_the_same_policy_as_the_class() -> None:
    """retry(**same) is RetryPolicy(**same) with the default backoff and clock filled in."""
    policy = retry(on=(ConnectionError,), attempts=3)
    assert policy.attempts == 3
    assert policy.backoff.kind == "exponential"
    assert policy.backoff.max == 30.0
    assert policy.backoff.jitter == "full"


def test_give_up_reasons_are_the_contract_strings() -> None:
    """GiveUpReason values are the strings of the contract."""
    assert [reason.value for reason in GiveUpReason] == [
        "attempts_exhausted",
        "not_retryable",
        "retry_after_too_long",
        "deadline_exceeded",
        "budget_exhausted",
        "circuit_open",
    ]


def test_the_attempt_iterators_are_their_own_iterators() -> None:
    """iter() and aiter() on the attempt loops return the loops themselves."""
    policy = felix_hub_policy(FakeClock())
    loop = iter(policy)
    assert iter(loop) is loop
    async_loop = aiter(policy)
    assert aiter(async_loop) is async_loop


def test_an_async_call_records_itself_in_the_budget() -> None:
    """The async general path counts each call in the shared budget."""
    clock = FakeClock()
    budget = RetryBudget(ratio=1.0, min_per_second=0.0, clock=clock)
    policy = felix_hub_policy(clock, budget=budget)
    assert asyncio.run(policy.call(AsyncFlaky(ConnectionError()))) == "ok"
    assert clock.sleeps == [1.0]
    assert not budget.try_spend()


@given(
    backoff=backoffs(),
    deadline=st.floats(min_value=0.001, max_value=1e4),
    attempts=st.integers(min_value=1, max_value=30),
    durations=st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=30, max_size=30),
)
def test_waits_and_attempts_never_pass_the_deadline(
    backoff: Backoff, deadline: float, attempts: int, durations: list[float]
) -> None:
    """Whatever the schedule and attempt durations, no wait ends and no attempt starts past it."""
    clock = FakeClock()
    starts: list[float] = []
    pending = iter(durations)

    def always_fails() -> None:
        starts.append(clock.monotonic())
        clock.advance(next(pending))
        raise ConnectionError

    policy = RetryPolicy(
        on=(ConnectionError,), attempts=attempts, backoff=backoff, deadline=deadline, clock=clock
    )
    with pytest.raises(ConnectionError):
        policy.call(always_fails)
    assert sum(clock.sleeps) < deadline
    assert all(start < deadline for start in starts[1:])
    assert all(sleep >= 0.0 for sleep in clock.sleeps)
