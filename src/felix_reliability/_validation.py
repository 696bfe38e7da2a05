"""Checks for keyword-only configuration: each error names the parameter and the value."""

from __future__ import annotations

import math
from typing import TypeVar

from felix_reliability.exceptions import ConfigurationError

T = TypeVar("T")

__all__ = [
    "check_count",
    "check_fraction",
    "check_instance",
    "check_non_negative_float",
    "check_positive_float",
    "check_positive_int",
]


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if math.isnan(value):
        raise ConfigurationError(f"{name} must not be NaN")
    return float(value)


def check_count(name: str, value: object, *, allow_none: bool = False) -> None:
    """Raise `ConfigurationError` naming *name* unless *value* is an int >= 0 (or allowed None).

    Paging and replay options raise `ConfigurationError` for a wrong type too,
    as they always have (their callers catch one error for a bad option).
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        allowed = "None or an int >= 0" if allow_none else "an int >= 0"
        raise ConfigurationError(f"{name} must be {allowed}, got {value!r}")


def check_positive_int(name: str, value: object) -> int:
    """Return *value* if it is an int >= 1, else raise naming *name*."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ConfigurationError(f"{name} must be >= 1, got {value!r}")
    return value


def check_positive_float(name: str, value: object, *, allow_inf: bool = False) -> float:
    """Return *value* as a float if it is finite (or inf when allowed) and > 0."""
    number = _check_real(name, value)
    if number <= 0 or (math.isinf(number) and not allow_inf):
        raise ConfigurationError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_non_negative_float(name: str, value: object, *, allow_inf: bool = False) -> float:
    """Return *value* as a float if it is finite (or inf when allowed) and >= 0."""
    number = _check_real(name, value)
    if number < 0 or (math.isinf(number) and not allow_inf):
        raise ConfigurationError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def check_fraction(name: str, value: object) -> float:
    """Return *value* as a float if it lies in (0, 1]."""
    number = _check_real(name, value)
    if not 0 < number <= 1:
        raise ConfigurationError(f"{name} must be in (0, 1], got {value!r}")
    return number


def check_instance(name: str, value: object, kind: type[T]) -> T:
    """Return *value* if it is a *kind*, else raise `TypeError` naming *name*."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")
    return value
