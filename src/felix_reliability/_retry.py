"""RetryPolicy: retries that honor server delays, stop at a deadline and cost nothing on success.

The success path of a decorated function is one ``try`` around the call: no
clock read, no allocation. Everything else (the per-call `_Call` record, the
server delay, the backoff draw, budgets, callbacks and metrics) happens only
after a failure.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Never, ParamSpec, Self, TypeVar, cast

import attrs

from felix_reliability._backoff import Backoff
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._metrics import RETRIES, RETRY_GIVE_UPS, MetricsCollector
from felix_reliability._retry_after import server_delay
from felix_reliability._testing_mode import waits_disabled
from felix_reliability._validation import check_non_negative_float, check_positive_float
from felix_reliability._validation import check_positive_int as _check_positive_int
from felix_reliability.exceptions import CircuitOpenError

__all__ = [
    "GiveUpReason",
    "RetryAttempt",
    "RetryBudget",
    "RetryPolicy",
    "RetryState",
    "WaitSource",
    "retry",
]

P = ParamSpec("P")
T = TypeVar("T")

WaitSource = Literal["backoff", "server"]
ExceptionTypes = type[Exception] | tuple[type[Exception], ...]
ExceptionPredicate = Callable[[Exception], bool]
# `Never` as the parameter accepts a predicate over any result type.
ResultPredicate = Callable[[Never], bool]
StateCallback = Callable[["RetryState"], object]

_logger = logging.getLogger("felix_reliability.retry")
_BUDGET_WINDOW = 10  # seconds of history a RetryBudget keeps


class GiveUpReason(StrEnum):
    """Why a policy stopped retrying.

    .. versionadded:: 0.1.0
    """

    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    """Every allowed attempt failed."""
    NOT_RETRYABLE = "not_retryable"
    """The exception does not match ``on``."""
    RETRY_AFTER_TOO_LONG = "retry_after_too_long"
    """The server asked for a delay above ``max_retry_after``."""
    DEADLINE_EXCEEDED = "deadline_exceeded"
    """The next wait would end past the deadline."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """The shared `RetryBudget` allows no more retries now."""
    CIRCUIT_OPEN = "circuit_open"
    """A circuit breaker rejected the call (`CircuitOpenError` is never retried)."""


@attrs.frozen
class RetryState:
    """What a retrying call has done so far; given to ``on_retry`` and ``on_give_up``.

    Attributes:
        attempts: Attempts made, the first call included.
        waits: ``(seconds, source)`` per wait, source ``"backoff"`` or
            ``"server"``. In ``on_retry`` the last entry is the wait about
            to begin.
        elapsed: Seconds since the first attempt started. One exception: a
            function decorated by a policy with no deadline, budget or
            ``retry_on_result`` counts from the first failure, so that its
            success path reads no clock.
        last_exception: The exception of the last attempt, or `None` when it
            returned a result that ``retry_on_result`` rejected.
        give_up_reason: Why retrying ended; `None` in ``on_retry``.

    .. versionadded:: 0.1.0
    """

    attempts: int
    waits: tuple[tuple[float, WaitSource], ...]
    elapsed: float
    last_exception: BaseException | None
    give_up_reason: GiveUpReason | None = None

    @property
    def total_wait(self) -> float:
        """Return the sum of all waits in seconds."""
        return sum(seconds for seconds, _ in self.waits)


def _check_clock(clock: object) -> Clock:
    if not isinstance(clock, Clock):
        raise TypeError(f"clock must be a Clock, got {type(clock).__name__} {clock!r}")
    return clock


def _ratio(value: object) -> float:
    return check_non_negative_float("ratio", value)


def _min_per_second(value: object) -> float:
    return check_non_negative_float("min_per_second", value)


def _attempts(value: object) -> int:
    return _check_positive_int("attempts", value)


def _deadline(value: object) -> float | None:
    return None if value is None else check_positive_float("deadline", value)


def _retry_after_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"retry_after must be a bool, got {type(value).__name__} {value!r}")
    return value


def _max_retry_after(value: object) -> float:
    return check_non_negative_float("max_retry_after", value, allow_inf=True)


def _retry_after_jitter(value: object) -> float:
    return check_non_negative_float("retry_after_jitter", value)


def _is_async(fn: object) -> bool:
    """Return whether calling *fn* gives a coroutine (functions, partials, async __call__)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an async __call__ is the question
    )


def _operation(name: str | None, fn: object) -> str:
    if name is not None:
        return name
    qualname = getattr(fn, "__qualname__", None)
    return qualname if isinstance(qualname, str) else "call"


@attrs.define
class RetryBudget:
    """A limit on retries shared by the policies that call one dependency.

    Over a sliding window of ten seconds, retries may make up at most *ratio*
    of the calls plus *min_per_second* retries per second. When the budget is
    spent, a failing call gives up at once (`GiveUpReason.BUDGET_EXHAUSTED`)
    instead of adding load to a dependency that is already failing. Thread
    safe; memory is ten counters.

    Args:
        ratio: Retries allowed per call, e.g. 0.2 for one retry per five calls.
        min_per_second: Retries always allowed per second, so that a quiet
            service can still retry.
        clock: The time source.

    >>> budget = RetryBudget(ratio=0.0, min_per_second=0.1)  # one retry per 10 s
    >>> policy = RetryPolicy(on=(OSError,), attempts=3, budget=budget,
    ...                      backoff=Backoff.constant(0))
    >>> def down():
    ...     raise OSError("down")
    >>> try:
    ...     policy.call(down)
    ... except OSError as exc:
    ...     print(exc.__notes__[-1])
    retry gave up after 2 attempts (budget_exhausted); waits: 0s (backoff)

    .. versionadded:: 0.1.0
    """

    ratio: float = attrs.field(default=0.2, converter=_ratio)
    min_per_second: float = attrs.field(default=10.0, converter=_min_per_second)
    clock: Clock = attrs.field(factory=SystemClock, kw_only=True, converter=_check_clock)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)
    _stamps: list[int] = attrs.field(init=False, factory=lambda: [-1] * _BUDGET_WINDOW, repr=False)
    _calls: list[int] = attrs.field(init=False, factory=lambda: [0] * _BUDGET_WINDOW, repr=False)
    _retries: list[int] = attrs.field(init=False, factory=lambda: [0] * _BUDGET_WINDOW, repr=False)

    def _slot(self) -> tuple[int, int]:
        second = int(self.clock.monotonic())
        index = second % _BUDGET_WINDOW
        if self._stamps[index] != second:
            self._stamps[index] = second
            self._calls[index] = 0
            self._retries[index] = 0
        return second, index

    def record_call(self) -> None:
        """Count one call (a first attempt); policies call this for you."""
        with self._lock:
            _, index = self._slot()
            self._calls[index] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; return `False` when it is spent."""
        with self._lock:
            second, index = self._slot()
            oldest = second - _BUDGET_WINDOW
            calls = retries = 0
            for slot in range(_BUDGET_WINDOW):
                if self._stamps[slot] > oldest:
                    calls += self._calls[slot]
                    retries += self._retries[slot]
            allowed = self.ratio * calls + self.min_per_second * _BUDGET_WINDOW
            if retries + 1 > allowed:
                return False
            self._retries[index] += 1
            return True


def _check_on(
    on: object,
) -> tuple[tuple[type[BaseException], ...] | None, ExceptionPredicate | None]:
    if isinstance(on, type):
        on = (on,)
    if isinstance(on, tuple):
        types = cast("tuple[object, ...]", on)
        if not types:
            raise ValueError("on must name at least one exception type, got ()")
        for item in types:
            if not (isinstance(item, type) and issubclass(item, BaseException)):
                raise TypeError(f"on must hold exception types, got {item!r}")
        return cast("tuple[type[BaseException], ...]", types), None
    if callable(on):
        return None, cast("ExceptionPredicate", on)
    raise TypeError(
        f"on must be an exception type, a tuple of them or a predicate, got {type(on).__name__}"
    )


def _check_callable(name: str, value: object) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__} {value!r}")


def _run_callback(callback: StateCallback, state: RetryState) -> None:
    try:
        callback(state)
    except Exception:
        _logger.exception("retry callback %r failed", callback)


def _note(state: RetryState) -> str:
    waits = ", ".join(f"{seconds:g}s ({source})" for seconds, source in state.waits) or "none"
    plural = "" if state.attempts == 1 else "s"
    return (
        f"retry gave up after {state.attempts} attempt{plural} "
        f"({state.give_up_reason}); waits: {waits}"
    )


# Enum members read once: attribute access on an enum class is not free.
_CIRCUIT_OPEN = GiveUpReason.CIRCUIT_OPEN
_NOT_RETRYABLE = GiveUpReason.NOT_RETRYABLE
_ATTEMPTS_EXHAUSTED = GiveUpReason.ATTEMPTS_EXHAUSTED
_RETRY_AFTER_TOO_LONG = GiveUpReason.RETRY_AFTER_TOO_LONG
_DEADLINE_EXCEEDED = GiveUpReason.DEADLINE_EXCEEDED
_BUDGET_EXHAUSTED = GiveUpReason.BUDGET_EXHAUSTED


class _Call:
    """The per-call record of a retrying call, created at its first failure."""

    __slots__ = (
        "attempts",
        "deadline_at",
        "on_give_up",
        "operation",
        "policy",
        "previous",
        "start",
        "waits",
    )

    def __init__(
        self,
        policy: RetryPolicy,
        operation: str,
        start: float | None,
        on_give_up: StateCallback | None,
    ) -> None:
        self.policy = policy
        self.operation = operation
        self.start = policy.clock.monotonic() if start is None else start
        deadline = policy.deadline
        self.deadline_at = None if deadline is None else self.start + deadline
        self.on_give_up = on_give_up
        self.attempts = 1
        self.previous = 0.0
        self.waits: list[tuple[float, WaitSource]] = []

    def _state(self, exc: BaseException | None, reason: GiveUpReason | None) -> RetryState:
        return RetryState(
            attempts=self.attempts,
            waits=tuple(self.waits),
            elapsed=self.policy.clock.monotonic() - self.start,
            last_exception=exc,
            give_up_reason=reason,
        )

    def _give_up(self, reason: GiveUpReason, exc: BaseException | None) -> None:
        """Annotate *exc*, count the give-up and run the callbacks."""
        policy = self.policy
        state = self._state(exc, reason)
        if exc is not None:
            exc.add_note(_note(state))
        if policy.metrics is not None:
            labels = {"operation": self.operation, "reason": reason.value}
            policy.metrics.increment(RETRY_GIVE_UPS, 1.0, labels)
        if policy.on_give_up is not None:
            _run_callback(policy.on_give_up, state)
        if self.on_give_up is not None:
            _run_callback(self.on_give_up, state)

    # The failure path is written flat on purpose: each extra call costs here.
    def decide(self, exc: Exception | None, result: object) -> float | None:  # noqa: C901, PLR0911 - flat
        """Return the wait before the next attempt, or `None` after giving up."""
        policy = self.policy
        outcome: object = result
        if exc is not None:
            if isinstance(exc, CircuitOpenError):
                self._give_up(_CIRCUIT_OPEN, exc)
                return None
            types = policy._types  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
            retryable = (
                isinstance(exc, types) if types is not None else policy._retries(exc)  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
            )
            if not retryable:
                self._give_up(_NOT_RETRYABLE, exc)
                return None
            outcome = exc
        if self.attempts >= policy.attempts:
            self._give_up(_ATTEMPTS_EXHAUSTED, exc)
            return None
        server = server_delay(outcome, policy.clock.wall) if policy.retry_after else None
        source: WaitSource
        if server is None:
            wait = self.previous = policy.backoff.delay(self.attempts, self.previous)
            source = "backoff"
        elif server > policy.max_retry_after:
            self._give_up(_RETRY_AFTER_TOO_LONG, exc)
            return None
        else:
            wait = server
            if policy.retry_after_jitter:
                wait += random.uniform(0.0, policy.retry_after_jitter)  # noqa: S311 - spreading only
            source = "server"
        deadline_at = self.deadline_at
        if deadline_at is not None and policy.clock.monotonic() + wait >= deadline_at:
            self._give_up(_DEADLINE_EXCEEDED, exc)
            return None
        if policy.budget is not None and not policy.budget.try_spend():
            self._give_up(_BUDGET_EXHAUSTED, exc)
            return None
        self.waits.append((wait, source))
        if policy.on_retry is not None:
            _run_callback(policy.on_retry, self._state(exc, None))
        if policy.metrics is not None:
            labels = {"operation": self.operation, "delay_source": source}
            policy.metrics.increment(RETRIES, 1.0, labels)
        self.attempts += 1
        return wait

    def remaining(self) -> float | None:
        if self.deadline_at is None:
            return None
        return max(self.deadline_at - self.policy.clock.monotonic(), 0.0)


class RetryAttempt:
    """One attempt of a ``for attempt in policy: with attempt:`` block.

    Entering it runs nothing; leaving it with an exception tells the policy,
    which either swallows the exception (another attempt follows, after the
    wait) or lets it propagate with a note (retrying has ended).

    Attributes:
        number: The 1-based attempt number.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_loop", "number")

    def __init__(self, loop: _AttemptLoop, number: int) -> None:
        self._loop = loop
        self.number = number

    @property
    def remaining(self) -> float | None:
        """Seconds left before the policy's deadline (>= 0), or `None` without one.

        Bound the attempt's own I/O timeout by it.
        """
        return self._loop.call.remaining()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self._loop.finish(exc)

    def __repr__(self) -> str:
        return f"RetryAttempt(number={self.number}, remaining={self.remaining!r})"


class _AttemptLoop:
    """The iterator behind ``for attempt in policy`` and ``async for``."""

    __slots__ = ("call", "finished", "number", "pending")

    def __init__(self, policy: RetryPolicy) -> None:
        if policy.budget is not None:
            policy.budget.record_call()
        start = policy.clock.monotonic()
        self.call = _Call(policy, policy.name or "block", start, None)
        self.number = 0
        self.pending: float | None = None
        self.finished = False

    def _advance(self) -> RetryAttempt:
        self.number += 1
        return RetryAttempt(self, self.number)

    def __iter__(self) -> _AttemptLoop:
        return self

    def __next__(self) -> RetryAttempt:
        if self.finished or (self.number and self.pending is None):
            raise StopIteration
        wait, self.pending = self.pending, None
        if wait and not waits_disabled():
            self.call.policy.clock.sleep(wait)
        return self._advance()

    def __aiter__(self) -> _AttemptLoop:
        return self

    async def __anext__(self) -> RetryAttempt:
        if self.finished or (self.number and self.pending is None):
            raise StopAsyncIteration
        wait, self.pending = self.pending, None
        if wait and not waits_disabled():
            await self.call.policy.clock.sleep_async(wait)
        return self._advance()

    def finish(self, exc: BaseException | None) -> bool:
        if not isinstance(exc, Exception):
            self.finished = True
            return False
        wait = self.call.decide(exc, None)
        if wait is None:
            self.finished = True
            return False
        self.pending = wait
        return True


def _check_metrics(metrics: object) -> MetricsCollector | None:
    if metrics is not None and not isinstance(metrics, MetricsCollector):
        raise TypeError(f"metrics must be a MetricsCollector or None, got {type(metrics).__name__}")
    return metrics


def _check_backoff(backoff: object) -> Backoff:
    if not isinstance(backoff, Backoff):
        raise TypeError(f"backoff must be a Backoff, got {type(backoff).__name__} {backoff!r}")
    return backoff


def _check_budget(budget: object) -> RetryBudget | None:
    if budget is not None and not isinstance(budget, RetryBudget):
        raise TypeError(f"budget must be a RetryBudget or None, got {type(budget).__name__}")
    return budget


def _check_name(name: object) -> str | None:
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"name must be a non-empty str or None, got {name!r}")
    return name


def _default_backoff() -> Backoff:
    return Backoff.exponential(initial=1.0, multiplier=2.0, max=30.0, jitter="full")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    r"""Retry a call on chosen failures, honoring the delays servers ask for.

    Use it as a decorator (``@policy`` or ``@retry(...)``) on sync and async
    functions, with ``policy.call(fn, *args, **kwargs)``, or around a block::

        for attempt in policy:
            with attempt:
                send(timeout=attempt.remaining)

    (``async for`` in coroutines). Policies are immutable and safe to share
    between threads and tasks: per-call state lives in the call.

    Before each retry the policy waits: the server's delay when the failure
    (or a result rejected by ``retry_on_result``) carries one — a
    ``retry_after`` attribute in seconds or as a `timedelta`, or a
    ``Retry-After`` header of ``exc.response`` — else the ``backoff`` wait.
    A zero wait calls no sleep at all.

    Retrying ends (a `GiveUpReason`) when every attempt is used, the
    exception does not match ``on``, it is a `CircuitOpenError`, the server
    asks for more than ``max_retry_after``, the next wait would end past the
    ``deadline``, or the ``budget`` is spent. Then the last exception is
    re-raised unchanged but for a PEP 678 note listing the attempts and waits;
    a rejected result is returned as is. Exceptions that are not `Exception`
    (cancellation, `KeyboardInterrupt`) are never retried and get no note.

    Args:
        on: What to retry: an exception type, a tuple of them, or a predicate
            ``(exc) -> bool``. Required: retrying every exception retries bugs
            and non-idempotent writes.
        attempts: Attempts in all, the first call included (>= 1).
        backoff: The wait schedule when the server gives no delay.
        deadline: Seconds from the first attempt after which no attempt
            starts and no wait ends; `None` for no deadline.
        retry_after: Whether to honor server delays.
        max_retry_after: The longest server delay worth waiting for; a longer
            one ends retrying at once, without sleeping.
        retry_after_jitter: Up to this many seconds are added at random to a
            server delay (never taken from it), so clients told the same
            delay do not come back in lockstep.
        retry_on_result: A predicate on returned values: true means "retry".
        budget: A `RetryBudget` shared with other policies.
        on_retry: Called with a `RetryState` before each wait.
        on_give_up: Called with a `RetryState` when retrying ends on a
            failure. Callback errors are logged, never raised.
        clock: The time source (`FakeClock` in tests).
        metrics: Receives ``felix_retries`` {operation, delay_source} per
            wait and ``felix_retry_give_ups`` {operation, reason}.
        name: The ``operation`` label of the metrics. Default: the decorated
            function's ``__qualname__`` (``"block"`` for ``for attempt in
            policy``).

    Raises:
        TypeError: If a value has the wrong type (the message names it).
        ValueError: If a value is out of range (the message names it).

    >>> from felix_reliability.testing import FakeClock
    >>> clock = FakeClock()
    >>> policy = RetryPolicy(
    ...     on=(ConnectionError,),
    ...     attempts=4,
    ...     backoff=Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None),
    ...     clock=clock,
    ... )
    >>> @policy
    ... def notify():
    ...     raise ConnectionError("telegram is down")
    >>> try:
    ...     notify()
    ... except ConnectionError as exc:
    ...     print(exc.__notes__[-1].replace("; ", "\n"))
    retry gave up after 4 attempts (attempts_exhausted)
    waits: 1s (backoff), 2s (backoff), 4s (backoff)
    >>> clock.sleeps
    [1.0, 2.0, 4.0]

    .. versionadded:: 0.1.0
    """

    on: ExceptionTypes | ExceptionPredicate
    attempts: int = attrs.field(default=4, converter=_attempts)
    backoff: Backoff = attrs.field(factory=_default_backoff, converter=_check_backoff)
    deadline: float | None = attrs.field(default=None, converter=_deadline)
    retry_after: bool = attrs.field(default=True, converter=_retry_after_flag)
    max_retry_after: float = attrs.field(default=300.0, converter=_max_retry_after)
    retry_after_jitter: float = attrs.field(default=0.0, converter=_retry_after_jitter)
    retry_on_result: ResultPredicate | None = None
    budget: RetryBudget | None = attrs.field(default=None, converter=_check_budget)
    on_retry: StateCallback | None = None
    on_give_up: StateCallback | None = None
    clock: Clock = attrs.field(factory=SystemClock, converter=_check_clock)
    metrics: MetricsCollector | None = attrs.field(default=None, converter=_check_metrics)
    name: str | None = attrs.field(default=None, converter=_check_name)
    _types: tuple[type[BaseException], ...] | None = attrs.field(init=False, repr=False, eq=False)
    _predicate: ExceptionPredicate | None = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        types, predicate = _check_on(self.on)
        object.__setattr__(self, "_types", types)
        object.__setattr__(self, "_predicate", predicate)
        _check_callable("retry_on_result", self.retry_on_result)
        _check_callable("on_retry", self.on_retry)
        _check_callable("on_give_up", self.on_give_up)

    def _retries(self, exc: Exception) -> bool:
        """Ask the ``on`` predicate (exception types are checked inline by `_Call`)."""
        return bool(cast("ExceptionPredicate", self._predicate)(exc))

    def _rejects(self, result: object) -> bool:
        predicate = cast("Callable[[object], bool] | None", self.retry_on_result)
        return predicate is not None and bool(predicate(result))

    # -- the private entry points (internal to the package: Guard calls them) --
    #
    # `_execute` and `_execute_async` (positional arguments: keywords cost time on
    # every guarded call) run *fn* under the policy with the metrics
    # label *operation*, from *start* (this policy's clock; default: now);
    # *on_give_up*, when given, is called after the policy's
    # own `on_give_up` with the same `RetryState`, so a caller composing the
    # policy (Guard) learns why retrying ended for this one call. The public
    # `call()` and the decorators are thin wrappers over them.

    def _execute(  # noqa: PLR0917 - positional on purpose, see above
        self,
        fn: Callable[P, T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        operation: str,
        on_give_up: StateCallback | None = None,
        start: float | None = None,
    ) -> T:
        if self.budget is not None:
            self.budget.record_call()
        if start is None:
            start = self.clock.monotonic()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - classified by the policy
            failure = exc
        else:
            # Inlined `_rejects`: this is every guarded call's success path.
            predicate: Callable[[object], bool] | None = self.retry_on_result  # type: ignore[assignment]  # any result
            if predicate is None or not predicate(result):
                return result
            return self._retry_sync(
                _Call(self, operation, start, on_give_up),
                fn,
                args,
                kwargs,
                failure=None,
                result=result,
            )
        return self._retry_sync(
            _Call(self, operation, start, on_give_up),
            fn,
            args,
            kwargs,
            failure=failure,
            result=None,
        )

    async def _execute_async(  # noqa: PLR0917 - positional on purpose, see above
        self,
        fn: Callable[P, Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        operation: str,
        on_give_up: StateCallback | None = None,
        start: float | None = None,
    ) -> T:
        if self.budget is not None:
            self.budget.record_call()
        if start is None:
            start = self.clock.monotonic()
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - classified by the policy
            failure = exc
        else:
            if not self._rejects(result):
                return result
            call = _Call(self, operation, start, on_give_up)
            return await self._retry_async(call, fn, args, kwargs, failure=None, result=result)
        call = _Call(self, operation, start, on_give_up)
        return await self._retry_async(call, fn, args, kwargs, failure=failure, result=None)

    def _retry_sync(
        self,
        call: _Call,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        failure: Exception | None,
        result: Any,
    ) -> T:
        # No typing.cast here: on this path every function call counts.
        predicate: Callable[[object], bool] | None = self.retry_on_result  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
        while True:
            wait = call.decide(failure, result)
            if wait is None:
                if failure is not None:
                    raise failure
                return result  # type: ignore[no-any-return]  # a rejected result of fn
            if wait > 0 and not waits_disabled():
                self.clock.sleep(wait)
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                failure = exc
                continue
            if predicate is None or not predicate(value):
                return value
            failure, result = None, value

    async def _retry_async(
        self,
        call: _Call,
        fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        failure: Exception | None,
        result: Any,
    ) -> T:
        # No typing.cast here: on this path every function call counts.
        predicate: Callable[[object], bool] | None = self.retry_on_result  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
        while True:
            wait = call.decide(failure, result)
            if wait is None:
                if failure is not None:
                    raise failure
                return result  # type: ignore[no-any-return]  # a rejected result of fn
            if wait > 0 and not waits_disabled():
                await self.clock.sleep_async(wait)
            try:
                value = await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                failure = exc
                continue
            if predicate is None or not predicate(value):
                return value
            failure, result = None, value

    # -- the public forms --

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(*args, **kwargs)`` under the policy.

        For a coroutine function, return an awaitable that runs the retries
        (``await policy.call(fetch, url)``).

        Returns:
            What *fn* returned.

        Raises:
            Exception: The last exception of *fn*, with a note, when retrying
                ends.
        """
        operation = _operation(self.name, fn)
        if _is_async(fn):
            coroutine_fn = cast("Callable[..., Coroutine[Any, Any, Any]]", fn)
            return cast("T", self._execute_async(coroutine_fn, args, kwargs, operation=operation))
        return self._execute(fn, args, kwargs, operation=operation)

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Decorate *fn* (sync or async) so that each call runs under the policy."""
        operation = _operation(self.name, fn)
        if _is_async(fn):
            async_fn = cast("Callable[P, Awaitable[Any]]", fn)
            return cast("Callable[P, T]", self._wrap_async(async_fn, operation))
        return self._wrap_sync(fn, operation)

    def _wrap_sync(self, fn: Callable[P, T], operation: str) -> Callable[P, T]:
        if self.retry_on_result is not None or self.budget is not None or self.deadline is not None:
            execute = self._execute

            @functools.wraps(fn)
            def general(*args: P.args, **kwargs: P.kwargs) -> T:
                return execute(fn, args, kwargs, operation=operation)

            return general

        retry_sync = self._retry_sync
        policy = self

        # The fast path: a bare try around the call; the clock is read only after a failure.
        @functools.wraps(fn)
        def fast(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                failure = exc
            return retry_sync(
                _Call(policy, operation, None, None), fn, args, kwargs, failure=failure, result=None
            )

        return fast

    def _wrap_async(
        self, fn: Callable[P, Awaitable[T]], operation: str
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        if self.retry_on_result is not None or self.budget is not None or self.deadline is not None:
            execute = self._execute_async

            @functools.wraps(fn)
            async def general(*args: P.args, **kwargs: P.kwargs) -> T:
                return await execute(fn, args, kwargs, operation=operation)

            return general

        retry_async = self._retry_async
        policy = self

        @functools.wraps(fn)
        async def fast(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                failure = exc
            call = _Call(policy, operation, None, None)
            return await retry_async(call, fn, args, kwargs, failure=failure, result=None)

        return fast

    def __iter__(self) -> Iterator[RetryAttempt]:
        """Yield attempts for ``for attempt in policy: with attempt: ...``."""
        return _AttemptLoop(self)

    def __aiter__(self) -> AsyncIterator[RetryAttempt]:
        """Yield attempts for ``async for attempt in policy: with attempt: ...``."""
        return _AttemptLoop(self)


def retry(
    *,
    on: ExceptionTypes | ExceptionPredicate,
    attempts: int = 4,
    backoff: Backoff | None = None,
    deadline: float | None = None,
    retry_after: bool = True,
    max_retry_after: float = 300.0,
    retry_after_jitter: float = 0.0,
    retry_on_result: ResultPredicate | None = None,
    budget: RetryBudget | None = None,
    on_retry: StateCallback | None = None,
    on_give_up: StateCallback | None = None,
    clock: Clock | None = None,
    metrics: MetricsCollector | None = None,
    name: str | None = None,
) -> RetryPolicy:
    """Return a `RetryPolicy` to use as a decorator: ``@retry(on=..., ...)``.

    Takes exactly the arguments of `RetryPolicy` (`None` for *backoff* and
    *clock* means their defaults).

    >>> @retry(on=(TimeoutError,), attempts=2, backoff=Backoff.constant(0))
    ... def ping():
    ...     return "pong"
    >>> ping()
    'pong'

    .. versionadded:: 0.1.0
    """
    return RetryPolicy(
        on=on,
        attempts=attempts,
        backoff=_default_backoff() if backoff is None else backoff,
        deadline=deadline,
        retry_after=retry_after,
        max_retry_after=max_retry_after,
        retry_after_jitter=retry_after_jitter,
        retry_on_result=retry_on_result,
        budget=budget,
        on_retry=on_retry,
        on_give_up=on_give_up,
        clock=SystemClock() if clock is None else clock,
        metrics=metrics,
        name=name,
    )
