"""Guard: one call made dependable — metrics and logging, retry, breaker, dead letter.

The layers, from the outside in::

    metrics/logging -> retry -> breaker -> the call

The breaker sees every attempt and an open breaker ends the retries (the
policy never retries `CircuitOpenError`). When the call fails for good, the
Guard writes a `DeadLetter` and re-raises the caller's exception with a note,
or returns the fallback's value.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, ParamSpec, TypeVar, cast

import attrs

from felix_reliability._breaker import CircuitBreaker
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._dead_letters import (
    DeadLetter,
    DeadLetterReason,
    DeadLetterSink,
    LoggingDeadLetterSink,
)
from felix_reliability._in_memory_metrics import call_recorder
from felix_reliability._metrics import (
    CALL_DURATION,
    CALLS,
    DEAD_LETTER_WRITE_FAILURES,
    DEAD_LETTERS,
    MetricsCollector,
    NullMetrics,
)
from felix_reliability._replay import is_replaying
from felix_reliability._retry import GiveUpReason, RetryPolicy, RetryState
from felix_reliability._validation import check_instance
from felix_reliability.exceptions import CircuitOpenError

__all__ = ["Guard"]

P = ParamSpec("P")
R = TypeVar("R")

Payload = Callable[..., object]
Fallback = Callable[[Exception, DeadLetter], object]

_REASONS: Final[Mapping[GiveUpReason, DeadLetterReason]] = {
    GiveUpReason.ATTEMPTS_EXHAUSTED: DeadLetterReason.RETRIES_EXHAUSTED,
    GiveUpReason.NOT_RETRYABLE: DeadLetterReason.PERMANENT_ERROR,
    GiveUpReason.RETRY_AFTER_TOO_LONG: DeadLetterReason.RETRY_AFTER_TOO_LONG,
    GiveUpReason.DEADLINE_EXCEEDED: DeadLetterReason.DEADLINE_EXCEEDED,
    GiveUpReason.BUDGET_EXHAUSTED: DeadLetterReason.BUDGET_EXHAUSTED,
    GiveUpReason.CIRCUIT_OPEN: DeadLetterReason.CIRCUIT_OPEN,
}
_LOGGER: Final = logging.getLogger("felix_reliability.guard")
_MAX_REPR: Final = 200


def json_safe_arguments(*args: object, **kwargs: object) -> dict[str, object]:
    """Return the call's arguments as JSON-safe data: the default dead-letter payload.

    Values JSON cannot hold (objects, NaN, bytes) become a short
    ``"<unserializable TYPE>"`` marker; their repr is never taken, since it
    may hold a secret.
    """
    return {"args": [_json_safe(value) for value in args], "kwargs": _json_safe(kwargs)}


def _json_safe(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else f"<unserializable {value!r}>"
    if isinstance(value, list | tuple):
        items = cast("list[object] | tuple[object, ...]", value)
        return [_json_safe(item) for item in items]
    if isinstance(value, Mapping):
        return _json_safe_mapping(cast("Mapping[object, object]", value))
    return f"<unserializable {type(value).__name__}>"


def _json_safe_mapping(mapping: Mapping[object, object]) -> object:
    if all(isinstance(key, str) for key in mapping):
        return {str(key): _json_safe(item) for key, item in mapping.items()}
    return f"<unserializable {type(mapping).__name__}>"


_STATE_ATTRIBUTE: Final = "_felix_retry_state"


def _remember_state(state: RetryState) -> None:
    """Hand the policy's final state to the Guard through the exception it re-raises.

    One module-level callback instead of a closure per call keeps the success
    path free of allocations; `_take_state` removes the attribute again.
    """
    if state.last_exception is not None:
        setattr(state.last_exception, _STATE_ATTRIBUTE, state)


def _take_state(exc: Exception) -> RetryState | None:
    state = cast("RetryState | None", getattr(exc, _STATE_ATTRIBUTE, None))
    if state is not None:
        delattr(exc, _STATE_ATTRIBUTE)
    return state


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("name must not be empty")
    return name


@attrs.define(init=False, repr=False)
class Guard:
    """Make one kind of call dependable: retry, breaker, dead letter, metrics and logs.

    The layers run as ``metrics/logging -> retry -> breaker -> call``: the
    breaker counts every attempt, and an open breaker ends the retries.
    When the call fails for good, the Guard builds a `DeadLetter` (payload
    from *payload*, reason from the retry policy's `RetryState`), puts it in
    *dead_letters*, logs it, and then re-raises the original exception with
    the note ``dead-lettered as <id>``, or returns ``fallback(exc, letter)``.
    If the sink fails, the letter goes to a `LoggingDeadLetterSink` instead
    and ``felix_dead_letter_write_failures`` counts it: a letter is never
    silently lost. While `replay_dead_letters` runs its handler, a Guard
    inside it writes no new letter (the replay keeps the original).

    Args:
        name: The operation, such as ``"telegram.send_message"``: the
            ``operation`` label of metrics and of dead letters.
        retry: The retry policy, or `None` for a single attempt.
        breaker: The circuit breaker, or `None`.
        dead_letters: Where failed calls go (a `DeadLetterSink`, or a
            `DeadLetterStore` for *write_ahead*), or `None` to log them only.
        metrics: Where ``felix_calls`` and ``felix_call_duration_seconds``
            go, once per guarded call (not per attempt).
        payload: ``payload(*args, **kwargs)`` returns what a replay needs;
            default: the JSON-safe arguments.
        fallback: ``fallback(exc, letter)`` is returned instead of raising;
            its value must suit the guarded function's return type.
        write_ahead: Put a ``pending`` letter before the first attempt,
            delete it on success and update it on failure, so a worker
            killed mid-call loses nothing. Needs a store.
        logger: The logger for failures (default
            ``felix_reliability.guard``).
        clock: Times calls and dates letters.

    Raises:
        TypeError: If *write_ahead* is set without a store that has
            ``update`` and ``delete``, or an argument has the wrong type.

    .. versionadded:: 0.1.0
    """

    name: str
    retry: RetryPolicy | None
    breaker: CircuitBreaker | None
    dead_letters: DeadLetterSink | None
    metrics: MetricsCollector
    payload: Payload
    fallback: Fallback | None
    write_ahead: bool
    logger: logging.Logger
    clock: Clock
    _fallback_sink: LoggingDeadLetterSink
    _record_success: Callable[[float], None]
    _record_failure: Callable[[float], None]
    _shared_start: bool
    _now: Callable[[], float]

    def __init__(
        self,
        *,
        name: str,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        dead_letters: DeadLetterSink | None = None,
        metrics: MetricsCollector | None = None,
        payload: Payload | None = None,
        fallback: Fallback | None = None,
        write_ahead: bool = False,
        logger: logging.Logger | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = _check_name(name)
        if write_ahead and not (
            hasattr(dead_letters, "update") and hasattr(dead_letters, "delete")
        ):
            raise TypeError(
                "write_ahead=True needs dead_letters to be a DeadLetterStore "
                f"(with update and delete), got {type(dead_letters).__name__}"
            )
        for label, value in (("payload", payload), ("fallback", fallback)):
            if value is not None and not callable(value):
                raise TypeError(f"{label} must be callable, got {type(value).__name__}")
        self.retry = None if retry is None else check_instance("retry", retry, RetryPolicy)
        self.breaker = (
            None if breaker is None else check_instance("breaker", breaker, CircuitBreaker)
        )
        self.dead_letters = dead_letters
        self.metrics = NullMetrics() if metrics is None else metrics
        self.payload = json_safe_arguments if payload is None else payload
        self.fallback = fallback
        self.write_ahead = bool(write_ahead)
        self.logger = _LOGGER if logger is None else logger
        self.clock = SystemClock() if clock is None else clock
        # One bound call per clock read on the success path.
        self._now = time.monotonic if type(self.clock) is SystemClock else self.clock.monotonic
        self._fallback_sink = LoggingDeadLetterSink(logger=self.logger)
        # Resolved once: each call then records its count and duration in one step.
        self._record_success = call_recorder(
            self.metrics,
            CALLS,
            {"operation": name, "outcome": "success"},
            CALL_DURATION,
            {"operation": name},
        )
        self._record_failure = call_recorder(
            self.metrics,
            CALLS,
            {"operation": name, "outcome": "failure"},
            CALL_DURATION,
            {"operation": name},
        )
        # The policy may start from the Guard's clock read when they share a clock.
        self._shared_start = retry is not None and retry.clock is self.clock

    def __repr__(self) -> str:
        return f"Guard(name={self.name!r}, retry={self.retry!r}, breaker={self.breaker!r})"

    # -- the calling forms --

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate *fn* (sync or async) so that every call is guarded."""
        if inspect.iscoroutinefunction(fn):
            inner_async = self._breaker_async(fn)

            @functools.wraps(fn)
            async def guarded_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await self._run_async(inner_async, args, kwargs)

            return cast("Callable[P, R]", guarded_async)

        inner = self._breaker_sync(fn)

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            return self._run(inner, args, kwargs)

        return guarded

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)`` guarded.

        For a coroutine function, return an awaitable that runs the guarded call.
        """
        if inspect.iscoroutinefunction(fn):
            coroutine = self._run_async(self._breaker_async(fn), args, kwargs)
            return cast("R", coroutine)
        return self._run(self._breaker_sync(fn), args, kwargs)

    # -- composition --

    def _breaker_sync(self, fn: Callable[..., R]) -> Callable[..., R]:
        breaker = self.breaker
        if breaker is None:
            return fn
        return breaker(fn)  # the breaker's decorator: its closed fast path

    def _breaker_async(self, fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        breaker = self.breaker
        if breaker is None:
            return fn

        async def through_breaker(*args: object, **kwargs: object) -> R:
            async with breaker.attempt() as permit:
                result = await fn(*args, **kwargs)
                permit.judge(result)
                return result

        return through_breaker

    def _run(self, inner: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        start = self._now()
        pending = self._write_pending(args, kwargs) if self.write_ahead else None
        try:
            if self.retry is None:
                result = inner(*args, **kwargs)
            else:
                result = self.retry._execute(  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - Guard composes the policy
                    inner,
                    args,
                    kwargs,
                    self.name,
                    _remember_state,
                    start if self._shared_start else None,
                )
        except Exception as exc:
            letter = self._failed(exc, pending, args, kwargs, start)
            if self.fallback is None or letter is None:
                raise
            return cast("R", self.fallback(exc, letter))
        self._record_success(self._now() - start)  # `_succeeded`, inlined on the hot path
        if pending is not None:
            self._delete_pending(pending)
        return result

    async def _run_async(
        self,
        inner: Callable[..., Awaitable[R]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        start = self._now()
        pending = self._write_pending(args, kwargs) if self.write_ahead else None
        try:
            if self.retry is None:
                result = await inner(*args, **kwargs)
            else:
                result = await self.retry._execute_async(  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - see _run
                    inner,
                    args,
                    kwargs,
                    self.name,
                    _remember_state,
                    start if self._shared_start else None,
                )
        except Exception as exc:
            letter = self._failed(exc, pending, args, kwargs, start)
            if self.fallback is None or letter is None:
                raise
            return cast("R", self.fallback(exc, letter))
        self._succeeded(pending, start)
        return result

    # -- bookkeeping (sync: stores are sync; async callers accept a short block) --

    def _succeeded(self, pending: DeadLetter | None, start: float) -> None:
        self._record_success(self._now() - start)
        if pending is not None:
            self._delete_pending(pending)

    def _failed(
        self,
        exc: Exception,
        pending: DeadLetter | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
    ) -> DeadLetter | None:
        self._record_failure(self._now() - start)
        if is_replaying():
            # The replay keeps the original letter and counts the refusal.
            return None
        letter = self._letter(exc, _take_state(exc), pending, args, kwargs)
        self._deliver(letter, update=pending is not None)
        self.metrics.increment(
            DEAD_LETTERS, 1.0, {"operation": self.name, "reason": letter.reason.value}
        )
        self.logger.error(
            "%s failed (%s: %s after %d attempt(s)): dead-lettered as %s",
            self.name,
            letter.reason.value,
            letter.error_type,
            letter.attempts,
            letter.id,
        )
        exc.add_note(f"dead-lettered as {letter.id}")
        return letter

    def _letter(
        self,
        exc: Exception,
        state: RetryState | None,
        pending: DeadLetter | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> DeadLetter:
        if state is not None and state.give_up_reason is not None:
            reason = _REASONS[state.give_up_reason]
            attempts = state.attempts
            first = self.clock.wall() - state.elapsed
        else:
            reason = (
                DeadLetterReason.CIRCUIT_OPEN
                if isinstance(exc, CircuitOpenError)
                else DeadLetterReason.PERMANENT_ERROR
            )
            attempts = 1
            first = self.clock.wall()
        letter = DeadLetter.create(
            operation=self.name,
            payload=pending.payload if pending is not None else self._payload(args, kwargs),
            reason=reason,
            exception=exc,
            attempts=attempts,
            first_failure_at=datetime.fromtimestamp(first, UTC),
            clock=self.clock,
        )
        if pending is not None:
            letter = attrs.evolve(letter, id=pending.id, created_at=pending.created_at)
        return letter

    def _payload(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
        try:
            return self.payload(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a broken payload hook must not lose the letter
            self.logger.warning(
                "%s: the payload hook raised %s; the letter keeps the JSON-safe arguments",
                self.name,
                type(exc).__name__,
            )
            return json_safe_arguments(*args, **kwargs)

    def _write_pending(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DeadLetter | None:
        if is_replaying():  # the replayed letter is already in the store
            return None
        letter = DeadLetter.create(
            operation=self.name,
            payload=self._payload(args, kwargs),
            reason=DeadLetterReason.PENDING,
            attempts=0,
            clock=self.clock,
        )
        store = cast("Any", self.dead_letters)
        try:
            store.put(letter)
        except Exception as exc:  # noqa: BLE001 - the call goes on; its outcome is still recorded
            self._count_write_failure(exc)
            return None
        return letter

    def _delete_pending(self, letter: DeadLetter) -> None:
        store = cast("Any", self.dead_letters)
        try:
            store.delete(letter.id)
        except Exception as exc:  # noqa: BLE001 - delivered; a stale pending letter may replay once
            self._count_write_failure(exc)

    def _deliver(self, letter: DeadLetter, *, update: bool) -> None:
        sink = self.dead_letters
        if sink is None:
            self._fallback_sink.put(letter)
            return
        try:
            # update() is False when the pending letter is gone (say, replayed
            # meanwhile): then the final letter is put anew.
            if not (update and cast("Any", sink).update(letter)):
                sink.put(letter)
        except Exception as exc:  # noqa: BLE001 - never lose a letter: log it instead
            self._count_write_failure(exc)
            self._fallback_sink.put(letter)

    def _count_write_failure(self, exc: Exception) -> None:
        # The Guard counts its sink's failures; give a sink its own metrics only
        # when it is used without a Guard, or they are counted twice.
        sink = self.dead_letters
        sink_name = str(getattr(sink, "sink_name", type(sink).__name__))
        self.metrics.increment(DEAD_LETTER_WRITE_FAILURES, 1.0, {"sink": sink_name})
        self.logger.warning(
            "%s: dead-letter sink %s failed with %s", self.name, sink_name, type(exc).__name__
        )
