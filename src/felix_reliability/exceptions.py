"""The exceptions felix-reliability raises.

Every exception of the library derives from `FelixReliabilityError`, so one
``except`` clause catches them all. The caller's own exceptions are never
wrapped: a retry that gives up, or a Guard that dead-letters a call, re-raises
the original exception with a note attached (PEP 678).

The tree::

    Exception
     └── FelixReliabilityError
          ├── CircuitOpenError          a breaker rejected the call
          ├── ConfigurationError        (also ValueError) bad configuration
          └── DeadLetterStoreError      a dead-letter store cannot be opened or used

.. versionadded:: 0.1.0
"""

from __future__ import annotations

__all__ = [
    "CircuitOpenError",
    "ConfigurationError",
    "DeadLetterStoreError",
    "FelixReliabilityError",
]


class FelixReliabilityError(Exception):
    """Base class of every exception raised by felix-reliability.

    .. versionadded:: 0.1.0
    """


class CircuitOpenError(FelixReliabilityError):
    """A circuit breaker rejected the call without running it.

    Args:
        breaker_name: The name of the breaker that rejected the call.
        retry_after: Seconds until the breaker admits a probe, or `None`
            when no probe is scheduled (the breaker was forced open).

    Retry policies never retry this exception: retrying into an open circuit
    is the storm the breaker exists to stop.

    .. versionadded:: 0.1.0
    """

    def __init__(self, breaker_name: str, retry_after: float | None) -> None:
        # No super().__init__: BaseException.__new__ already stored the args, and
        # the message is built only when read. A rejection is on a hot path.
        self.breaker_name = breaker_name
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.retry_after is None:
            detail = "no probe is scheduled"
        else:
            detail = f"retry after {self.retry_after:.3f} s"
        return f"circuit {self.breaker_name!r} is open: {detail}"

    def __reduce__(self) -> tuple[type[CircuitOpenError], tuple[str, float | None]]:
        return (type(self), (self.breaker_name, self.retry_after))


class ConfigurationError(FelixReliabilityError, ValueError):
    """A configuration value is invalid; the message names the parameter.

    It is also a `ValueError`, so code that expects the built-in error for a
    bad value keeps working.

    .. versionadded:: 0.1.0
    """


class DeadLetterStoreError(FelixReliabilityError):
    """A dead-letter store could not be opened or could not complete an operation.

    .. versionadded:: 0.1.0
    """
