"""CircuitBreaker: states, classification, admin actions, events, metrics, store seam."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable

import pytest

from felix_reliability import (
    BreakerEvent,
    BreakerRegistry,
    BreakerState,
    CallFailed,
    CallIgnored,
    CallRejected,
    CallSucceeded,
    CircuitBreaker,
    ConsecutiveFailures,
    FailureRate,
    Outcome,
    ProbeGrant,
    SharedState,
    StateChanged,
    TimeWindow,
)
from felix_reliability._breaker_store import LocalBreakerStore
from felix_reliability._metrics import BREAKER_CALLS, BREAKER_STATE, BREAKER_TRANSITIONS, Labels
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class DownError(ConnectionError):
    """The remote API is down."""


def ok() -> str:
    return "ok"


def down() -> str:
    raise DownError("down")


def fail(breaker: CircuitBreaker, times: int = 1, exc: BaseException | None = None) -> None:
    for _ in range(times):
        with pytest.raises(BaseException):  # noqa: B017, PT012 - rejection, or the error itself
            if exc is None:
                breaker.call(down)
            else:

                def raiser() -> None:
                    raise exc

                breaker.call(raiser)


def make(clock: FakeClock | None = None, **kwargs: object) -> CircuitBreaker:
    options: dict[str, object] = {"name": "telegram", "clock": clock or FakeClock()}
    options.update(kwargs)
    return CircuitBreaker(**options)  # type: ignore[arg-type]


class RecordingMetrics:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, float, dict[str, str]]] = []

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        self.records.append(("increment", name, value, dict(labels or {})))

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        self.records.append(("observe", name, value, dict(labels or {})))

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        self.records.append(("gauge", name, value, dict(labels or {})))


# --- defaults and the state machine ---------------------------------------------------------


def test_defaults_are_felix_hubs() -> None:
    """10 consecutive failures open it, it stays open 120 s, 3 probes close it."""
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 9)
    assert breaker.state == CLOSED
    fail(breaker)
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert (info.value.breaker_name, info.value.retry_after) == ("telegram", 120.0)
    clock.advance(120)
    for expected in (HALF_OPEN, HALF_OPEN, CLOSED):
        assert breaker.call(ok) == "ok"
        assert expected == breaker.state


def test_a_success_resets_the_consecutive_count() -> None:
    """Failures must be consecutive: a success in between starts the count again."""
    breaker = make(failure_threshold=3)
    fail(breaker, 2)
    breaker.call(ok)
    assert breaker.snapshot().failure_count == 0
    fail(breaker, 2)
    assert (breaker.state, breaker.snapshot().failure_count) == (CLOSED, 2)


def test_a_failed_probe_opens_again() -> None:
    """A failure in half-open reopens the circuit for another recovery_timeout."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=5.0)
    fail(breaker)
    clock.advance(5)
    fail(breaker)
    assert breaker.state == OPEN
    assert breaker.snapshot().retry_after == 5.0


def test_half_open_admits_at_most_max_calls_probes() -> None:
    """Concurrent probes beyond half_open_max_calls are rejected at once."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=2)
    fail(breaker)
    clock.advance(1)
    first, second, third = breaker.attempt(), breaker.attempt(), breaker.attempt()
    first.__enter__()
    second.__enter__()
    with pytest.raises(CircuitOpenError) as info:
        third.__enter__()
    assert info.value.retry_after == 0.0
    first.__exit__(None, None, None)
    with breaker.attempt():
        pass
    assert (breaker.state, breaker.snapshot().success_count) == (HALF_OPEN, 2)
    second.__exit__(None, None, None)
    assert breaker.state == CLOSED


def test_a_probe_slot_is_released_when_the_probe_is_ignored() -> None:
    """An ignored probe (e.g. KeyboardInterrupt) frees its slot without a transition."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0)
    fail(breaker)
    clock.advance(1)
    with pytest.raises(KeyboardInterrupt), breaker.attempt():
        raise KeyboardInterrupt
    assert breaker.state == HALF_OPEN
    with breaker.attempt():
        pass
    assert breaker.snapshot().success_count == 1


def test_results_of_an_earlier_generation_cause_no_transition() -> None:
    """A call admitted while closed that fails after the circuit opened changes nothing."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, success_threshold=1)
    stale = breaker.attempt().__enter__()
    fail(breaker)
    clock.advance(1)
    breaker.call(ok)
    assert breaker.state == CLOSED
    stale.__exit__(DownError, DownError("late"), None)
    assert breaker.state == CLOSED
    assert breaker.snapshot().total_failures == 2


def test_stale_probe_results_cause_no_transition() -> None:
    """A probe of an earlier half-open period neither closes nor opens the circuit."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=2)
    fail(breaker)
    clock.advance(1)
    slow = breaker.attempt().__enter__()
    fail(breaker)  # the other probe fails: open again
    slow.__exit__(None, None, None)
    assert breaker.state == OPEN


# --- classification -------------------------------------------------------------------------


def test_ignore_wins_over_failure_on() -> None:
    """An exception matching `ignore` is ignored even if it matches `failure_on`."""
    breaker = make(failure_threshold=1, ignore=(DownError,))
    fail(breaker)
    assert (breaker.state, breaker.snapshot().total_ignored) == (CLOSED, 1)


def test_exceptions_outside_failure_on_are_ignored() -> None:
    """Only `failure_on` exceptions count; any other is ignored."""
    breaker = make(failure_threshold=1, failure_on=(TimeoutError,))
    fail(breaker)
    assert breaker.state == CLOSED
    fail(breaker, exc=TimeoutError())
    assert breaker.state == OPEN


def test_classify_decides_when_given() -> None:
    """classify(exc) overrides failure_on and ignore."""
    breaker = make(failure_threshold=1, ignore=(DownError,), classify=lambda _exc: Outcome.FAILURE)
    fail(breaker)
    assert breaker.state == OPEN


def test_base_exceptions_are_always_ignored() -> None:
    """Cancellation and KeyboardInterrupt never count, whatever classify says."""
    breaker = make(failure_threshold=1, classify=lambda _exc: Outcome.FAILURE)
    fail(breaker, exc=KeyboardInterrupt())
    assert (breaker.state, breaker.snapshot().total_ignored) == (CLOSED, 1)


def test_the_callers_exception_is_reraised_unchanged() -> None:
    """The very exception object the function raised reaches the caller."""
    breaker = make()
    error = DownError("boom")

    def raiser() -> None:
        raise error

    with pytest.raises(DownError) as info:
        breaker.call(raiser)
    assert error is info.value


def test_result_is_failure_counts_a_returned_value() -> None:
    """A value judged a failure counts as one, and the value is still returned."""
    breaker = make(failure_threshold=2, result_is_failure=lambda result: result == "ok")
    assert [breaker.call(ok), breaker(ok)()] == ["ok", "ok"]
    assert breaker.state == OPEN


def test_result_is_failure_false_is_a_success() -> None:
    """A value not judged a failure is a success."""
    breaker = make(result_is_failure=lambda result: result is None)
    breaker.call(ok)
    assert breaker.snapshot().total_successes == 1


def test_mark_failure_in_a_block() -> None:
    """permit.mark_failure() counts a block without exception as a failure."""
    breaker = make(failure_threshold=1)
    with breaker.attempt() as permit:
        permit.mark_failure()
    assert breaker.state == OPEN


# --- admin ----------------------------------------------------------------------------------


def test_force_open_rejects_without_schedule_until_reset() -> None:
    """force_open rejects every call with retry_after None, even long after."""
    clock = FakeClock()
    breaker = make(clock)
    breaker.force_open()
    clock.advance(10_000)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.retry_after is None
    with pytest.raises(CircuitOpenError), breaker.attempt():
        pass
    assert breaker.snapshot().retry_after is None
    breaker.reset()
    assert breaker.call(ok) == "ok"


def test_disable_lets_everything_through_and_counts_nothing() -> None:
    """disable(): calls pass, failures do not trip, nothing is counted, until reset()."""
    breaker = make(failure_threshold=1)
    breaker.disable()
    fail(breaker, 3)
    assert breaker.call(ok) == "ok"
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.total_calls, snapshot.total_failures) == (CLOSED, 0, 0)
    breaker.reset()
    fail(breaker)
    assert breaker.state == OPEN


def test_disable_while_open_keeps_state_but_admits() -> None:
    """A disabled breaker admits calls whatever its last state."""
    breaker = make(failure_threshold=1)
    fail(breaker)
    breaker.disable()
    with breaker.attempt():
        pass
    assert breaker.call(ok) == "ok"
    assert breaker.state == OPEN
    breaker.reset()
    assert breaker.state == CLOSED


def test_reset_clears_counts() -> None:
    """reset() closes the circuit and clears the failure count."""
    breaker = make(failure_threshold=3)
    fail(breaker, 2)
    breaker.reset()
    fail(breaker, 2)
    assert breaker.state == CLOSED


# --- snapshot, registry, events, metrics ---------------------------------------------------


def test_snapshot_totals_and_to_dict() -> None:
    """Totals add up and to_dict() is JSON-ready with wall-clock opened_at."""
    clock = FakeClock(wall_start=1_000.0)
    breaker = make(clock, failure_threshold=2)
    breaker.call(ok)
    fail(breaker, exc=KeyboardInterrupt())
    fail(breaker, 3)
    data = breaker.snapshot().to_dict()
    assert data == {
        "name": "telegram",
        "state": "open",
        "failure_count": 0,
        "success_count": 0,
        "opened_at": 1_000.0,
        "retry_after": 120.0,
        "total_calls": 4,
        "total_successes": 1,
        "total_failures": 2,
        "total_ignored": 1,
        "total_rejections": 1,
    }
    assert data == json.loads(json.dumps(data))


def test_registry() -> None:
    """register/get/iterate/snapshots; a different breaker under a taken name is refused."""
    registry = BreakerRegistry()
    first = make()
    assert first is registry.register(first)
    registry.register(first)
    with pytest.raises(ValueError, match="telegram"):
        registry.register(make())
    assert (first, [first], 1) == (registry.get("telegram"), list(registry), len(registry))
    assert [snapshot.name for snapshot in registry.snapshots()] == ["telegram"]


def test_decorated_successes_reach_listeners() -> None:
    """The decorator's closed fast path tells listeners about each success too."""
    events: list[BreakerEvent] = []
    breaker = make(listeners=[events.append])
    assert breaker(ok)() == "ok"
    assert [CallSucceeded("telegram")] == events


def test_decorated_successes_are_counted_in_metrics() -> None:
    """The decorator's closed fast path counts each success in felix_breaker_calls."""
    from felix_reliability import InMemoryMetrics

    metrics = InMemoryMetrics(clock=FakeClock())
    assert make(metrics=metrics)(ok)() == "ok"
    labels = {"breaker": "telegram", "outcome": "success"}
    assert metrics.total("felix_breaker_calls", labels) == 1


def test_listeners_receive_typed_events_in_order() -> None:
    """Each outcome and transition is delivered as a frozen event."""
    clock = FakeClock()
    events: list[BreakerEvent] = []
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, success_threshold=1)
    breaker = make(
        clock,
        failure_threshold=1,
        recovery_timeout=1.0,
        success_threshold=1,
        listeners=[events.append],
    )
    breaker.call(ok)
    fail(breaker, exc=KeyboardInterrupt())
    error = DownError()
    fail(breaker, exc=error)
    fail(breaker)
    clock.advance(1)
    breaker.call(ok)
    assert [
        CallSucceeded("telegram"),
        CallIgnored("telegram", events[1].exception),  # type: ignore[union-attr]
        CallFailed("telegram", error),
        StateChanged("telegram", CLOSED, OPEN),
        CallRejected("telegram", 1.0),
        StateChanged("telegram", OPEN, HALF_OPEN),
        CallSucceeded("telegram"),
        StateChanged("telegram", HALF_OPEN, CLOSED),
    ] == events


def test_a_failing_listener_is_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    """A listener that raises does not break the call, and is logged."""
    seen: list[BreakerEvent] = []

    def broken(event: BreakerEvent) -> None:
        raise RuntimeError("listener bug")

    breaker = make(listeners=[broken, seen.append])
    with caplog.at_level(logging.ERROR, logger="felix_reliability.breaker"):
        assert breaker.call(ok) == "ok"
    assert [CallSucceeded("telegram")] == seen
    assert "listener" in caplog.text


def test_metrics_follow_the_catalogue() -> None:
    """State gauge 0/1/2, transitions by to_state, calls by outcome."""
    clock = FakeClock()
    metrics = RecordingMetrics()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, metrics=metrics)
    breaker.call(ok)
    fail(breaker)
    fail(breaker)
    fail(breaker, exc=KeyboardInterrupt())  # rejected first: open
    clock.advance(1)
    breaker.call(ok)
    labels = {"breaker": "telegram"}
    assert [
        ("increment", BREAKER_CALLS, 1.0, {**labels, "outcome": "success"}),
        ("increment", BREAKER_CALLS, 1.0, {**labels, "outcome": "failure"}),
        ("gauge", BREAKER_STATE, 2.0, labels),
        ("increment", BREAKER_TRANSITIONS, 1.0, {**labels, "to_state": "open"}),
        ("increment", BREAKER_CALLS, 1.0, {**labels, "outcome": "rejected"}),
        ("increment", BREAKER_CALLS, 1.0, {**labels, "outcome": "rejected"}),
        ("gauge", BREAKER_STATE, 1.0, labels),
        ("increment", BREAKER_TRANSITIONS, 1.0, {**labels, "to_state": "half_open"}),
        ("increment", BREAKER_CALLS, 1.0, {**labels, "outcome": "success"}),
    ] == metrics.records


def test_a_failing_metrics_collector_is_isolated(caplog: pytest.LogCaptureFixture) -> None:
    """A collector that raises is logged; the call goes on."""

    class Broken(RecordingMetrics):
        def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
            raise RuntimeError("collector bug")

    breaker = make(metrics=Broken())
    with caplog.at_level(logging.ERROR):
        assert breaker.call(ok) == "ok"
    assert "metrics" in caplog.text


def test_a_metrics_collector_failing_on_a_failure_event_is_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A collector raising while a failure is recorded is logged; the caller's error stands."""

    class Broken(RecordingMetrics):
        def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
            raise RuntimeError("collector bug")

    breaker = make(metrics=Broken())
    with caplog.at_level(logging.ERROR):
        fail(breaker)
    assert "metrics collector failed" in caplog.text


# --- trip policies --------------------------------------------------------------------------


def test_failure_rate_over_a_count_window() -> None:
    """FailureRate trips when the failed fraction of the last N calls reaches the threshold."""
    breaker = make(trip=FailureRate(0.5, window=4, minimum_calls=4))
    breaker.call(ok)
    fail(breaker)
    breaker.call(ok)
    assert breaker.state == CLOSED
    fail(breaker)
    assert breaker.state == OPEN


def test_failure_rate_waits_for_minimum_calls() -> None:
    """Below minimum_calls the rate never trips."""
    breaker = make(trip=FailureRate(0.5, window=10, minimum_calls=3))
    fail(breaker, 2)
    assert (breaker.state, breaker.snapshot().failure_count) == (CLOSED, 2)
    fail(breaker)
    assert breaker.state == OPEN


def test_failure_rate_over_a_time_window() -> None:
    """With TimeWindow, failures older than the window no longer count."""
    clock = FakeClock()
    breaker = make(clock, trip=FailureRate(1.0, window=TimeWindow(10.0), minimum_calls=2))
    fail(breaker)
    clock.advance(11)
    breaker.call(ok)
    with breaker.attempt():
        pass
    fail(breaker)
    assert breaker.state == CLOSED
    fail(breaker)
    assert breaker.state == CLOSED
    assert breaker.snapshot().failure_count == 2


def test_time_window_success_of_an_old_period_is_counted_only_in_totals() -> None:
    """A success admitted before a trip still counts in totals but not in the new window."""
    clock = FakeClock()
    breaker = make(clock, trip=FailureRate(1.0, window=TimeWindow(10.0), minimum_calls=1))
    stale = breaker.attempt().__enter__()
    fail(breaker)
    stale.__exit__(None, None, None)
    assert (breaker.state, breaker.snapshot().total_successes) == (OPEN, 1)


# --- invalid configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "parameter"),
    [
        ({"failure_threshold": 0}, ValueError, "failure_threshold"),
        ({"failure_threshold": -3}, ValueError, "failure_threshold"),
        ({"failure_threshold": 2.5}, TypeError, "failure_threshold"),
        ({"recovery_timeout": math.nan}, ValueError, "recovery_timeout"),
        ({"recovery_timeout": -1.0}, ValueError, "recovery_timeout"),
        ({"recovery_timeout": "120"}, TypeError, "recovery_timeout"),
        ({"success_threshold": 0}, ValueError, "success_threshold"),
        ({"half_open_max_calls": 0}, ValueError, "half_open_max_calls"),
        ({"failure_threshold": 3, "trip": ConsecutiveFailures(3)}, TypeError, "both"),
        ({"trip": "often"}, TypeError, "trip"),
        ({"failure_on": DownError}, TypeError, "failure_on"),
        ({"ignore": (DownError, "x")}, TypeError, "ignore"),
        ({"classify": 3}, TypeError, "classify"),
        ({"result_is_failure": "no"}, TypeError, "result_is_failure"),
        ({"name": ""}, TypeError, "name"),
    ],
)
def test_invalid_configuration_names_the_parameter(
    kwargs: dict[str, object], error: type[Exception], parameter: str
) -> None:
    """Bad values raise ValueError/TypeError at construction, naming the parameter."""
    with pytest.raises(error, match=parameter):
        make(**kwargs)


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: ConsecutiveFailures(0), "n"),
        (lambda: FailureRate(0.0), "threshold"),
        (lambda: FailureRate(1.5), "threshold"),
        (lambda: FailureRate(0.5, window=0), "window"),
        (lambda: FailureRate(0.5, minimum_calls=0), "minimum_calls"),
        (lambda: TimeWindow(math.nan), "seconds"),
        (lambda: TimeWindow(0), "seconds"),
    ],
)
def test_invalid_policies_name_the_parameter(build: Callable[[], object], parameter: str) -> None:
    """Trip policies validate their values too."""
    with pytest.raises(ValueError, match=parameter):
        build()


# --- asyncio --------------------------------------------------------------------------------


def test_async_decorator_behaves_like_the_sync_form() -> None:
    """The async decorator counts, trips and rejects like the sync one."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=2, recovery_timeout=1.0, success_threshold=1)

    @breaker
    async def send(text: str) -> str:
        if text == "bad":
            raise DownError
        return text

    async def scenario() -> list[object]:
        seen: list[object] = [await send("hi")]
        for _ in range(2):
            with pytest.raises(DownError):
                await send("bad")
        with pytest.raises(CircuitOpenError):
            await send("hi")
        clock.advance(1)
        seen.append(await send("again"))
        return seen

    assert asyncio.run(scenario()) == ["hi", "again"]
    assert breaker.state == CLOSED
    assert send.__name__ == "send"


def test_async_with_attempt() -> None:
    """`async with breaker.attempt()` records the block's outcome."""
    breaker = make(failure_threshold=1, result_is_failure=lambda result: result is None)

    @breaker
    async def nothing() -> None:
        return None

    async def scenario() -> None:
        async with breaker.attempt():
            pass
        await nothing()

    asyncio.run(scenario())
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.total_successes, snapshot.total_failures) == (OPEN, 1, 1)


def test_a_cancelled_half_open_probe_frees_its_slot() -> None:
    """Cancelling the only probe releases the slot; the next probe is admitted."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, success_threshold=1)
    fail(breaker)
    clock.advance(1)
    started = asyncio.Event()

    @breaker
    async def hang() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    @breaker
    async def quick() -> str:
        return "ok"

    async def scenario() -> str:
        task = asyncio.create_task(hang())
        await started.wait()
        with pytest.raises(CircuitOpenError):
            await quick()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await quick()

    assert asyncio.run(scenario()) == "ok"
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.total_ignored) == (CLOSED, 1)


# --- the store seam -------------------------------------------------------------------------


class CountingStore(LocalBreakerStore):
    """A local store that records which operations the breaker asked for."""

    __slots__ = ("calls", "interval")

    def __init__(self, clock: FakeClock, interval: float | None = None) -> None:
        super().__init__(clock)
        self.calls: list[str] = []
        self.interval = interval

    @property
    def sync_interval(self) -> float | None:
        return self.interval

    def load(self, name: str) -> SharedState:
        self.calls.append("load")
        return super().load(name)

    def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        self.calls.append("open")
        return super().open(name, expected_generation=expected_generation, open_for=open_for)

    def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        self.calls.append("acquire_probe")
        return super().acquire_probe(name, max_probes=max_probes)

    def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        self.calls.append("release_probe")
        return super().release_probe(
            name,
            generation=generation,
            success=success,
            success_threshold=success_threshold,
            open_for=open_for,
        )

    def reset(self, name: str) -> SharedState:
        self.calls.append("reset")
        return super().reset(name)


def test_a_custom_store_is_consulted_but_not_on_closed_successes() -> None:
    """Closed successes and pre-trip failures never reach the store; the rest does."""
    clock = FakeClock()
    store = CountingStore(clock)
    breaker = make(
        clock, failure_threshold=2, recovery_timeout=1.0, success_threshold=1, store=store
    )
    for _ in range(100):
        breaker.call(ok)
    fail(breaker)
    assert store.calls == []
    fail(breaker)
    clock.advance(1)
    breaker.call(ok)
    breaker.force_open()
    breaker.reset()
    assert store.calls == ["open", "acquire_probe", "release_probe", "open", "reset"]


def test_an_opening_elsewhere_is_learned_within_sync_interval() -> None:
    """With sync_interval, a closed breaker loads the record once per interval."""
    clock = FakeClock()
    store = CountingStore(clock, interval=1.0)
    breaker = make(clock, store=store)
    breaker.call(ok)
    assert store.calls == []
    store.open("telegram", expected_generation=None, open_for=30.0)  # another process trips it
    breaker.call(ok)
    clock.advance(1)
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)
    assert breaker.state == OPEN
    assert store.calls == ["open", "load"]


def test_a_closed_record_reloaded_schedules_the_next_sync() -> None:
    """After a load that finds the circuit closed, the next load waits another interval."""
    clock = FakeClock()
    store = CountingStore(clock, interval=1.0)
    breaker = make(clock, store=store)
    clock.advance(1)
    breaker.call(ok)
    breaker.call(ok)
    assert store.calls == ["load"]


def test_a_probe_refused_because_another_process_closed_it_runs_as_a_closed_call() -> None:
    """A half-open breaker whose store answers "closed elsewhere" admits the call closed."""
    clock = FakeClock()
    store = CountingStore(clock, interval=1.0)
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, store=store)
    fail(breaker)
    clock.advance(1)
    store.acquire_probe("telegram", max_probes=1)  # another process probes ...
    store.reset("telegram")  # ... and the circuit closes there
    store.calls.clear()
    assert breaker.call(ok) == "ok"
    assert (breaker.state, store.calls) == (CLOSED, ["acquire_probe"])


def test_a_time_window_breaker_with_a_polled_store_reloads_once_per_interval() -> None:
    """A time-window policy takes the locked success path and still polls on schedule."""
    clock = FakeClock()
    store = CountingStore(clock, interval=1.0)
    breaker = make(clock, trip=FailureRate(0.5, window=TimeWindow(10.0)), store=store)
    clock.advance(1)
    breaker.call(ok)
    breaker.call(ok)
    assert store.calls == ["load"]


def test_older_store_answers_are_ignored() -> None:
    """A record with an older generation than the breaker knows changes nothing."""
    breaker = make(failure_threshold=1)
    fail(breaker)
    breaker._after_store(breaker_call("load"), SharedState(CLOSED, 0))
    assert breaker.state == OPEN


def breaker_call(op: str) -> object:
    from felix_reliability._breaker import _StoreCall

    return _StoreCall(op)


class AsyncStore:
    """An async store wrapping the local one, as an async Redis store would."""

    def __init__(self, clock: FakeClock) -> None:
        self.inner = LocalBreakerStore(clock)
        self.calls: list[str] = []

    @property
    def sync_interval(self) -> float | None:
        return None

    async def load(self, name: str) -> SharedState:  # pragma: no cover - never polled
        return self.inner.load(name)

    async def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        self.calls.append("open")
        return self.inner.open(name, expected_generation=expected_generation, open_for=open_for)

    async def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        self.calls.append("acquire_probe")
        return self.inner.acquire_probe(name, max_probes=max_probes)

    async def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        self.calls.append("release_probe")
        return self.inner.release_probe(
            name,
            generation=generation,
            success=success,
            success_threshold=success_threshold,
            open_for=open_for,
        )

    async def reset(self, name: str) -> SharedState:
        self.calls.append("reset")
        return self.inner.reset(name)


def test_an_async_store_serves_async_calls() -> None:
    """With an AsyncBreakerStore the async forms and *_async admin methods work."""
    clock = FakeClock()
    store = AsyncStore(clock)
    breaker = make(
        clock, failure_threshold=1, recovery_timeout=1.0, success_threshold=1, store=store
    )

    @breaker
    async def send(good: bool) -> bool:
        if not good:
            raise DownError
        return good

    async def scenario() -> None:
        with pytest.raises(DownError):
            await send(False)
        clock.advance(1)
        await send(True)
        await breaker.force_open_async()
        await breaker.reset_async()

    asyncio.run(scenario())
    assert store.calls == ["open", "acquire_probe", "release_probe", "open", "reset"]
    assert breaker.state == CLOSED


def test_an_async_store_refuses_sync_store_calls() -> None:
    """A sync call that needs the store of an async-store breaker raises TypeError."""
    breaker = make(failure_threshold=1, store=AsyncStore(FakeClock()))
    with pytest.raises(TypeError, match="async store"):
        breaker.call(down)


def test_async_admin_methods_with_the_local_store() -> None:
    """force_open_async/reset_async also work with a sync store."""
    breaker = make()
    asyncio.run(breaker.force_open_async())
    assert breaker.state == OPEN
    asyncio.run(breaker.reset_async())
    assert breaker.state == CLOSED


def test_repr_names_the_breaker_and_state() -> None:
    """repr shows the name and state."""
    assert repr(make()) == "CircuitBreaker(name='telegram', state='closed')"


def test_reset_clears_a_failure_rate_window() -> None:
    """reset() also empties a FailureRate window."""
    breaker = make(trip=FailureRate(0.5, window=10, minimum_calls=3))
    fail(breaker, 2)
    breaker.reset()
    fail(breaker)
    assert breaker.snapshot().failure_count == 1


def test_a_decorated_call_after_the_open_period_is_a_probe() -> None:
    """Once the open period has passed, the decorator admits a probe and tells listeners."""
    clock = FakeClock()
    events: list[BreakerEvent] = []
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, success_threshold=1)
    guarded = breaker(ok)
    fail(breaker)
    clock.advance(1)
    assert guarded() == "ok"
    listened = make(clock, name="listened", listeners=[events.append])
    assert listened(ok)() == "ok"
    assert (breaker.state, events) == (CLOSED, [CallSucceeded("listened")])


def test_async_calls_poll_the_store_too() -> None:
    """An async call on a closed breaker loads the record once sync_interval has passed."""
    clock = FakeClock()
    store = CountingStore(clock, interval=1.0)
    breaker = make(clock, store=store)

    async def scenario() -> None:
        clock.advance(1)
        async with breaker.attempt():
            pass

    asyncio.run(scenario())
    assert (store.calls, breaker.snapshot().total_successes) == (["load"], 1)


def test_the_local_store_refuses_a_stale_open() -> None:
    """open() with an expected generation that is no longer current changes nothing."""
    store = LocalBreakerStore(FakeClock())
    store.reset("telegram")
    opened = store.open("telegram", expected_generation=0, open_for=5.0)
    stale = store.open("telegram", expected_generation=0, open_for=5.0)
    assert (opened, stale) == (SharedState(OPEN, 1, 5.0), SharedState(OPEN, 1, 5.0))


def test_the_decorator_rejects_counts_failures_and_probes() -> None:
    """A decorated function fails, is rejected while open, and probes in half-open."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=1)
    guarded_down, guarded_ok = breaker(down), breaker(ok)
    assert guarded_ok() == "ok"
    with pytest.raises(DownError):
        guarded_down()
    with pytest.raises(CircuitOpenError):
        guarded_ok()
    clock.advance(1)
    probe = breaker.attempt().__enter__()
    with pytest.raises(CircuitOpenError):  # half-open, the only slot is taken
        guarded_ok()
    probe.__exit__(None, None, None)
    breaker.disable()
    assert guarded_ok() == "ok"
    snapshot = breaker.snapshot()
    assert (snapshot.total_successes, snapshot.total_failures, snapshot.total_rejections) == (
        2,
        1,
        2,
    )


def test_a_forced_rejection_through_a_block_is_delivered_to_listeners() -> None:
    """force_open twice keeps one OPEN state; a block's rejection reaches listeners."""
    events: list[BreakerEvent] = []
    breaker = make(listeners=[events.append])
    breaker.force_open()
    breaker.force_open()
    breaker._reject_until = None  # as if read before the opening: the locked path decides
    with pytest.raises(CircuitOpenError), breaker.attempt():
        pass
    assert events == [StateChanged("telegram", CLOSED, OPEN), CallRejected("telegram", None)]


def test_a_stale_probe_failure_while_disabled_does_not_reject() -> None:
    """If a probe reopens the circuit while disabled, calls still pass until reset."""
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, recovery_timeout=1.0)
    fail(breaker)
    clock.advance(1)
    probe = breaker.attempt().__enter__()
    breaker.disable()
    probe.__exit__(DownError, DownError(), None)
    assert (breaker.state, breaker.call(ok)) == (OPEN, "ok")
