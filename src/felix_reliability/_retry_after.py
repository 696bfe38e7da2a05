"""Reading server-provided delays: ``retry_after`` attributes and ``Retry-After`` headers.

Servers say how long to wait in three shapes: an exception (or result) with a
``retry_after`` attribute in seconds or as a `timedelta` (python-telegram-bot's
``RetryAfter``, aiogram's ``TelegramRetryAfter``, our `CircuitOpenError`), an
HTTP ``Retry-After`` header with delta-seconds, or one with an HTTP-date. Every
reader here is total: a hostile value gives `None` ("unusable"), never an
exception, a negative, NaN or infinite number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["MAX_SERVER_DELAY", "parse_retry_after", "server_delay"]

# Longer delays are clamped to this (about 31,700 years): a finite number that is
# above any sensible `max_retry_after`, so the policy gives up instead of sleeping.
MAX_SERVER_DELAY = 1e12

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# Header values longer than this are not HTTP-dates or sane delays; a long digit
# string is still read (and clamped) without converting it to an int.
_MAX_TEXT = 64


def _from_number(value: float) -> float | None:
    if value != value or value < 0:  # noqa: PLR0124 - NaN is the only value unequal to itself
        return None
    if value >= MAX_SERVER_DELAY:  # also an int too large for a float
        return MAX_SERVER_DELAY
    return float(value)


def _from_text(text: str, now: datetime | None) -> float | None:
    text = text.strip()
    if _DELTA_SECONDS.fullmatch(text):
        whole = text.partition(".")[0].lstrip("0")
        if len(whole) > len(str(int(MAX_SERVER_DELAY))):
            return MAX_SERVER_DELAY
        return _from_number(float(text))
    if len(text) > _MAX_TEXT:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" dates: RFC 5322 says UTC with no source zone
        when = when.replace(tzinfo=UTC)
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        seconds = (when - now).total_seconds()
    except OverflowError:  # pragma: no cover - datetime differences of year 1..9999 fit
        return None
    return min(max(seconds, 0.0), MAX_SERVER_DELAY)


def parse_retry_after(value: object, *, now: datetime | None = None) -> float | None:
    """Read a server's "retry after" value as seconds.

    Accepts the two forms of the HTTP ``Retry-After`` header, delta-seconds
    (``"120"``; a decimal fraction is tolerated) and an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``), as text or bytes, and the forms
    Python clients carry: seconds as `int`/`float`, or a `timedelta`.

    Args:
        value: The value to read: text, bytes, a number or a `timedelta`.
        now: The current time for HTTP-dates, an aware `datetime` (a naive one
            is taken as UTC). Default: the current time.

    Returns:
        Seconds as a finite float >= 0 (a date in the past gives ``0.0``;
        absurdly long delays are clamped to about 31,700 years), or `None`
        when the value is unusable: negative, NaN, malformed or of another
        type. It never raises.

    >>> parse_retry_after("120")
    120.0
    >>> from datetime import datetime, UTC
    >>> parse_retry_after(
    ...     "Wed, 21 Oct 2015 07:28:00 GMT", now=datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    ... )
    30.0
    >>> parse_retry_after("soon") is None
    True

    .. versionadded:: 0.1.0
    """
    if isinstance(value, int | float):
        return None if isinstance(value, bool) else _from_number(value)
    if isinstance(value, timedelta):
        return _from_number(value.total_seconds())
    if isinstance(value, bytes):
        if len(value) > _MAX_TEXT:
            return None
        value = value.decode("latin-1")
    if isinstance(value, str):
        return _from_text(value, now)
    return None  # None or a value of another type: unusable


def _header(headers: object) -> object:
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter("Retry-After")
    if value is None:
        value = getter("retry-after")  # plain dicts are case-sensitive
    return value


def server_delay(outcome: object, wall: Callable[[], float]) -> float | None:
    """Return the delay the server asked for in *outcome*, or `None`.

    *outcome* is an exception or a result. A ``retry_after`` attribute wins;
    then a ``Retry-After`` header of ``outcome.response.headers`` (httpx's
    ``HTTPStatusError``, requests' ``HTTPError``) or of ``outcome.headers``
    (a response returned as a result). *wall* (returning epoch seconds) anchors
    HTTP-dates; it is called only for one. Attribute access that raises counts as "no delay".
    """
    try:
        value = getattr(outcome, "retry_after", None)
        if value is None:
            response = getattr(outcome, "response", None)
            headers = getattr(response if response is not None else outcome, "headers", None)
            if headers is None:
                return None
            value = _header(headers)
            if value is None:
                return None
    except Exception:  # noqa: BLE001 - a hostile property must not break the retry loop
        return None
    if isinstance(value, int | float | timedelta):
        return parse_retry_after(value)
    return parse_retry_after(value, now=datetime.fromtimestamp(wall(), UTC))
