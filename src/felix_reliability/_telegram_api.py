"""Talking to the Telegram Bot API over httpx: envelopes, errors, classification, log redaction.

The notifier builds on these pieces. Nothing here ever lets the bot token
out: exceptions carry no URL and no httpx cause, and httpx's own log
records are rewritten through `redact`.

The errors::

    Exception
     └── TelegramError                 a Bot API call failed
          ├── TelegramAPIError         an answer came, and it was an error
          ├── TelegramNetworkError     no usable answer: connect, write, read or timeout
          └── TelegramPacingError      client-side pacing would wait past the deadline

`breaker_outcome` returns plain strings (``"success"``, ``"failure"``,
``"ignored"``); the notifier maps them to the breaker's ``Outcome``.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping
from typing import Final, Literal, cast

import httpx

from felix_reliability._secrets import MASK, Secret, redact
from felix_reliability.exceptions import ConfigurationError

__all__ = [
    "HTTPX_LOGGERS",
    "BreakerOutcome",
    "NetworkErrorKind",
    "TelegramAPIError",
    "TelegramError",
    "TelegramNetworkError",
    "TelegramPacingError",
    "breaker_outcome",
    "call_api",
    "call_api_async",
    "install_httpx_log_redaction",
    "is_retryable",
    "network_error",
    "parse_response",
    "parse_seconds",
]

BreakerOutcome = Literal["success", "failure", "ignored"]
NetworkErrorKind = Literal["connect", "write", "read_timeout", "read"]

HTTPX_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_TOO_MANY_REQUESTS: Final = 429
_NOT_JSON: Final = object()
_UNAUTHORIZED: Final = 401
_NETWORK_DESCRIPTIONS: Final[Mapping[NetworkErrorKind, str]] = {
    "connect": "could not connect to the Bot API (nothing was sent)",
    "write": "the request could not be sent completely (nothing was delivered)",
    "read_timeout": "timed out waiting for the answer (the message may have been delivered)",
    "read": "the connection broke before the answer (the message may have been delivered)",
}


class TelegramError(Exception):
    """A Bot API call failed; the message never contains the token or the URL."""


class TelegramAPIError(TelegramError):
    """The Bot API (or a proxy in front of it) answered with an error.

    Attributes:
        error_code: The envelope's ``error_code``, else the HTTP status.
        status_code: The HTTP status of the answer.
        description: The envelope's ``description`` (redacted), or what was wrong.
        retry_after: ``parameters.retry_after`` in seconds, when valid.
        migrate_to_chat_id: ``parameters.migrate_to_chat_id``, when present.
        envelope: Whether the body was a Bot API ``{"ok": false, ...}`` envelope.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        status_code: int,
        retry_after: float | None = None,
        migrate_to_chat_id: int | None = None,
        envelope: bool = True,
    ) -> None:
        self.error_code = error_code
        self.status_code = status_code
        self.description = redact(description)
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id
        self.envelope = envelope
        super().__init__(f"Telegram error {error_code}: {self.description}")

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (
                self.error_code,
                self.description,
                self.status_code,
                self.retry_after,
                self.migrate_to_chat_id,
                self.envelope,
            ),
        )


def _rebuild_api_error(  # noqa: PLR0917 - pickle passes the fields positionally
    error_code: int,
    description: str,
    status_code: int,
    retry_after: float | None,
    migrate_to_chat_id: int | None,
    envelope: bool,
) -> TelegramAPIError:
    return TelegramAPIError(
        error_code,
        description,
        status_code=status_code,
        retry_after=retry_after,
        migrate_to_chat_id=migrate_to_chat_id,
        envelope=envelope,
    )


class TelegramNetworkError(TelegramError):
    """No usable answer came: the connection, the write or the read failed or timed out.

    Attributes:
        kind: ``"connect"`` and ``"write"``: nothing was delivered;
            ``"read_timeout"`` and ``"read"``: the message may have been delivered.
        error_type: The name of the httpx exception class (the cause itself is
            not kept: it carries the request URL, hence the token).
    """

    def __init__(self, kind: NetworkErrorKind, error_type: str) -> None:
        self.kind: NetworkErrorKind = kind
        self.error_type = error_type
        super().__init__(f"Telegram request failed: {_NETWORK_DESCRIPTIONS[kind]} ({error_type})")

    @property
    def is_timeout(self) -> bool:
        """Whether the failure was a timeout (``read_timeout``, or a connect/write one)."""
        return self.kind == "read_timeout" or self.error_type.endswith("Timeout")

    @property
    def may_have_been_delivered(self) -> bool:
        """Whether Telegram may have processed the request (reads failed after a full send)."""
        return self.kind in {"read_timeout", "read"}

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.kind, self.error_type))


class TelegramPacingError(TelegramError):
    """Client-side pacing would make the send wait past its deadline; nothing was sent.

    It carries the wait as ``retry_after``, so a `RetryPolicy` gives up with
    ``deadline_exceeded`` (or ``retry_after_too_long`` when the wait is above
    its ``max_retry_after``) instead of sleeping; the breaker ignores it.

    Attributes:
        chat_id: The chat the message was for.
        retry_after: Seconds until pacing would let the message go.
        time_left: Seconds the send had left before its deadline.
    """

    def __init__(self, chat_id: int | str, retry_after: float, time_left: float) -> None:
        self.chat_id = chat_id
        self.retry_after = retry_after
        self.time_left = time_left
        super().__init__(
            f"client-side pacing: chat {chat_id} may send in {retry_after:.3g} s, "
            f"past the send's deadline ({max(time_left, 0.0):.3g} s left); nothing was sent"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.chat_id, self.retry_after, self.time_left))


def _network_kind(exc: httpx.RequestError) -> NetworkErrorKind:
    if isinstance(exc, httpx.ReadTimeout):
        return "read_timeout"
    if isinstance(exc, httpx.WriteError | httpx.WriteTimeout):
        return "write"
    if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError | httpx.DecodingError):
        return "read"
    # ConnectError, ConnectTimeout, PoolTimeout, ProxyError, UnsupportedProtocol,
    # LocalProtocolError: the request never reached Telegram.
    return "connect"


def network_error(exc: httpx.RequestError) -> TelegramNetworkError:
    """Return the token-free `TelegramNetworkError` for an httpx request error."""
    return TelegramNetworkError(_network_kind(exc), type(exc).__name__)


def parse_seconds(value: object) -> float | None:
    """Return *value* as a finite number of seconds >= 0, or `None` when it is not one.

    Numbers and numeric strings are accepted; booleans, NaN, infinities,
    negatives and anything else give `None`. Nothing is clamped: a huge but
    finite value is returned as is, for the caller's own cap.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _parse_chat_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def parse_response(response: httpx.Response) -> dict[str, object]:
    """Return the ``result`` object of a Bot API answer, or raise its error.

    The envelope is read before the status code: ``{"ok": true}`` is a
    success and ``{"ok": false, ...}`` an error whatever the status says.
    A body that is not an envelope (an HTML page from a proxy, broken JSON)
    raises a `TelegramAPIError` with the HTTP status as ``error_code`` and
    ``envelope=False``.

    Raises:
        TelegramAPIError: The answer is an error or not a Bot API envelope.
    """
    status = response.status_code
    body: object = None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = _NOT_JSON
    if body is _NOT_JSON:
        # Raised outside the except block: a JSONDecodeError context adds nothing.
        content_type = response.headers.get("content-type", "no content type")
        raise TelegramAPIError(
            status,
            f"HTTP {status} with a body that is not JSON ({content_type})",
            status_code=status,
            envelope=False,
        )
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):  # pyright: ignore[reportUnknownMemberType] - JSON
        raise TelegramAPIError(
            status,
            f"HTTP {status} with JSON that is not a Bot API envelope",
            status_code=status,
            envelope=False,
        )
    envelope = cast("dict[str, object]", body)
    if envelope["ok"]:
        result = envelope.get("result")
        if not isinstance(result, dict):
            raise TelegramAPIError(
                status,
                f"HTTP {status}: ok without a result object",
                status_code=status,
                envelope=False,
            )
        return cast("dict[str, object]", result)
    raw_code = envelope.get("error_code")
    error_code = (
        raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else status
    )
    raw_description = envelope.get("description")
    description = raw_description if isinstance(raw_description, str) else "no description"
    raw_parameters = envelope.get("parameters")
    parameters = (
        cast("dict[str, object]", raw_parameters) if isinstance(raw_parameters, dict) else {}
    )
    raise TelegramAPIError(
        error_code,
        description,
        status_code=status,
        retry_after=parse_seconds(parameters.get("retry_after")),
        migrate_to_chat_id=_parse_chat_id(parameters.get("migrate_to_chat_id")),
    )


def _api_url(base_url: str, token: Secret | str, method: str) -> str:
    value = token.reveal() if isinstance(token, Secret) else token
    return f"{base_url.rstrip('/')}/bot{value}/{method}"


def _invalid_url() -> ConfigurationError:
    return ConfigurationError(f"base_url does not make a valid URL with the token ({MASK})")


def call_api(
    client: httpx.Client,
    *,
    base_url: str,
    token: Secret | str,
    method: str,
    params: Mapping[str, object],
    timeout: float | None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """POST *params* as JSON to ``{base_url}/bot<token>/{method}`` and return the result.

    Raises:
        TelegramAPIError: Telegram answered with an error.
        TelegramNetworkError: No usable answer (the httpx cause is dropped: it holds the URL).
        ConfigurationError: *base_url* does not make a valid URL.
    """
    failure: TelegramNetworkError | ConfigurationError
    try:
        response = client.post(
            _api_url(base_url, token, method), json=dict(params), timeout=timeout, headers=headers
        )
    except httpx.RequestError as exc:
        failure = network_error(exc)
    except (httpx.InvalidURL, UnicodeError):
        failure = _invalid_url()
    else:
        return parse_response(response)
    # Raised outside the except block, so no __context__ links to httpx's exception.
    raise failure


async def call_api_async(
    client: httpx.AsyncClient,
    *,
    base_url: str,
    token: Secret | str,
    method: str,
    params: Mapping[str, object],
    timeout: float | None,  # noqa: ASYNC109 - httpx's per-attempt timeout, bounded by the caller
    headers: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Like `call_api`, with an `httpx.AsyncClient`."""
    failure: TelegramNetworkError | ConfigurationError
    try:
        response = await client.post(
            _api_url(base_url, token, method), json=dict(params), timeout=timeout, headers=headers
        )
    except httpx.RequestError as exc:
        failure = network_error(exc)
    except (httpx.InvalidURL, UnicodeError):
        failure = _invalid_url()
    else:
        return parse_response(response)
    raise failure


def _as_network_error(exc: BaseException) -> TelegramNetworkError | None:
    if isinstance(exc, TelegramNetworkError):
        return exc
    if isinstance(exc, httpx.RequestError):
        return network_error(exc)
    return None


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Return whether another attempt may deliver what failed with *exc*.

    429 (after ``retry_after``), 5xx, connect and write failures retry; 401
    and other 4xx are permanent. When the message may already have been
    delivered (a read timeout, a connection broken before the answer, or a
    malformed answer that is not an error status) it retries only for an
    *idempotent* send. A `TelegramPacingError` retries after its wait (the
    policy's deadline check then ends the call). Other exceptions are not retried.
    """
    if isinstance(exc, TelegramPacingError):
        return True
    if isinstance(exc, TelegramAPIError):
        code = exc.error_code
        if code == _TOO_MANY_REQUESTS or code >= 500:  # noqa: PLR2004 - server errors
            return True
        if 400 <= code < 500:  # noqa: PLR2004 - client errors
            return False
        return idempotent
    network = _as_network_error(exc)
    if network is None:
        return False
    return idempotent or not network.may_have_been_delivered


def breaker_outcome(exc: BaseException) -> BreakerOutcome:
    """Return what *exc* means for the circuit breaker.

    5xx, 401, malformed answers, network errors and timeouts are
    ``"failure"``; 429 and `TelegramPacingError` (nothing was sent) are
    ``"ignored"``; other 4xx are ``"success"`` (Telegram answered: a user who
    blocked the bot must not open the circuit for everyone). Other exceptions
    are ``"failure"``.
    """
    if isinstance(exc, TelegramPacingError):
        return "ignored"
    if isinstance(exc, TelegramAPIError):
        code = exc.error_code
        if code == _TOO_MANY_REQUESTS:
            return "ignored"
        if 400 <= code < 500 and code != _UNAUTHORIZED:  # noqa: PLR2004 - client errors
            return "success"
    return "failure"


class _RedactingFilter(logging.Filter):
    """Rewrite a record's message through `redact` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


_install_lock = threading.Lock()
_FILTER: Final = _RedactingFilter()


def install_httpx_log_redaction() -> None:
    """Redact the bot token in every record of httpx's and httpcore's loggers. Idempotent.

    httpx logs each request URL (with ``/bot<token>/``) at INFO. A filter
    on those loggers rewrites records before any handler sees them, so this
    works even when the application never configured logging.
    """
    with _install_lock:
        for name in HTTPX_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
