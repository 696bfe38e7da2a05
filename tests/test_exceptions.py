"""The exception tree and its messages."""

from __future__ import annotations

import pickle

import pytest

from felix_reliability import exceptions
from felix_reliability.exceptions import (
    CircuitOpenError,
    ConfigurationError,
    DeadLetterStoreError,
    FelixReliabilityError,
)


@pytest.mark.parametrize("cls", [CircuitOpenError, ConfigurationError, DeadLetterStoreError])
def test_every_exception_derives_from_the_base(cls: type[Exception]) -> None:
    """One except clause catches every library exception."""
    assert issubclass(cls, FelixReliabilityError)


def test_configuration_error_is_a_value_error() -> None:
    """Code expecting ValueError for bad configuration keeps working."""
    assert issubclass(ConfigurationError, ValueError)


def test_circuit_open_error_carries_name_and_delay() -> None:
    """CircuitOpenError exposes the breaker's name and the delay in its message."""
    error = CircuitOpenError("telegram", 12.5)
    assert (error.breaker_name, error.retry_after) == ("telegram", 12.5)
    assert str(error) == "circuit 'telegram' is open: retry after 12.500 s"


def test_circuit_open_error_without_schedule() -> None:
    """A forced-open breaker has no probe scheduled."""
    error = CircuitOpenError("telegram", None)
    assert error.retry_after is None
    assert str(error) == "circuit 'telegram' is open: no probe is scheduled"


def test_circuit_open_error_survives_a_process_boundary() -> None:
    """Executors pickle exceptions between processes; the fields survive."""
    error = pickle.loads(pickle.dumps(CircuitOpenError("b", 1.0)))  # noqa: S301 - our own bytes
    assert (error.breaker_name, error.retry_after) == ("b", 1.0)


def test_the_docstring_draws_every_exception() -> None:
    """The module docstring's tree names every exception in __all__."""
    doc = exceptions.__doc__ or ""
    missing = [name for name in exceptions.__all__ if name not in doc]
    assert missing == []
