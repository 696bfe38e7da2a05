"""Circuit breaker rows: closed-state overhead, open-state rejection, 4 threads, memory."""

from __future__ import annotations

import contextlib
import sys
import threading
import tracemalloc
from collections.abc import Callable

import circuitbreaker
import pybreaker
from harness import Case, Row

from felix_reliability import CircuitBreaker
from felix_reliability.exceptions import CircuitOpenError


def _work() -> int:
    return 1


def _loop(fn: Callable[[], int]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            fn()

    return run


def _rejections(fn: Callable[[], int], error: type[BaseException]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            try:  # noqa: SIM105 - suppress() would add its own cost to the measurement
                fn()
            except error:
                pass

    return run


def _threads(fn: Callable[[], int], workers: int = 4) -> Callable[[int], None]:
    def run(n: int) -> None:
        share = max(1, n // workers)

        def work() -> None:
            for _ in range(share):
                fn()

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    return run


def _ours(name: str) -> Callable[[], int]:
    return CircuitBreaker(name=name)(_work)


def _pybreaker() -> Callable[[], int]:
    breaker = pybreaker.CircuitBreaker(fail_max=10, reset_timeout=120)
    guarded: Callable[[], int] = breaker(_work)
    return guarded


def _circuitbreaker(name: str) -> Callable[[], int]:
    breaker = circuitbreaker.CircuitBreaker(failure_threshold=10, recovery_timeout=120, name=name)
    guarded: Callable[[], int] = breaker(_work)
    return guarded


def _open_ours() -> Callable[[], int]:
    breaker = CircuitBreaker(name="bench-open", failure_threshold=1)

    @breaker
    def fail() -> int:
        raise ConnectionError

    with contextlib.suppress(ConnectionError):
        fail()
    return breaker(_work)


def _open_pybreaker() -> Callable[[], int]:
    breaker = pybreaker.CircuitBreaker(fail_max=10, reset_timeout=120)
    guarded: Callable[[], int] = breaker(_work)
    breaker.open()
    return guarded


def breaker_size(count: int = 100) -> tuple[float, int]:
    """Return bytes per default breaker by tracemalloc: the mean of *count*, and the first."""
    CircuitBreaker(name="warm-up")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        first = CircuitBreaker(name="sized")
        first_size = tracemalloc.get_traced_memory()[0] - before
        before = tracemalloc.get_traced_memory()[0]
        many = [CircuitBreaker(name=f"sized-{index}") for index in range(count)]
        mean = (tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(many)) / count
    finally:
        tracemalloc.stop()
    del first, many
    return mean, first_size


def rows() -> list[Row]:
    """Return this module's rows."""
    mean, first = breaker_size()
    return [
        Row(
            title="breaker: closed-state success overhead (decorated minus bare call)",
            ours=Case("felix CircuitBreaker", _loop(_ours("bench-closed"))),
            peers=(
                Case("pybreaker", _loop(_pybreaker())),
                Case("circuitbreaker", _loop(_circuitbreaker("bench-closed"))),
            ),
            baseline=Case("bare call", _loop(_work)),
            targets={"pybreaker": 0.25, "circuitbreaker": 1.0},
            note=(
                f"one breaker instance by tracemalloc: {mean:.0f} B (mean of 100; "
                f"the first after warm-up: {first} B), target <= 1024"
            ),
        ),
        Row(
            title="breaker: rejected call in OPEN state, raise and catch included",
            ours=Case("felix CircuitBreaker", _rejections(_open_ours(), CircuitOpenError)),
            peers=(
                Case(
                    "pybreaker",
                    _rejections(_open_pybreaker(), pybreaker.CircuitBreakerError),
                ),
            ),
            targets={"pybreaker": 0.4},
        ),
        Row(
            title="breaker: 4 threads calling one breaker (time for the same calls)",
            ours=Case("felix CircuitBreaker", _threads(_ours("bench-threads"))),
            peers=(Case("pybreaker", _threads(_pybreaker())),),
            targets={"pybreaker": 0.333},
            operations=40_000,
            note="time ratio <= 0.333 means throughput >= 3x",
        ),
    ]
