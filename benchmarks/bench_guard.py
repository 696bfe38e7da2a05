"""Guard row: the whole stack's success path against pybreaker's closed-state path alone."""

from __future__ import annotations

from collections.abc import Callable

import pybreaker
from harness import Case, Row

from felix_reliability import CircuitBreaker, Guard, InMemoryMetrics, RetryPolicy


def _work() -> int:
    return 1


def _loop(fn: Callable[[], int]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            fn()

    return run


def _guarded() -> Callable[[], int]:
    metrics = InMemoryMetrics()
    guard = Guard(
        name="bench.send",
        retry=RetryPolicy(on=(ConnectionError,), metrics=metrics),
        breaker=CircuitBreaker(name="bench-guard", metrics=metrics),
        metrics=metrics,
    )
    return guard(_work)


def _pybreaker() -> Callable[[], int]:
    guarded: Callable[[], int] = pybreaker.CircuitBreaker(fail_max=10, reset_timeout=120)(_work)
    return guarded


def rows() -> list[Row]:
    """Return this module's rows."""
    return [
        Row(
            title="Guard success path (metrics + retry + breaker) vs pybreaker alone",
            ours=Case("felix Guard", _loop(_guarded())),
            peers=(Case("pybreaker", _loop(_pybreaker())),),
            baseline=Case("bare call", _loop(_work)),
            targets={"pybreaker": 1.0},
            note="issue 8: the whole stack costs no more than pybreaker by itself",
        )
    ]
