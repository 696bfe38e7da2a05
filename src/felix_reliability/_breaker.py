"""The circuit breaker: a small state machine, fast when closed, safe under threads and asyncio.

How the pieces fit:

* The closed state is counted here, in this process. Its success path takes no
  lock and never calls the store: it reads one attribute (`_closed`, the
  current closed period, replaced as a whole on every transition, so a single
  read is a consistent view) and ticks two ``itertools.count`` objects. In
  CPython ``next()`` on an ``itertools.count`` is one C call that runs under
  the GIL without releasing it, so concurrent ticks are never lost: that is
  what keeps the totals exact without a lock. A failure takes the lock, drains
  the successes ticked since the last failure into the trip policy, and
  decides. (A time-window policy needs each success's time, so with it a
  success takes the lock too.)
* With a store other processes write to (``sync_interval`` not `None`), the
  success path stays lock-free until the next poll is due: it also reads the
  time and compares it with the period's ``fast_until``; the first call after
  that takes the lock and loads the record.
* A tick is read without incrementing by calling ``next()`` once more and
  remembering how many reads were made (`_Counter.read`); reads happen under
  the lock only, so they are serialized.
* OPEN, HALF_OPEN and the generation live in the store (`_breaker_store`).
  The breaker mirrors the last record it saw and applies newer generations
  only, so results of calls admitted under an earlier generation never cause
  a transition.
* Events are collected under the lock and delivered (listeners, metrics)
  after it is released; user code never runs under the lock.
"""

# The permit and the breaker are one unit split in two classes for their slots.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import enum
import functools
import inspect
import itertools
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, ParamSpec, Protocol, Self, TypeVar, cast, overload

from attrs import frozen

from felix_reliability._breaker_store import (
    AsyncBreakerStore,
    BreakerState,
    BreakerStore,
    LocalBreakerStore,
    ProbeGrant,
    SharedState,
)
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._in_memory_metrics import recorder_for
from felix_reliability._metrics import (
    BREAKER_CALLS,
    BREAKER_STATE,
    BREAKER_TRANSITIONS,
    MetricsCollector,
)
from felix_reliability._validation import (
    check_fraction,
    check_positive_float,
    check_positive_int,
)
from felix_reliability._windows import CountWindow, TimeBuckets
from felix_reliability.exceptions import CircuitOpenError

__all__ = [
    "BreakerEvent",
    "BreakerListener",
    "BreakerPermit",
    "BreakerRegistry",
    "BreakerSnapshot",
    "CallFailed",
    "CallIgnored",
    "CallRejected",
    "CallSucceeded",
    "CircuitBreaker",
    "ConsecutiveFailures",
    "FailureRate",
    "Outcome",
    "StateChanged",
    "TimeWindow",
]

logger = logging.getLogger("felix_reliability.breaker")

P = ParamSpec("P")
R = TypeVar("R")

_STATE_GAUGE = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}


class Outcome(enum.StrEnum):
    """How an admitted call counts.

    .. versionadded:: 0.1.0
    """

    SUCCESS = "success"
    FAILURE = "failure"
    IGNORED = "ignored"


# --- trip policies ------------------------------------------------------------------------


@frozen
class TimeWindow:
    """A rolling window of the last `seconds`, kept in 10 time buckets.

    Args:
        seconds: The window's length.

    Raises:
        ValueError: If *seconds* is not a finite number > 0.

    .. versionadded:: 0.1.0
    """

    seconds: float

    def __attrs_post_init__(self) -> None:
        check_positive_float("seconds", self.seconds)


@frozen
class ConsecutiveFailures:
    """Trip after `n` failures in a row (a success starts the count again).

    Args:
        n: Failures in a row that open the circuit.

    Raises:
        ValueError: If *n* is < 1.
        TypeError: If *n* is not an int.

    .. versionadded:: 0.1.0
    """

    n: int

    def __attrs_post_init__(self) -> None:
        check_positive_int("n", self.n)


@frozen
class FailureRate:
    """Trip when the failed fraction of the window reaches `threshold`.

    Args:
        threshold: A fraction in (0, 1].
        window: The last N calls (an `int`) or a `TimeWindow`.
        minimum_calls: Calls the window must hold before it can trip.

    Raises:
        ValueError: If a value is out of range.
        TypeError: If a value has the wrong type.

    .. versionadded:: 0.1.0
    """

    threshold: float
    window: int | TimeWindow = 100
    minimum_calls: int = 10

    def __attrs_post_init__(self) -> None:
        check_fraction("threshold", self.threshold)
        if not isinstance(self.window, TimeWindow):
            check_positive_int("window", self.window)
        check_positive_int("minimum_calls", self.minimum_calls)


class _ConsecutiveTracker:
    __slots__ = ("count", "n")
    locked_success = False

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0

    def absorb(self, now: float, successes: int) -> None:
        del now
        if successes:
            self.count = 0

    def failure(self, now: float, successes: int) -> bool:
        self.absorb(now, successes)
        self.count += 1
        return self.count >= self.n

    def success(self, now: float) -> None:  # pragma: no cover - never locked_success
        del now

    def failures(self, now: float) -> int:
        del now
        return self.count

    def clear(self) -> None:
        self.count = 0


class _RateTracker:
    __slots__ = ("locked_success", "minimum", "threshold", "window")

    def __init__(self, policy: FailureRate) -> None:
        self.threshold = policy.threshold
        self.minimum = policy.minimum_calls
        self.window: CountWindow | TimeBuckets
        if isinstance(policy.window, TimeWindow):
            self.window = TimeBuckets(policy.window.seconds)
            self.locked_success = True
        else:
            self.window = CountWindow(policy.window)
            self.locked_success = False

    def absorb(self, now: float, successes: int) -> None:
        self.window.add(successes, 0, now)

    def failure(self, now: float, successes: int) -> bool:
        self.window.add(successes, 1, now)
        calls, failures = self.window.totals(now)
        return calls >= self.minimum and failures >= self.threshold * calls

    def success(self, now: float) -> None:
        self.window.add(1, 0, now)

    def failures(self, now: float) -> int:
        return self.window.totals(now)[1]

    def clear(self) -> None:
        self.window.clear()


# --- events -------------------------------------------------------------------------------


@frozen
class StateChanged:
    """The breaker moved from `old_state` to `new_state`.

    .. versionadded:: 0.1.0
    """

    breaker_name: str
    old_state: BreakerState
    new_state: BreakerState


@frozen
class CallSucceeded:
    """An admitted call succeeded.

    .. versionadded:: 0.1.0
    """

    breaker_name: str


@frozen
class CallFailed:
    """An admitted call failed; `exception` is `None` when its result was judged a failure.

    .. versionadded:: 0.1.0
    """

    breaker_name: str
    exception: BaseException | None


@frozen
class CallIgnored:
    """An admitted call ended with an exception that neither counts nor resets counts.

    .. versionadded:: 0.1.0
    """

    breaker_name: str
    exception: BaseException


@frozen
class CallRejected:
    """The breaker rejected a call; `retry_after` as in `CircuitOpenError`.

    .. versionadded:: 0.1.0
    """

    breaker_name: str
    retry_after: float | None


BreakerEvent = StateChanged | CallSucceeded | CallFailed | CallIgnored | CallRejected
"""Any event a breaker delivers to its listeners."""


class BreakerListener(Protocol):
    """A callable that receives every `BreakerEvent`.

    .. versionadded:: 0.1.0
    """

    def __call__(self, event: BreakerEvent, /) -> None:
        """Handle *event*; an exception is logged and does not break the call."""
        ...


@frozen
class BreakerSnapshot:
    """A breaker's state and counts at one moment.

    .. versionadded:: 0.1.0
    """

    name: str
    state: BreakerState
    failure_count: int
    success_count: int
    opened_at: float | None
    retry_after: float | None
    total_calls: int
    total_successes: int
    total_failures: int
    total_ignored: int
    total_rejections: int

    def to_dict(self) -> dict[str, str | int | float | None]:
        """Return a JSON-ready dict (`state` as its string value).

        Returns:
            The fields by name.
        """
        return {
            "name": self.name,
            "state": self.state.value,
            "failure_count": self.failure_count,
            "success_count": self.success_count,
            "opened_at": self.opened_at,
            "retry_after": self.retry_after,
            "total_calls": self.total_calls,
            "total_successes": self.total_successes,
            "total_failures": self.total_failures,
            "total_ignored": self.total_ignored,
            "total_rejections": self.total_rejections,
        }


# --- internals ----------------------------------------------------------------------------


if TYPE_CHECKING:
    _CountBase = itertools.count[int]
else:  # itertools.count is not subscriptable at run time
    _CountBase = itertools.count


class _Counter(_CountBase):
    """A thread-safe counter whose increment, ``next(counter)``, takes no lock.

    See the module docstring for why concurrent increments are never lost.
    """

    __slots__ = ("reads",)

    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> int:
        """Return the number of increments so far; call under the breaker's lock only."""
        value = next(self) - self.reads
        self.reads += 1
        return value


def _counter() -> _Counter:
    # typeshed's count.__new__ returns count[int], not the subclass.
    counter: object = _Counter()
    return cast("_Counter", counter)


class _ClosedPeriod:
    """One stretch of the closed state; replaced as a whole when the state changes."""

    __slots__ = ("drained", "fast", "fast_until", "generation", "polled", "successes", "sync_at")

    def __init__(self, generation: int, sync_at: float | None, *, fast: bool) -> None:
        self.generation = generation
        self.successes = _counter()
        self.drained = 0
        self.sync_at = sync_at
        # The lock-free success path is for periods that need neither a store
        # poll nor the success's time (a time-window policy needs it).
        self.fast = fast and sync_at is None
        # With a shared store the success path stays lock-free until the next
        # poll is due (`fast_until`, written under the lock, read without it).
        self.polled = fast and sync_at is not None
        self.fast_until = sync_at if self.polled and sync_at is not None else -math.inf


class _Kind(enum.Enum):
    CLOSED = 1
    PROBE = 2
    DISABLED = 3


@frozen
class _StoreCall:
    op: str
    expected_generation: int | None = None
    open_for: float | None = None
    generation: int = 0
    success: bool | None = None


_SYSTEM_CLOCK = SystemClock()  # stateless: one for every breaker


class CircuitBreaker:
    """Stop calling a failing dependency for a while, then probe it before trusting it again.

    The defaults are felix_hub's: 10 consecutive failures open the circuit, it
    stays open 120 s, then 3 successful probes close it.

    Args:
        name: The breaker's name (in errors, events, metrics and the registry).
        failure_threshold: Shorthand for ``trip=ConsecutiveFailures(n)``.
        recovery_timeout: Seconds the circuit stays open before a probe.
        success_threshold: Probe successes that close a half-open circuit.
        half_open_max_calls: Probes admitted at once in half-open.
        trip: A `ConsecutiveFailures` or `FailureRate` policy.
        failure_on: Exception types that count as failures.
        ignore: Exception types that never count (checked first).
        classify: Decides the `Outcome` of an exception instead of the two above.
        result_is_failure: Judges a returned value a failure when true.
        clock: The time source.
        listeners: Callables receiving every `BreakerEvent`.
        metrics: Where breaker metrics go; none by default.
        store: A `BreakerStore` or `AsyncBreakerStore` sharing the open and
            half-open state; an in-memory store by default.

    Raises:
        TypeError: If a value has the wrong type, or both *failure_threshold*
            and *trip* are given.
        ValueError: If a value is out of range.

    >>> clock = FakeClock()
    >>> breaker = CircuitBreaker(name="telegram", failure_threshold=2, clock=clock)
    >>> @breaker
    ... def send() -> None:
    ...     raise ConnectionError("down")
    >>> for _ in range(2):
    ...     try:
    ...         send()
    ...     except ConnectionError:
    ...         pass
    >>> breaker.state
    <BreakerState.OPEN: 'open'>

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "__weakref__",
        "_classify",
        "_closed",
        "_count_success",
        "_disabled",
        "_failure_on",
        "_failures",
        "_forced",
        "_generation",
        "_ignore",
        "_ignored",
        "_listeners",
        "_lock",
        "_metrics",
        "_monotonic",
        "_open_until",
        "_opened_at",
        "_probe_successes",
        "_quiet",
        "_reject_until",
        "_rejections",
        "_result_is_failure",
        "_state",
        "_store",
        "_store_is_async",
        "_successes",
        "_tracker",
        "clock",
        "half_open_max_calls",
        "name",
        "recovery_timeout",
        "success_threshold",
    )

    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int | None = None,
        recovery_timeout: float = 120.0,
        success_threshold: int = 3,
        half_open_max_calls: int = 1,
        trip: ConsecutiveFailures | FailureRate | None = None,
        failure_on: tuple[type[BaseException], ...] = (Exception,),
        ignore: tuple[type[BaseException], ...] = (),
        classify: Callable[[BaseException], Outcome] | None = None,
        result_is_failure: Callable[[object], bool] | None = None,
        clock: Clock | None = None,
        listeners: tuple[BreakerListener, ...] | list[BreakerListener] = (),
        metrics: MetricsCollector | None = None,
        store: BreakerStore | AsyncBreakerStore | None = None,
    ) -> None:
        self.name = _check_name(name)
        if failure_threshold is not None and trip is not None:
            raise TypeError("pass failure_threshold or trip, not both")
        if trip is None:
            trip = ConsecutiveFailures(
                10
                if failure_threshold is None
                else check_positive_int("failure_threshold", failure_threshold)
            )
        self._tracker = _make_tracker(trip)
        self.recovery_timeout = check_positive_float("recovery_timeout", recovery_timeout)
        self.success_threshold = check_positive_int("success_threshold", success_threshold)
        self.half_open_max_calls = check_positive_int("half_open_max_calls", half_open_max_calls)
        self._failure_on = _check_types("failure_on", failure_on)
        self._ignore = _check_types("ignore", ignore)
        for parameter, value in (("classify", classify), ("result_is_failure", result_is_failure)):
            if value is not None and not callable(value):
                raise TypeError(f"{parameter} must be callable, got {value!r}")
        self._classify = classify
        self._result_is_failure = result_is_failure
        self.clock: Clock = _SYSTEM_CLOCK if clock is None else clock
        # The lock-free closed path reads the time only when a shared store
        # wants polling; with the system clock it calls time.monotonic directly.
        self._monotonic = (
            time.monotonic if isinstance(self.clock, SystemClock) else self.clock.monotonic
        )
        self._listeners = tuple(listeners)
        self._metrics = metrics
        self._quiet = not self._listeners and metrics is None
        # Successes are the common case: their metric is resolved once.
        self._count_success = (
            _no_count
            if metrics is None
            else recorder_for(metrics, BREAKER_CALLS, {"breaker": self.name, "outcome": "success"})
        )
        self._lock = threading.Lock()
        if store is None:
            store = LocalBreakerStore(self.clock, self._lock)
        self._store = store
        self._store_is_async = inspect.iscoroutinefunction(store.load)
        self._successes = _counter()
        self._ignored = _counter()
        self._rejections = _counter()
        self._failures = 0
        self._state = BreakerState.CLOSED
        self._generation: int = 0
        self._closed: _ClosedPeriod | None = self._new_period(0)
        self._open_until: float | None = None
        self._reject_until: float | None = None
        self._opened_at: float | None = None
        self._forced = False
        self._disabled = False
        self._probe_successes = 0

    def __repr__(self) -> str:
        return f"CircuitBreaker(name={self.name!r}, state={self._state.value!r})"

    # --- public surface ------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The breaker's state as this process last saw it."""
        return self._state

    @overload
    def __call__(
        self, fn: Callable[P, Coroutine[object, object, R]]
    ) -> Callable[P, Coroutine[object, object, R]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(  # noqa: C901 - the closed fast path is inlined here on purpose
        self, fn: Callable[P, R]
    ) -> Callable[P, R] | Callable[P, Coroutine[object, object, R]]:
        """Guard *fn* (a function or a coroutine function), keeping its signature.

        Returns:
            The guarded function; it raises `CircuitOpenError` when rejected.
        """
        if inspect.iscoroutinefunction(fn):
            afn: Callable[P, Awaitable[R]] = fn

            @functools.wraps(fn)
            async def guarded_async(*args: P.args, **kwargs: P.kwargs) -> R:
                async with self.attempt() as permit:
                    result = await afn(*args, **kwargs)
                    permit.judge(result)
                    return result

            return guarded_async

        monotonic = self._monotonic  # a closure cell reads faster than a slot

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            # The body of `call`, inlined: one Python frame less on the hot path.
            period = self._closed
            if period is None or not (period.fast or monotonic() < period.fast_until):
                until = self._reject_until  # the lock-free rejection, see _reject_fast
                if until is not None:
                    left = until - self.clock.monotonic()
                    if left > 0:
                        raise self._rejection(left)
                with self.attempt() as permit:
                    result = fn(*args, **kwargs)
                    permit.judge(result)
                    return result
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                self._finish_closed(period, self._classify_exception(exc), exc)
                raise
            judge = self._result_is_failure
            if judge is not None and judge(result):
                self._finish_closed(period, Outcome.FAILURE, None)
                return result
            next(period.successes)
            next(self._successes)
            if not self._quiet:  # `_announce_success`, inlined
                if self._listeners:
                    self._emit((CallSucceeded(self.name),))
                else:
                    self._count_success(1.0)
            return result

        return guarded

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)`` through the breaker.

        For a coroutine function, decorate it or use ``async with
        breaker.attempt()`` instead: `call` judges what *fn* returns, and a
        coroutine object is not the call's result.

        Returns:
            What *fn* returns.

        Raises:
            CircuitOpenError: If the breaker rejects the call.
        """
        period = self._closed
        if period is None or not (period.fast or self._monotonic() < period.fast_until):
            self._reject_fast()
            with self.attempt() as permit:
                result = fn(*args, **kwargs)
                permit.judge(result)
                return result
        # The closed fast path: no lock, no store, no permit object.
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._finish_closed(period, self._classify_exception(exc), exc)
            raise
        judge = self._result_is_failure
        if judge is not None and judge(result):
            self._finish_closed(period, Outcome.FAILURE, None)
            return result
        next(period.successes)
        next(self._successes)
        if not self._quiet:
            self._announce_success()
        return result

    def _reject_fast(self) -> None:
        """Reject without the lock while the last seen open period lasts.

        `_reject_until` is one attribute, written under the lock on every
        transition (infinity when forced open, `None` when not open); a reader
        racing with a transition rejects as if it came just before it.
        """
        until = self._reject_until
        if until is not None:
            left = until - self.clock.monotonic()
            if left > 0:
                raise self._rejection(left)

    def _rejection(self, left: float) -> CircuitOpenError:
        next(self._rejections)
        retry_after = None if left == math.inf else left  # forced open: no probe scheduled
        if not self._quiet:
            self._emit((CallRejected(self.name, retry_after),))
        return CircuitOpenError(self.name, retry_after)

    def attempt(self) -> BreakerPermit:
        """Return a permit for one call, used as ``with`` or ``async with``.

        Entering it admits the call or raises `CircuitOpenError`; leaving it
        records the outcome from the exception, if any.

        >>> breaker = CircuitBreaker(name="docs", clock=FakeClock())
        >>> with breaker.attempt():
        ...     pass
        >>> breaker.snapshot().total_successes
        1
        """
        return BreakerPermit(self)

    def snapshot(self) -> BreakerSnapshot:
        """Return the breaker's state and counts now.

        Returns:
            A frozen `BreakerSnapshot`.
        """
        now = self.clock.monotonic()
        with self._lock:
            successes = self._successes.read()
            ignored = self._ignored.read()
            failures = self._failures
            state = self._state
            retry_after = None
            failure_count = success_count = 0
            if state is BreakerState.OPEN and self._open_until is not None:
                retry_after = max(0.0, self._open_until - now)
            elif state is BreakerState.HALF_OPEN:
                success_count = self._probe_successes
            elif self._closed is not None:
                period = self._closed
                success_count = period.successes.read()
                self._tracker.absorb(now, success_count - period.drained)
                period.drained = success_count
                failure_count = self._tracker.failures(now)
            return BreakerSnapshot(
                name=self.name,
                state=state,
                failure_count=failure_count,
                success_count=success_count,
                opened_at=self._opened_at,
                retry_after=retry_after,
                total_calls=successes + ignored + failures,
                total_successes=successes,
                total_failures=failures,
                total_ignored=ignored,
                total_rejections=self._rejections.read(),
            )

    def force_open(self) -> None:
        """Reject every call until `reset`."""
        self._run_sync(_StoreCall("open"))

    def reset(self) -> None:
        """Close the breaker, clear its counts and end `disable`."""
        with self._lock:
            self._disabled = False
        self._run_sync(_StoreCall("reset"))
        with self._lock:
            self._tracker.clear()
            self._closed = (
                self._new_period(self._generation) if self._state is BreakerState.CLOSED else None
            )

    def disable(self) -> None:
        """Let every call through and count nothing until `reset`."""
        with self._lock:
            self._disabled = True
            self._closed = None
            self._reject_until = None

    async def force_open_async(self) -> None:
        """`force_open` for a breaker with an `AsyncBreakerStore`."""
        await self._run_async(_StoreCall("open"))

    async def reset_async(self) -> None:
        """`reset` for a breaker with an `AsyncBreakerStore`."""
        with self._lock:
            self._disabled = False
        await self._run_async(_StoreCall("reset"))
        with self._lock:
            self._tracker.clear()
            self._closed = (
                self._new_period(self._generation) if self._state is BreakerState.CLOSED else None
            )

    # --- admission -----------------------------------------------------------------------

    def _new_period(self, generation: int) -> _ClosedPeriod:
        interval = self._store.sync_interval
        sync_at = None if interval is None else self.clock.monotonic() + interval
        return _ClosedPeriod(generation, sync_at, fast=not self._tracker.locked_success)

    def _plan_admission(self) -> tuple[_Kind, object] | _StoreCall | CircuitOpenError:
        """Decide under the lock: admit, reject, or ask the store first."""
        with self._lock:
            if self._disabled:
                return (_Kind.DISABLED, None)
            period = self._closed
            if period is not None:
                if period.sync_at is not None and self.clock.monotonic() >= period.sync_at:
                    return _StoreCall("load")
                return (_Kind.CLOSED, period)
            if self._state is BreakerState.OPEN:
                if self._forced:
                    return self._reject_locked(None)
                assert self._open_until is not None  # noqa: S101 - not forced means scheduled
                left = self._open_until - self.clock.monotonic()
                if left > 0:
                    return self._reject_locked(left)
            return _StoreCall("acquire")

    def _reject_locked(self, retry_after: float | None) -> CircuitOpenError:
        next(self._rejections)
        return CircuitOpenError(self.name, retry_after)

    def _after_store(
        self, call: _StoreCall, answer: SharedState | ProbeGrant
    ) -> tuple[_Kind, object] | None:
        """Apply a store answer; for an admission, return the probe or raise the rejection."""
        events: list[BreakerEvent] = []
        shared = answer.shared if isinstance(answer, ProbeGrant) else answer
        with self._lock:
            self._apply_locked(shared, events)
            if call.op == "load":
                period = self._closed
                if period is not None and period.sync_at is not None:
                    interval = self._store.sync_interval or 0.0
                    period.sync_at = self.clock.monotonic() + interval
                    if period.polled:
                        period.fast_until = period.sync_at
            rejection = None
            probe = isinstance(answer, ProbeGrant)
            if isinstance(answer, ProbeGrant) and not answer.granted:
                if self._closed is not None:
                    # Another process closed it (a shared store): admit this call
                    # as a closed one on the next round of the admission loop.
                    probe = False
                else:
                    # Half-open with every probe slot taken: a slot frees as soon as a
                    # probe ends, so there is nothing to wait for but "now" (0.0).
                    open_ = shared.state is BreakerState.OPEN
                    rejection = self._reject_locked(shared.retry_after if open_ else 0.0)
        self._emit(events)
        if rejection is not None:
            self._emit((CallRejected(self.name, rejection.retry_after),))
            raise rejection
        if probe:
            return (_Kind.PROBE, shared.generation)
        return None

    def _apply_locked(self, shared: SharedState, events: list[BreakerEvent]) -> None:
        if shared.generation < self._generation:
            return  # an answer older than what we already know
        self._probe_successes = shared.probe_successes
        if shared.generation == self._generation and shared.state is self._state:
            return
        old = self._state
        self._state = shared.state
        self._generation = shared.generation
        self._reject_until = None
        if shared.state is BreakerState.CLOSED:
            self._tracker.clear()
            self._closed = None if self._disabled else self._new_period(shared.generation)
            self._open_until = self._opened_at = None
            self._forced = False
        else:
            self._closed = None
            if shared.state is BreakerState.OPEN:
                self._forced = shared.retry_after is None
                now = self.clock.monotonic()
                self._open_until = None if self._forced else now + (shared.retry_after or 0.0)
                if not self._disabled:
                    self._reject_until = math.inf if self._forced else self._open_until
                self._opened_at = self.clock.wall()
        if old is not shared.state:
            events.append(StateChanged(self.name, old, shared.state))

    # --- outcomes ------------------------------------------------------------------------

    def _classify_exception(self, exc: BaseException) -> Outcome:
        if not isinstance(exc, Exception):
            return Outcome.IGNORED
        if self._classify is not None:
            return self._classify(exc)
        if isinstance(exc, self._ignore):
            return Outcome.IGNORED
        if isinstance(exc, self._failure_on):
            return Outcome.FAILURE
        return Outcome.IGNORED

    def _outcome_event(self, outcome: Outcome, exc: BaseException | None) -> BreakerEvent:
        if outcome is Outcome.SUCCESS:
            return CallSucceeded(self.name)
        if outcome is Outcome.FAILURE:
            return CallFailed(self.name, exc)
        assert exc is not None  # noqa: S101 - an ignored outcome always has an exception
        return CallIgnored(self.name, exc)

    def _finish_closed(
        self, period: _ClosedPeriod, outcome: Outcome, exc: BaseException | None
    ) -> None:
        call = self._plan_closed(period, outcome)
        if not self._quiet:
            self._emit((self._outcome_event(outcome, exc),))
        if call is not None:
            self._after_store(call, self._sync_store(call))

    def _plan_closed(self, period: _ClosedPeriod, outcome: Outcome) -> _StoreCall | None:
        if outcome is Outcome.IGNORED:
            next(self._ignored)
            return None
        tracker = self._tracker
        if outcome is Outcome.SUCCESS and not tracker.locked_success:
            next(period.successes)
            next(self._successes)
            return None
        now = self.clock.monotonic()
        with self._lock:
            if outcome is Outcome.SUCCESS:
                next(self._successes)
                next(period.successes)
                if period is self._closed:
                    tracker.success(now)
                return None
            self._failures += 1
            if period is not self._closed:
                return None  # admitted under an earlier generation: counts, decides nothing
            total = period.successes.read()
            fresh = total - period.drained
            period.drained = total
            if not tracker.failure(now, fresh):
                return None
            return _StoreCall(
                "open", expected_generation=period.generation, open_for=self.recovery_timeout
            )

    def _plan_probe(self, outcome: Outcome, generation: int) -> _StoreCall:
        if outcome is Outcome.SUCCESS:
            next(self._successes)
            success: bool | None = True
        elif outcome is Outcome.FAILURE:
            with self._lock:
                self._failures += 1
            success = False
        else:
            next(self._ignored)
            success = None
        return _StoreCall("release", generation=generation, success=success)

    # --- store calls ---------------------------------------------------------------------

    def _sync_store(self, call: _StoreCall) -> SharedState | ProbeGrant:
        if self._store_is_async:
            raise TypeError(
                f"breaker {self.name!r} has an async store: use async functions, "
                "`async with breaker.attempt()` and the *_async admin methods"
            )
        return cast("SharedState | ProbeGrant", _dispatch(self._store, call, self))

    async def _async_store(self, call: _StoreCall) -> SharedState | ProbeGrant:
        if self._store_is_async:
            answer = _dispatch(self._store, call, self)
            return await cast("Awaitable[SharedState | ProbeGrant]", answer)
        return cast("SharedState | ProbeGrant", _dispatch(self._store, call, self))

    def _run_sync(self, call: _StoreCall) -> None:
        self._after_store(call, self._sync_store(call))

    async def _run_async(self, call: _StoreCall) -> None:
        self._after_store(call, await self._async_store(call))

    # --- events --------------------------------------------------------------------------

    def _announce_success(self) -> None:
        if self._listeners:
            self._emit((CallSucceeded(self.name),))
        else:
            self._count_success(1.0)

    def _emit(self, events: tuple[BreakerEvent, ...] | list[BreakerEvent]) -> None:
        metrics = self._metrics
        for event in events:
            if metrics is not None:
                self._record_metric(metrics, event)
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:
                    logger.exception("breaker %r: listener %r failed", self.name, listener)

    def _record_metric(self, metrics: MetricsCollector, event: BreakerEvent) -> None:
        name = self.name
        try:
            if isinstance(event, StateChanged):
                metrics.set_gauge(BREAKER_STATE, _STATE_GAUGE[event.new_state], {"breaker": name})
                metrics.increment(
                    BREAKER_TRANSITIONS, 1.0, {"breaker": name, "to_state": event.new_state.value}
                )
                return
            if isinstance(event, CallSucceeded):
                self._count_success(1.0)
                return
            outcome = {
                CallSucceeded: "success",
                CallFailed: "failure",
                CallIgnored: "ignored",
                CallRejected: "rejected",
            }[type(event)]
            metrics.increment(BREAKER_CALLS, 1.0, {"breaker": name, "outcome": outcome})
        except Exception:
            logger.exception("breaker %r: metrics collector failed", name)


def _no_count(value: float) -> None:
    """Record nothing: the breaker has no metrics collector."""


def _dispatch(
    store: BreakerStore | AsyncBreakerStore, call: _StoreCall, breaker: CircuitBreaker
) -> object:
    """Call the store method *call* names; with an async store, the result is awaitable."""
    name = breaker.name
    if call.op == "load":
        return store.load(name)
    if call.op == "open":
        return store.open(
            name, expected_generation=call.expected_generation, open_for=call.open_for
        )
    if call.op == "acquire":
        return store.acquire_probe(name, max_probes=breaker.half_open_max_calls)
    if call.op == "release":
        return store.release_probe(
            name,
            generation=call.generation,
            success=call.success,
            success_threshold=breaker.success_threshold,
            open_for=breaker.recovery_timeout,
        )
    return store.reset(name)


def _check_types(name: str, value: object) -> tuple[type[BaseException], ...]:
    items = cast("tuple[object, ...]", value) if isinstance(value, tuple) else (value,)
    checked = tuple(
        item for item in items if isinstance(item, type) and issubclass(item, BaseException)
    )
    if not isinstance(value, tuple) or len(checked) != len(items):
        raise TypeError(f"{name} must be a tuple of exception types, got {value!r}")
    return cast("tuple[type[BaseException], ...]", value)  # the caller's tuple: no copy


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    return name


def _make_tracker(trip: object) -> _ConsecutiveTracker | _RateTracker:
    if isinstance(trip, ConsecutiveFailures):
        return _ConsecutiveTracker(trip.n)
    if isinstance(trip, FailureRate):
        return _RateTracker(trip)
    raise TypeError(f"trip must be ConsecutiveFailures or FailureRate, got {trip!r}")


class BreakerPermit:
    """One admitted call of a breaker; a context manager (``with`` or ``async with``).

    Entering admits the call or raises `CircuitOpenError`; leaving records the
    outcome: the exception's classification, else `judge`'s verdict, else
    success. Each permit carries its own admission, so concurrent blocks never
    mix their results.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_breaker", "_failed", "_kind", "_token")

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._kind: _Kind | None = None
        self._token: object = None
        self._failed = False

    def judge(self, result: object) -> None:
        """Mark the call failed if the breaker's `result_is_failure` says so of *result*."""
        judge = self._breaker._result_is_failure  # noqa: SLF001 - the permit is part of the breaker
        if judge is not None and judge(result):
            self._failed = True

    def mark_failure(self) -> None:
        """Count this call as a failure even if the block ends without an exception."""
        self._failed = True

    def _admitted(self, decision: tuple[_Kind, object]) -> None:
        self._kind, self._token = decision

    def _rejected(self, rejection: CircuitOpenError) -> CircuitOpenError:
        if not self._breaker._quiet:  # noqa: SLF001
            self._breaker._emit((CallRejected(self._breaker.name, rejection.retry_after),))  # noqa: SLF001
        return rejection

    def __enter__(self) -> Self:
        breaker = self._breaker
        period = breaker._closed  # noqa: SLF001 - the permit is part of the breaker
        if period is not None and (
            period.fast or breaker._monotonic() < period.fast_until  # noqa: SLF001
        ):  # closed: admitted without the lock
            self._kind, self._token = _Kind.CLOSED, period
            return self
        while True:
            plan = breaker._plan_admission()  # noqa: SLF001
            if isinstance(plan, CircuitOpenError):
                raise self._rejected(plan)
            if isinstance(plan, tuple):
                self._admitted(plan)
                return self
            decision = breaker._after_store(plan, breaker._sync_store(plan))  # noqa: SLF001
            if decision is not None:
                self._admitted(decision)
                return self

    async def __aenter__(self) -> Self:
        breaker = self._breaker
        period = breaker._closed  # noqa: SLF001 - the permit is part of the breaker
        if period is not None and (
            period.fast or breaker._monotonic() < period.fast_until  # noqa: SLF001
        ):  # closed: admitted without the lock
            self._kind, self._token = _Kind.CLOSED, period
            return self
        while True:
            plan = breaker._plan_admission()  # noqa: SLF001
            if isinstance(plan, CircuitOpenError):
                raise self._rejected(plan)
            if isinstance(plan, tuple):
                self._admitted(plan)
                return self
            decision = breaker._after_store(plan, await breaker._async_store(plan))  # noqa: SLF001
            if decision is not None:
                self._admitted(decision)
                return self

    def _outcome(self, exc: BaseException | None) -> Outcome:
        if exc is not None:
            return self._breaker._classify_exception(exc)  # noqa: SLF001
        return Outcome.FAILURE if self._failed else Outcome.SUCCESS

    def _plan_exit(self, outcome: Outcome) -> _StoreCall | None:
        breaker = self._breaker
        if self._kind is _Kind.CLOSED:
            assert isinstance(self._token, _ClosedPeriod)  # noqa: S101 - set on admission
            return breaker._plan_closed(self._token, outcome)  # noqa: SLF001
        if self._kind is _Kind.PROBE:
            assert isinstance(self._token, int)  # noqa: S101 - set on admission
            return breaker._plan_probe(outcome, self._token)  # noqa: SLF001
        return None

    def _notify(self, outcome: Outcome, exc: BaseException | None) -> None:
        breaker = self._breaker
        if self._kind is not _Kind.DISABLED and not breaker._quiet:  # noqa: SLF001
            breaker._emit((breaker._outcome_event(outcome, exc),))  # noqa: SLF001

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        outcome = self._outcome(exc)
        call = self._plan_exit(outcome)
        self._notify(outcome, exc)
        if call is not None:
            breaker = self._breaker
            breaker._after_store(call, breaker._sync_store(call))  # noqa: SLF001

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        outcome = self._outcome(exc)
        call = self._plan_exit(outcome)
        self._notify(outcome, exc)
        if call is not None:
            breaker = self._breaker
            breaker._after_store(call, await breaker._async_store(call))  # noqa: SLF001


class BreakerRegistry:
    """Breakers by name, for health reports and dashboards.

    >>> registry = BreakerRegistry()
    >>> registry.register(CircuitBreaker(name="telegram", clock=FakeClock())).name
    'telegram'
    >>> [snapshot.state.value for snapshot in registry.snapshots()]
    ['closed']

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_breakers", "_lock")

    def __init__(self) -> None:
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def register(self, breaker: CircuitBreaker) -> CircuitBreaker:
        """Add *breaker*; the same object again is a no-op.

        Returns:
            *breaker*, so registration can wrap construction.

        Raises:
            ValueError: If another breaker has the same name.
        """
        with self._lock:
            taken = self._breakers.get(breaker.name)
            if taken is not None and taken is not breaker:
                raise ValueError(f"a different breaker is registered as {breaker.name!r}")
            self._breakers[breaker.name] = breaker
        return breaker

    def get(self, name: str) -> CircuitBreaker:
        """Return the breaker registered as *name*.

        Raises:
            KeyError: If no breaker has that name.
        """
        with self._lock:
            return self._breakers[name]

    def __iter__(self) -> Iterator[CircuitBreaker]:
        with self._lock:
            return iter(list(self._breakers.values()))

    def __len__(self) -> int:
        return len(self._breakers)

    def snapshots(self) -> list[BreakerSnapshot]:
        """Return a snapshot of every registered breaker, in registration order."""
        return [breaker.snapshot() for breaker in self]
