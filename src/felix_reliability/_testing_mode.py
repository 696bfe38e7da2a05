"""Switches that make retry policies skip their waits in users' test suites.

`instant_retries()` is scoped with a context variable (it follows asyncio tasks
and `propagate`); `set_testing()` is process-wide, for threads started
elsewhere. Policies read them only after a failure, never on the success path.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["instant_retries", "set_testing", "waits_disabled"]

_instant: ContextVar[bool] = ContextVar("felix_reliability_instant_retries", default=False)
_process_wide = [False]  # a list, so that set_testing needs no `global` statement


def waits_disabled() -> bool:
    """Return whether retry waits are skipped here and now."""
    return _process_wide[0] or _instant.get()


@contextmanager
def instant_retries() -> Generator[None]:
    """Make every retry policy skip its waits inside the ``with`` block.

    The switch lives in a context variable, so it covers the current thread
    or task and the tasks it starts, and nothing else. Policies still count
    attempts, call ``on_retry`` and record the waits they would have made in
    `RetryState.waits`; they only skip the sleep.

    >>> policy = RetryPolicy(on=(ConnectionError,), attempts=3)
    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ConnectionError("refused")
    ...     return "ok"
    >>> with instant_retries():
    ...     policy.call(flaky)
    'ok'

    .. versionadded:: 0.1.0
    """
    token = _instant.set(True)
    try:
        yield
    finally:
        _instant.reset(token)


def set_testing(enabled: bool) -> None:
    """Make every retry policy in the process skip its waits (or stop doing so).

    Use it in a test suite's setup when the code under test runs in threads
    or tasks that `instant_retries` cannot reach.

    Args:
        enabled: ``True`` to skip waits everywhere, ``False`` to wait again.

    Raises:
        TypeError: If *enabled* is not a bool.

    .. versionadded:: 0.1.0
    """
    if not isinstance(enabled, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"enabled must be a bool, got {type(enabled).__name__} {enabled!r}")
    _process_wide[0] = enabled
