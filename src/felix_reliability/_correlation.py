"""Correlation context: a request id and fields that follow the work.

The context lives in one `contextvars.ContextVar`, so it follows asyncio tasks
and is isolated between them. Its value is an immutable pair (request id,
fields); binding makes a new pair and never mutates the outer one.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType, TracebackType
from typing import Any, Final, ParamSpec, TypeVar, cast

__all__ = [
    "bind_context",
    "current_request_id",
    "get_context",
    "new_request_id",
    "propagate",
    "sanitize_request_id",
]

P = ParamSpec("P")
R = TypeVar("R")

_EMPTY_FIELDS: Final[Mapping[str, object]] = MappingProxyType({})
_State = tuple[str | None, Mapping[str, object]]
_EMPTY: Final[_State] = (None, _EMPTY_FIELDS)
_STATE: ContextVar[_State] = ContextVar("felix_reliability_context", default=_EMPTY)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    """Return a fresh request id: 32 lowercase hex characters from `os.urandom`.

    >>> len(new_request_id())
    32

    .. versionadded:: 0.1.0
    """
    return os.urandom(16).hex()


def sanitize_request_id(value: object) -> str | None:
    """Return *value* if it is a safe request id, else `None`.

    A safe id is a `str` of 1 to 128 characters from ``[A-Za-z0-9._:-]``:
    nothing that could forge a log field, split a line or smuggle a header.

    >>> sanitize_request_id("a1b2-c3"), sanitize_request_id("bad id")
    ('a1b2-c3', None)

    .. versionadded:: 0.1.0
    """
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    """Return the request id bound in the current context, or `None`.

    .. versionadded:: 0.1.0
    """
    return _STATE.get()[0]


def get_context() -> dict[str, object]:
    """Return a new dict of the current context: ``requestId`` (when bound) and the fields.

    .. versionadded:: 0.1.0
    """
    request_id, fields = _STATE.get()
    if request_id is None:
        return dict(fields)
    return {"requestId": request_id, **fields}


def context_state() -> tuple[str | None, Mapping[str, object]]:
    """Return the current (request id, fields) pair without copying (for formatters)."""
    return _STATE.get()


class bind_context:  # noqa: N801 - used as a function, like contextlib's helpers
    """Bind a request id and fields for the duration of a block or a call.

    Use it as a context manager or as a decorator (sync and async functions;
    each call binds afresh). Bindings nest: inner fields are added to the
    outer ones, and the outer context is restored on exit, even when the
    body raises. When no request id is bound yet and none is given, a new
    one is created.

    Args:
        request_id: The request id to bind; it must pass
            `sanitize_request_id`. Default: keep the outer one, or create one.
        **fields: Values to show on every log line in the block, such as
            ``orderId=123``.

    Raises:
        ValueError: If *request_id* is not a safe request id.

    >>> with bind_context(request_id="a1b2c3d4", orderId=123):
    ...     get_context()
    {'requestId': 'a1b2c3d4', 'orderId': 123}

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_fields", "_outer_tokens", "_request_id", "_token")

    def __init__(self, *, request_id: str | None = None, **fields: object) -> None:
        if request_id is not None and sanitize_request_id(request_id) is None:
            raise ValueError(
                "request_id must be 1-128 characters of [A-Za-z0-9._:-], "
                f"got a {type(request_id).__name__} of length {len(str(request_id))}"
            )
        self._request_id = request_id
        self._fields = fields
        self._token: Token[_State] | None = None
        # Tokens of outer entries when the same instance is entered again while active.
        self._outer_tokens: list[Token[_State]] | None = None

    def __enter__(self) -> None:
        outer_id, fields = _STATE.get()
        if not fields:
            fields = self._fields
        elif self._fields:
            fields = {**fields, **self._fields}
        token = _STATE.set((self._request_id or outer_id or new_request_id(), fields))
        if self._token is not None:
            if self._outer_tokens is None:
                self._outer_tokens = []
            self._outer_tokens.append(self._token)
        self._token = token

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token = self._token
        if token is None:
            raise RuntimeError("bind_context exited more often than it was entered")
        _STATE.reset(token)
        self._token = self._outer_tokens.pop() if self._outer_tokens else None

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate *fn* so that each call runs inside a fresh binding."""
        request_id, fields = self._request_id, self._fields
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with bind_context(request_id=request_id, **fields):
                    return await fn(*args, **kwargs)

            return cast("Callable[P, R]", async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with bind_context(request_id=request_id, **fields):
                return fn(*args, **kwargs)

        return wrapper


def propagate(fn: Callable[P, R]) -> Callable[P, R]:
    """Capture the caller's context now and run each call of *fn* in a fresh copy of it.

    Use it to hand work to a thread pool: the worker sees the request id and
    fields of the code that submitted it, and concurrent runs never share
    changes.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with bind_context(request_id="r1"), ThreadPoolExecutor(2) as pool:
    ...     pool.submit(propagate(current_request_id)).result()
    'r1'

    .. versionadded:: 0.1.0
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_captured_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(fn, *args, **kwargs)

    return run_in_captured_context
