"""SystemClock and FakeClock keep their promises."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from felix_reliability import Clock, SystemClock
from felix_reliability.testing import FakeClock
from tests.strategies import durations


def test_system_clock_reads_the_real_time() -> None:
    """SystemClock's wall time is the epoch time and its monotonic time never decreases."""
    clock = SystemClock()
    first = clock.monotonic()
    assert abs(clock.wall() - time.time()) < 5
    assert clock.monotonic() >= first


def test_system_clock_sleeps_zero_seconds() -> None:
    """SystemClock.sleep and sleep_async accept zero and return."""
    clock = SystemClock()
    clock.sleep(0)
    asyncio.run(clock.sleep_async(0))
    assert repr(clock) == "SystemClock()"


def test_both_clocks_satisfy_the_protocol() -> None:
    """SystemClock and FakeClock are Clocks."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FakeClock(), Clock)


def test_fake_clock_starts_where_asked() -> None:
    """FakeClock starts at `start`, with wall time at `wall_start`."""
    clock = FakeClock(5.0, wall_start=100.0)
    assert (clock.monotonic(), clock.wall()) == (5.0, 100.0)


def test_fake_clock_sleep_advances_and_records() -> None:
    """Sleeping advances both clocks and is recorded; advance() is not."""
    clock = FakeClock()
    clock.sleep(2.0)
    clock.advance(3.0)
    clock.sleep(0.5)
    assert clock.monotonic() == 5.5
    assert clock.wall() == 1_700_000_005.5
    assert clock.sleeps == [2.0, 0.5]


def test_fake_clock_async_sleep_advances_and_records() -> None:
    """sleep_async advances the time without waiting."""
    clock = FakeClock()
    asyncio.run(clock.sleep_async(30.0))
    assert clock.monotonic() == 30.0
    assert clock.sleeps == [30.0]


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_fake_clock_rejects_bad_durations(bad: float) -> None:
    """Negative, NaN and infinite durations are errors naming the parameter."""
    clock = FakeClock()
    with pytest.raises(ValueError, match="seconds"):
        clock.sleep(bad)
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(bad)
    assert clock.monotonic() == 0.0


def test_fake_clock_is_consistent_under_threads() -> None:
    """Concurrent sleeps from 8 threads are all counted."""
    clock = FakeClock()

    def work() -> None:
        for _ in range(1000):
            clock.sleep(1.0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.monotonic() == 8000.0
    assert len(clock.sleeps) == 8000


@given(st.lists(durations, max_size=20))
def test_fake_clock_time_is_the_sum_of_its_steps(steps: list[float]) -> None:
    """Monotonic time equals start plus every step, and never decreases."""
    clock = FakeClock()
    seen = [clock.monotonic()]
    for step in steps:
        clock.sleep(step)
        seen.append(clock.monotonic())
    assert seen == sorted(seen)
    assert clock.sleeps == steps
    assert math.isclose(clock.monotonic(), math.fsum(steps), rel_tol=1e-9, abs_tol=1e-6)


def test_fake_clock_repr_shows_time_and_sleeps() -> None:
    """The repr tells the time and how many sleeps were recorded."""
    clock = FakeClock()
    clock.sleep(1.0)
    assert repr(clock) == "FakeClock(monotonic=1.0, sleeps=1)"
