"""Retry rows: success-path and one-failure overhead against tenacity, backoff and stamina."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

import backoff
import stamina
import tenacity
from harness import Case, Row

from felix_reliability import Backoff, RetryPolicy


def _work(x: int) -> int:
    return x


async def _work_async(x: int) -> int:
    return x


def _plain(fn: Callable[[int], int]) -> Callable[[int], int]:
    """The floor: the least a decorator that can catch can do."""

    @functools.wraps(fn)
    def wrapper(*args: int, **kwargs: int) -> int:
        try:
            return fn(*args, **kwargs)
        except Exception:  # noqa: TRY203 - the floor is a decorator that can catch
            raise

    return wrapper


def _plain_async(fn: Callable[[int], Awaitable[int]]) -> Callable[[int], Awaitable[int]]:
    @functools.wraps(fn)
    async def wrapper(*args: int, **kwargs: int) -> int:
        try:
            return await fn(*args, **kwargs)
        except Exception:  # noqa: TRY203 - the floor is a decorator that can catch
            raise

    return wrapper


def _loop(fn: Callable[[int], object]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for i in range(n):
            fn(i)

    return run


def _loop_async(fn: Callable[[int], Awaitable[object]]) -> Callable[[int], None]:
    async def body(n: int) -> None:
        for i in range(n):
            await fn(i)

    def run(n: int) -> None:
        asyncio.run(body(n))

    return run


class _FailsEveryOtherCall:
    """Raise on odd calls, succeed on even ones: one failure, then success."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: int) -> int:
        self.calls += 1
        if self.calls % 2:
            raise ValueError(x)
        return x


def _no_sleep(_seconds: float) -> None:
    return None


def _success_row() -> Row:
    ours = RetryPolicy(on=(ValueError,), attempts=4)(_work)
    tenacity_fn = tenacity.retry(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_exponential(multiplier=1, max=30),
        retry=tenacity.retry_if_exception_type(ValueError),
    )(_work)
    backoff_fn = backoff.on_exception(backoff.expo, ValueError, max_tries=4)(_work)
    return Row(
        title="retry success path: decorated call minus bare call",
        ours=Case("felix retry", _loop(ours)),
        peers=(
            Case("tenacity", _loop(tenacity_fn)),
            Case("backoff", _loop(backoff_fn)),
            Case("plain wraps+try", _loop(_plain(_work))),
        ),
        baseline=Case("bare call", _loop(_work)),
        targets={"tenacity": 1 / 40, "backoff": 1 / 8, "plain wraps+try": 2.0},
        note="issue targets: <= 1/40 tenacity, <= 1/8 backoff, <= 2x the floor",
    )


def _one_failure_row() -> Row:
    ours = RetryPolicy(on=(ValueError,), attempts=4, backoff=Backoff.constant(0))(
        _FailsEveryOtherCall()
    )
    tenacity_fn = tenacity.retry(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_none(),
        retry=tenacity.retry_if_exception_type(ValueError),
        sleep=_no_sleep,
    )(_FailsEveryOtherCall())
    return Row(
        title="retry one failure then success, zero wait",
        ours=Case("felix retry", _loop(ours)),
        peers=(Case("tenacity", _loop(tenacity_fn)),),
        targets={"tenacity": 1 / 10},
        operations=5_000,
        note="tenacity's sleep is a no-op; issue target <= 1/10 tenacity",
    )


def _async_success_row() -> Row:
    ours = RetryPolicy(on=(ValueError,), attempts=4)(_work_async)
    stamina_fn = stamina.retry(on=ValueError, attempts=4)(_work_async)
    return Row(
        title="retry async success path: decorated call minus bare call",
        ours=Case("felix retry async", _loop_async(ours)),
        peers=(
            Case("stamina", _loop_async(stamina_fn)),
            Case("plain async wraps+try", _loop_async(_plain_async(_work_async))),
        ),
        baseline=Case("bare async call", _loop_async(_work_async)),
        targets={"stamina": 1 / 30, "plain async wraps+try": 2.0},
        note="issue targets: <= 1/30 stamina, <= 2x the async floor",
    )


def rows() -> list[Row]:
    """Return this module's rows."""
    return [_success_row(), _one_failure_row(), _async_success_row()]
