"""Send Telegram messages that are retried, rate-aware, dead-lettered and never leak the token.

`TelegramNotifier` (httpx.Client) and `AsyncTelegramNotifier`
(httpx.AsyncClient) send ``sendMessage`` through a `Guard` with the
felix_hub defaults: a breaker that opens after 10 consecutive failures for
120 s and closes after 3 good probes; 4 attempts waiting 1, 2 and 4 s;
Telegram's ``retry_after`` honored up to 20 s; 30 s for the whole send, each
attempt's HTTP timeout bounded by the time left. With ``pacing=TelegramPacing()``
the notifier also keeps Telegram's rate limits itself (1 message per second
per chat, 30 per second in all), within each send's deadline.

How Telegram's answers are treated:

====================================  ============  ==================
answer                                retried       for the breaker
====================================  ============  ==================
429 Too Many Requests                 after its     ignored
                                      retry_after
5xx, connect errors                   yes           failure
read timeout, connection reset        only if       failure
after sending                         idempotent
401 Unauthorized (bad token)          no            failure
400, 403, 404 and other 4xx           no            success
====================================  ============  ==================

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Final, Self, cast

import attrs
import httpx

from felix_reliability._backoff import Backoff
from felix_reliability._breaker import BreakerListener, CircuitBreaker, Outcome
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._correlation import bind_context
from felix_reliability._dead_letters import DeadLetter, DeadLetterSink
from felix_reliability._guard import Guard
from felix_reliability._metrics import MetricsCollector
from felix_reliability._pacing import Pacer, TelegramPacing
from felix_reliability._retry import RetryPolicy
from felix_reliability._secrets import Secret, redact
from felix_reliability._telegram_api import (
    TelegramAPIError,
    breaker_outcome,
    call_api,
    call_api_async,
    install_httpx_log_redaction,
    is_retryable,
)
from felix_reliability._validation import check_instance, check_positive_float

__all__ = [  # noqa: RUF022 - plain sorted order, which the exported-members test checks
    "AsyncTelegramNotifier",
    "Delivery",
    "MAX_MESSAGE_LENGTH",
    "OPERATION",
    "TelegramNotifier",
    "TelegramPacing",
    "telegram_guard",
]

#: Telegram refuses longer texts; the notifier refuses them before sending.
MAX_MESSAGE_LENGTH: Final = 4096
#: The Guard's operation name: the ``operation`` label of ``felix_calls``.
OPERATION: Final = "telegram.send_message"

_LOGGER: Final = logging.getLogger("felix_reliability.telegram")
_UNAUTHORIZED: Final = 401
_TOO_MANY_REQUESTS: Final = 429
_DEAD_LETTERED: Final = "dead-lettered as "
_IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
# Whether the send in progress may be repeated safely; read by the retry predicate.
_IDEMPOTENT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "felix_telegram_idempotent", default=False
)


@attrs.frozen
class Delivery:
    """What became of one `send_message`.

    Attributes:
        ok: Whether Telegram accepted the message.
        message_id: Telegram's id of the sent message, when *ok*.
        attempts: HTTP requests made (a followed chat migration counts).
        dead_letter_id: The dead letter written when the send failed for
            good, else `None`.
        error: What went wrong (never holding the token), else `None`.
        chat_id: The chat the message went to: the new id when Telegram
            reported that the group migrated to a supergroup.

    .. versionadded:: 0.1.0
    """

    ok: bool
    message_id: int | None
    attempts: int
    dead_letter_id: str | None
    error: str | None
    chat_id: int | str


def _telegram_retryable(exc: BaseException) -> bool:
    return is_retryable(exc, idempotent=_IDEMPOTENT.get())


def _telegram_outcome(exc: BaseException) -> Outcome:
    return Outcome(breaker_outcome(exc))


def telegram_guard(
    *,
    dead_letters: DeadLetterSink | None = None,
    metrics: MetricsCollector | None = None,
    write_ahead: bool = False,
    breaker: CircuitBreaker | None = None,
    listeners: Iterable[BreakerListener] = (),
    clock: Clock | None = None,
) -> Guard:
    """Return a `Guard` with the felix_hub defaults for Telegram sends.

    The breaker (``"telegram"``: 10 failures, 120 s open, 3 probes) counts
    5xx, 401 and network errors as failures, ignores 429 and counts other
    4xx as successes. The policy makes 4 attempts with waits of 1, 2 and 4 s,
    honors ``retry_after`` up to 20 s and gives each send 30 s.

    Args:
        dead_letters: Where failed sends go (a store for *write_ahead*).
        metrics: Where the catalogue's metrics go.
        write_ahead: Write a ``pending`` letter before each send.
        breaker: A breaker to use instead of the default one (for example one
            with a shared Redis store); it should classify with the rules above.
        listeners: Listeners for the default breaker's events (to draw a
            timeline of its state, say).
        clock: For tests: a `FakeClock`.

    .. versionadded:: 0.1.0
    """
    clock = SystemClock() if clock is None else clock
    if breaker is None:
        breaker = CircuitBreaker(
            name="telegram",
            failure_threshold=10,
            recovery_timeout=120.0,
            success_threshold=3,
            classify=_telegram_outcome,
            clock=clock,
            metrics=metrics,
            listeners=tuple(listeners),
        )
    policy = RetryPolicy(
        on=_telegram_retryable,
        attempts=4,
        backoff=Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None),
        deadline=30.0,
        max_retry_after=20.0,
        name=OPERATION,
        clock=clock,
        metrics=metrics,
    )
    return Guard(
        name=OPERATION,
        retry=policy,
        breaker=breaker,
        dead_letters=dead_letters,
        metrics=metrics,
        payload=_payload,
        write_ahead=write_ahead,
        clock=clock,
    )


def _payload(request: _Request, *_deadline: object) -> dict[str, object]:
    """Return what a replay needs: the message, its parameters and its idempotency key."""
    return request.to_payload()


@attrs.define
class _Request:
    """One logical send; the Guard's attempts share it (per send, never shared)."""

    chat_id: int | str
    text: str
    params: dict[str, object]
    key: str
    order_id: object = None
    attempts: int = 0
    migrated: bool = False

    def body(self) -> dict[str, object]:
        return {**self.params, "chat_id": self.chat_id, "text": self.text}

    def to_payload(self) -> dict[str, object]:
        return {
            "chat_id": self.chat_id,
            "text": self.text,
            "params": self.params,
            "idempotency_key": self.key,
            "order_id": self.order_id,
        }

    def follow(self, exc: TelegramAPIError) -> bool:
        """Switch to the migrated chat once; return whether to send again."""
        if exc.migrate_to_chat_id is None or self.migrated:
            return False
        _LOGGER.warning(
            "Telegram chat migrated to a supergroup; resending to the new chat id %s",
            exc.migrate_to_chat_id,
        )
        self.chat_id, self.migrated = exc.migrate_to_chat_id, True
        return True


def _order_context(order_id: object) -> AbstractContextManager[None]:
    """Bind ``orderId`` for one send, when there is one."""
    if order_id is None:
        return contextlib.nullcontext()
    return bind_context(orderId=order_id)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValueError(
            f"text must be at most {MAX_MESSAGE_LENGTH} characters, got {len(text)}: "
            "split the message before sending"
        )
    return text


def _mapping(value: object) -> Mapping[str, object]:
    return cast("Mapping[str, object]", value) if isinstance(value, Mapping) else {}


def _request_from_letter(letter: DeadLetter) -> _Request:
    payload = _mapping(letter.payload)
    chat_id = payload.get("chat_id")
    if not isinstance(chat_id, int | str) or "text" not in payload:
        raise ValueError(f"dead letter {letter.id} does not hold a Telegram message")
    params = _mapping(payload.get("params"))
    return _Request(
        chat_id=chat_id,
        text=str(payload["text"]),
        params=dict(params),
        key=str(payload.get("idempotency_key") or letter.id),
        order_id=payload.get("order_id"),
    )


def _failed_delivery(request: _Request, exc: Exception) -> Delivery:
    letter_id = next(
        (
            note.removeprefix(_DEAD_LETTERED)
            for note in getattr(exc, "__notes__", ())
            if note.startswith(_DEAD_LETTERED)
        ),
        None,
    )
    if isinstance(exc, TelegramAPIError) and exc.error_code == _UNAUTHORIZED:
        _LOGGER.critical("Telegram rejected the bot token (401 Unauthorized): check the token")
    return Delivery(
        ok=False,
        message_id=None,
        attempts=request.attempts,
        dead_letter_id=letter_id,
        error=f"{type(exc).__name__}: {redact(str(exc))}",
        chat_id=request.chat_id,
    )


def _delivered(request: _Request, result: Mapping[str, object]) -> Delivery:
    message_id = result.get("message_id")
    return Delivery(
        ok=True,
        message_id=message_id if isinstance(message_id, int) else None,
        attempts=request.attempts,
        dead_letter_id=None,
        error=None,
        chat_id=request.chat_id,
    )


class _NotifierBase:
    """What the sync and async notifiers share: configuration and bookkeeping."""

    base_url: str
    guard: Guard
    timeout: float
    pacing: TelegramPacing | None
    _pacer: Pacer | None

    def _configure(
        self,
        token: Secret | str,
        *,
        base_url: str,
        guard: Guard | None,
        dead_letters: DeadLetterSink | None,
        metrics: MetricsCollector | None,
        write_ahead: bool,
        timeout: float,
        clock: Clock | None,
        pacing: TelegramPacing | None,
    ) -> None:
        given = cast("object", token)  # callers may be untyped
        if not isinstance(given, Secret | str):
            raise TypeError(f"token must be a Secret or a str, got {type(given).__name__}")
        self._token = given if isinstance(given, Secret) else Secret(given)
        url = cast("object", base_url)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = check_positive_float("timeout", timeout)
        self._clock = SystemClock() if clock is None else clock
        if guard is None:
            guard = telegram_guard(
                dead_letters=dead_letters, metrics=metrics, write_ahead=write_ahead, clock=clock
            )
        self.guard = check_instance("guard", guard, Guard)
        if pacing is None:
            self.pacing, self._pacer = None, None
        else:
            self.pacing = check_instance("pacing", pacing, TelegramPacing)
            self._pacer = Pacer(self.pacing, self._clock)
        install_httpx_log_redaction()

    @property
    def breaker(self) -> CircuitBreaker | None:
        """Return the Guard's breaker (register it in a `BreakerRegistry` for health)."""
        return self.guard.breaker

    def _attempt_timeout(self, deadline_at: float) -> float:
        """Bound one attempt's HTTP timeout by the time left for the whole send."""
        left = deadline_at - self._clock.monotonic()
        return max(0.001, min(self.timeout, left))

    def _deadline_at(self) -> float:
        retry = self.guard.retry
        total = retry.deadline if retry is not None and retry.deadline is not None else None
        return self._clock.monotonic() + (total if total is not None else self.timeout)

    def _paced(self, request: _Request, exc: TelegramAPIError) -> None:
        """Pause the request's chat after a 429 that says how long to wait."""
        if (
            self._pacer is not None
            and exc.error_code == _TOO_MANY_REQUESTS
            and exc.retry_after is not None
        ):
            self._pacer.pause(request.chat_id, exc.retry_after)

    def _headers(self, request: _Request) -> dict[str, str]:
        return {_IDEMPOTENCY_HEADER: request.key}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token={self._token!r})"


class TelegramNotifier(_NotifierBase):
    """Send Telegram messages through a `Guard`; no delivery failure raises.

    Args:
        token: The bot token (a `Secret`, or a str that becomes one).
        client: The `httpx.Client` to use (default: one owned by the notifier,
            closed by `close`).
        base_url: The Bot API's address; requests go to
            ``{base_url}/bot<token>/sendMessage``.
        guard: The Guard to send through (default: `telegram_guard` with
            *dead_letters*, *metrics*, *write_ahead* and *clock*).
        dead_letters: Where failed sends go, when *guard* is not given.
        metrics: Where metrics go, when *guard* is not given.
        write_ahead: Write a pending letter before each send (needs a store).
        timeout: The longest HTTP timeout of one attempt, in seconds.
        clock: For tests: a `FakeClock`.
        pacing: Client-side pacing shared by all sends of this notifier (a
            `TelegramPacing`), or `None` (the default) for none. Each HTTP
            request waits for its turn, within the send's deadline.

    >>> from felix_reliability.adapters.telegram import TelegramNotifier
    >>> with FakeTelegramServer() as server:
    ...     notifier = TelegramNotifier(server.token, base_url=server.base_url)
    ...     delivery = notifier.send_message(42, "Your order 123 is ready", order_id=123)
    ...     notifier.close()
    >>> delivery.ok, delivery.attempts
    (True, 1)

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        token: Secret | str,
        *,
        client: httpx.Client | None = None,
        base_url: str = "https://api.telegram.org",
        guard: Guard | None = None,
        dead_letters: DeadLetterSink | None = None,
        metrics: MetricsCollector | None = None,
        write_ahead: bool = False,
        timeout: float = 10.0,
        clock: Clock | None = None,
        pacing: TelegramPacing | None = None,
    ) -> None:
        self._configure(
            token,
            base_url=base_url,
            guard=guard,
            dead_letters=dead_letters,
            metrics=metrics,
            write_ahead=write_ahead,
            timeout=timeout,
            clock=clock,
            pacing=pacing,
        )
        self._owns_client = client is None
        self._client = httpx.Client() if client is None else client

    def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        order_id: object = None,
        idempotent: bool = False,
        **params: object,
    ) -> Delivery:
        """Send *text* to *chat_id*; return how it went instead of raising.

        Args:
            chat_id: The chat (or ``@channel``) to send to.
            text: At most 4096 characters.
            order_id: Bound as ``orderId`` in the correlation context for
                this send, so every log line and the dead letter carry it.
            idempotent: Whether a repeat is harmless, so that a read
                timeout (the message may have been sent) is retried too.
            **params: Other ``sendMessage`` parameters, such as ``parse_mode``.

        Raises:
            ValueError: If *text* is empty or longer than 4096 characters.
        """
        request = _Request(chat_id, _check_text(text), dict(params), uuid.uuid4().hex, order_id)
        return self._send(request, idempotent=idempotent)

    def resend(self, letter: DeadLetter) -> None:
        """Send a dead-lettered message again; raise if it fails (a replay handler).

        Use it with `replay_dead_letters`: the letter's idempotency key is
        sent again, so a receiver that honors it sees one message.
        """
        request = _request_from_letter(letter)
        delivery = self._send(request, idempotent=True)
        if not delivery.ok:
            raise RuntimeError(f"resending dead letter {letter.id} failed: {delivery.error}")

    def _send(self, request: _Request, *, idempotent: bool) -> Delivery:
        token = _IDEMPOTENT.set(idempotent)
        try:
            with _order_context(request.order_id):
                result = self.guard.call(self._attempt, request, self._deadline_at())
        except Exception as exc:  # noqa: BLE001 - delivery failures are returned, not raised
            return _failed_delivery(request, exc)
        finally:
            _IDEMPOTENT.reset(token)
        return _delivered(request, result)

    def _attempt(self, request: _Request, deadline_at: float) -> dict[str, object]:
        while True:
            if self._pacer is not None:
                self._pacer.acquire(request.chat_id, deadline_at)
            request.attempts += 1
            try:
                return call_api(
                    self._client,
                    base_url=self.base_url,
                    token=self._token,
                    method="sendMessage",
                    params=request.body(),
                    timeout=self._attempt_timeout(deadline_at),
                    headers=self._headers(request),
                )
            except TelegramAPIError as exc:
                self._paced(request, exc)
                if not request.follow(exc):
                    raise

    def close(self) -> None:
        """Close the HTTP client if the notifier created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncTelegramNotifier(_NotifierBase):
    """Like `TelegramNotifier`, with an `httpx.AsyncClient` and ``async`` sends.

    Dead letters are written synchronously (stores are sync); a SQLite put
    takes well under a millisecond.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        token: Secret | str,
        *,
        client: httpx.AsyncClient | None = None,
        base_url: str = "https://api.telegram.org",
        guard: Guard | None = None,
        dead_letters: DeadLetterSink | None = None,
        metrics: MetricsCollector | None = None,
        write_ahead: bool = False,
        timeout: float = 10.0,
        clock: Clock | None = None,
        pacing: TelegramPacing | None = None,
    ) -> None:
        self._configure(
            token,
            base_url=base_url,
            guard=guard,
            dead_letters=dead_letters,
            metrics=metrics,
            write_ahead=write_ahead,
            timeout=timeout,
            clock=clock,
            pacing=pacing,
        )
        self._owns_client = client is None
        self._client = httpx.AsyncClient() if client is None else client

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        order_id: object = None,
        idempotent: bool = False,
        **params: object,
    ) -> Delivery:
        """Send *text* to *chat_id*; see `TelegramNotifier.send_message`."""
        request = _Request(chat_id, _check_text(text), dict(params), uuid.uuid4().hex, order_id)
        return await self._send(request, idempotent=idempotent)

    async def resend(self, letter: DeadLetter) -> None:
        """Send a dead-lettered message again; raise if it fails."""
        request = _request_from_letter(letter)
        delivery = await self._send(request, idempotent=True)
        if not delivery.ok:
            raise RuntimeError(f"resending dead letter {letter.id} failed: {delivery.error}")

    async def _send(self, request: _Request, *, idempotent: bool) -> Delivery:
        token = _IDEMPOTENT.set(idempotent)
        try:
            with _order_context(request.order_id):
                result = await self.guard.call(self._attempt, request, self._deadline_at())
        except Exception as exc:  # noqa: BLE001 - delivery failures are returned, not raised
            return _failed_delivery(request, exc)
        finally:
            _IDEMPOTENT.reset(token)
        return _delivered(request, result)

    async def _attempt(self, request: _Request, deadline_at: float) -> dict[str, object]:
        while True:
            if self._pacer is not None:
                await self._pacer.acquire_async(request.chat_id, deadline_at)
            request.attempts += 1
            try:
                return await call_api_async(
                    self._client,
                    base_url=self.base_url,
                    token=self._token,
                    method="sendMessage",
                    params=request.body(),
                    timeout=self._attempt_timeout(deadline_at),
                    headers=self._headers(request),
                )
            except TelegramAPIError as exc:
                self._paced(request, exc)
                if not request.follow(exc):
                    raise

    async def aclose(self) -> None:
        """Close the HTTP client if the notifier created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
