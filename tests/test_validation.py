"""Configuration checks name the parameter and the value."""

from __future__ import annotations

import math

import pytest

from felix_reliability._validation import (
    check_count,
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)
from felix_reliability.exceptions import ConfigurationError


def test_positive_int_accepts_and_rejects() -> None:
    """Ints >= 1 pass; zero, bools and floats fail with the parameter's name."""
    assert check_positive_int("attempts", 3) == 3
    with pytest.raises(ConfigurationError, match="attempts must be >= 1, got 0"):
        check_positive_int("attempts", 0)
    with pytest.raises(TypeError, match="attempts must be an int, got bool True"):
        check_positive_int("attempts", True)
    with pytest.raises(TypeError, match="attempts must be an int, got float"):
        check_positive_int("attempts", 1.5)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf])
def test_positive_float_rejects(bad: float) -> None:
    """Zero, negatives and infinity are not positive finite numbers."""
    with pytest.raises(ConfigurationError, match="timeout"):
        check_positive_float("timeout", bad)


def test_positive_float_checks_type_and_nan() -> None:
    """Strings are TypeErrors, NaN is a ValueError; infinity may be allowed."""
    with pytest.raises(TypeError, match="timeout must be a number, got str"):
        check_positive_float("timeout", "1")
    with pytest.raises(ValueError, match="timeout must not be NaN"):
        check_positive_float("timeout", math.nan)
    assert check_positive_float("timeout", math.inf, allow_inf=True) == math.inf
    assert check_positive_float("timeout", 2) == 2.0


def test_non_negative_float() -> None:
    """Zero passes; negatives and infinity (unless allowed) fail."""
    assert check_non_negative_float("delay", 0) == 0.0
    assert check_non_negative_float("delay", math.inf, allow_inf=True) == math.inf
    with pytest.raises(ConfigurationError, match="delay must be a finite number >= 0"):
        check_non_negative_float("delay", -0.1)
    with pytest.raises(ConfigurationError, match="delay"):
        check_non_negative_float("delay", math.inf)


@pytest.mark.parametrize(("value", "ok"), [(0.0, False), (0.5, True), (1.0, True), (1.01, False)])
def test_fraction_bounds(value: float, ok: bool) -> None:
    """A fraction lies in (0, 1]."""
    if ok:
        assert check_fraction("threshold", value) == value
    else:
        with pytest.raises(ConfigurationError, match="threshold must be in"):
            check_fraction("threshold", value)


def test_count_accepts_zero_and_optional_none() -> None:
    """Counts are ints >= 0; None only where allowed; every refusal names the option."""
    check_count("limit", 0)
    check_count("limit", None, allow_none=True)
    with pytest.raises(ConfigurationError, match="limit must be an int >= 0, got None"):
        check_count("limit", None)
    with pytest.raises(ConfigurationError, match="offset must be an int >= 0, got True"):
        check_count("offset", True)
    with pytest.raises(ConfigurationError, match="limit must be None or an int >= 0, got -1"):
        check_count("limit", -1, allow_none=True)
