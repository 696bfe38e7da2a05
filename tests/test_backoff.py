"""Backoff schedules: exponential, constant, linear, jitter, caps and validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from felix_reliability import Backoff
from tests.strategies_retry import backoffs


def test_exponential_without_jitter_doubles_up_to_the_cap() -> None:
    """initial * multiplier ** (n - 1), capped at max."""
    backoff = Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None)
    assert backoff.schedule(4) == [1.0, 2.0, 4.0, 4.0]


def test_constant_waits_the_same_every_time() -> None:
    """Backoff.constant(d) waits d before every retry."""
    assert Backoff.constant(0.25).schedule(3) == [0.25, 0.25, 0.25]


def test_linear_grows_by_the_increment_up_to_the_cap() -> None:
    """Backoff.linear adds the increment per retry and stops at max."""
    backoff = Backoff.linear(initial=1.0, increment=1.5, max=3.0)
    assert backoff.schedule(4) == [1.0, 2.5, 3.0, 3.0]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    """Retry number 10,000 of an exponential schedule is the cap, not an OverflowError."""
    backoff = Backoff.exponential(initial=1.0, multiplier=2.0, max=30.0, jitter=None)
    assert backoff.delay(10_000) == 30.0
    assert backoff.delay(10**9) == 30.0


def test_full_jitter_stays_between_zero_and_the_base() -> None:
    """Full jitter draws in [0, base]."""
    backoff = Backoff.exponential(initial=8.0, multiplier=1.0, max=8.0, jitter="full", seed=1)
    waits = backoff.schedule(200)
    assert all(0.0 <= wait <= 8.0 for wait in waits)
    assert len(set(waits)) > 100


def test_equal_jitter_keeps_at_least_half_the_base() -> None:
    """Equal jitter draws in [base / 2, base]."""
    backoff = Backoff.exponential(initial=8.0, multiplier=1.0, max=8.0, jitter="equal", seed=2)
    assert all(4.0 <= wait <= 8.0 for wait in backoff.schedule(200))


def test_decorrelated_jitter_stays_between_initial_and_the_cap() -> None:
    """Decorrelated jitter draws in [initial, previous * multiplier], capped at max."""
    backoff = Backoff.exponential(
        initial=1.0, multiplier=3.0, max=20.0, jitter="decorrelated", seed=3
    )
    assert all(1.0 <= wait <= 20.0 for wait in backoff.schedule(500))


def test_the_same_seed_gives_the_same_schedule() -> None:
    """Seeded schedules are reproducible."""
    first = Backoff.exponential(jitter="full", seed=42).schedule(10)
    second = Backoff.exponential(jitter="full", seed=42).schedule(10)
    assert first == second


@given(backoffs(), st.integers(min_value=1, max_value=20_000), st.floats(0, 1e7))
def test_every_delay_is_within_zero_and_the_cap(
    backoff: Backoff, retry: int, previous: float
) -> None:
    """No wait is negative or above max, whatever the kind, jitter and attempt number."""
    wait = backoff.delay(retry, previous)
    assert 0.0 <= wait <= backoff.max


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"initial": -1.0}, "initial", ValueError),
        ({"multiplier": 0.5}, "multiplier", ValueError),
        ({"multiplier": "2"}, "multiplier", TypeError),
        ({"max": float("inf")}, "max", ValueError),
        ({"max": float("nan")}, "max", ValueError),
        ({"jitter": "random"}, "jitter", ValueError),
        ({"seed": 1.5}, "seed", TypeError),
        ({"seed": True}, "seed", TypeError),
    ],
)
def test_invalid_exponential_configuration_names_the_parameter(
    kwargs: dict[str, object], name: str, error: type[Exception]
) -> None:
    """A bad value raises at construction with the parameter's name in the message."""
    with pytest.raises(error, match=name):
        Backoff.exponential(**kwargs)  # type: ignore[arg-type]


def test_invalid_constant_and_linear_configuration_names_the_parameter() -> None:
    """Constant and linear validate their parameters too."""
    with pytest.raises(ValueError, match="delay"):
        Backoff.constant(-1)
    with pytest.raises(ValueError, match="increment"):
        Backoff.linear(increment=-2)


def test_an_unknown_kind_is_rejected() -> None:
    """The attrs initializer accepts only the three kinds."""
    with pytest.raises(ValueError, match="kind"):
        Backoff(
            kind="fibonacci",
            initial=1.0,
            multiplier=1.0,
            increment=0.0,
            max=1.0,
            jitter=None,
            random=__import__("random").Random(0),
        )
