"""felix_hub's Telegram notifications: retry, circuit breaker, write-ahead dead letters.

`build_notifier` is the one place that builds the sending stack.
"""

from __future__ import annotations

import time
from typing import Protocol

import attrs
import httpx

from felix_reliability import (
    Backoff,
    CircuitBreaker,
    Clock,
    DeadLetter,
    InMemoryMetrics,
    RetryPolicy,
    RetryState,
    SQLiteDeadLetterStore,
    bind_context,
    get_logger,
)
from felix_reliability.exceptions import CircuitOpenError

OPERATION = "telegram.send_message"
log = get_logger("felix_hub.notify")


@attrs.frozen
class Delivery:
    """What a send returned (the shape of ``adapters.telegram.Delivery``)."""

    ok: bool
    message_id: int | None
    attempts: int
    dead_letter_id: str | None
    error: str | None


class Notifier(Protocol):
    """What the app needs from a notifier."""

    def send_message(
        self, chat_id: int | str, text: str, *, order_id: object = None
    ) -> Delivery: ...

    def resend(self, letter: DeadLetter) -> None: ...

    def close(self) -> None: ...


class TelegramUnavailableError(Exception):
    """Telegram answered 5xx or 401, or could not be reached."""


class TelegramRejectedError(Exception):
    """Telegram refused the message for good (400/403/404)."""


@attrs.define
class StandInNotifier:
    """A minimal notifier with the stack of ``adapters.telegram.TelegramNotifier``.

    Retry (4 attempts, waits 1, 2, 4 s on the injected clock) around the
    circuit breaker around one HTTP call; a write-ahead dead letter before the
    first attempt, deleted on success and updated with the reason on failure.
    """

    token: str
    base_url: str
    breaker: CircuitBreaker
    dead_letters: SQLiteDeadLetterStore
    metrics: InMemoryMetrics
    clock: Clock
    client: httpx.Client = attrs.field(factory=lambda: httpx.Client(timeout=5.0))

    def _post(self, chat_id: int | str, text: str) -> int:
        url = f"{self.base_url}/bot{self.token}/sendMessage"
        try:
            response = self.client.post(url, json={"chat_id": chat_id, "text": text})
        except httpx.TransportError as exc:
            raise TelegramUnavailableError(type(exc).__name__) from None
        if response.status_code >= 500 or response.status_code == 401:  # noqa: PLR2004 - HTTP
            raise TelegramUnavailableError(f"HTTP {response.status_code}")
        if response.status_code >= 400:  # noqa: PLR2004 - HTTP
            raise TelegramRejectedError(f"HTTP {response.status_code}")
        return int(response.json()["result"]["message_id"])

    def _send_once(self, chat_id: int | str, text: str) -> int:
        return self.breaker.call(self._post, chat_id, text)

    def send_message(self, chat_id: int | str, text: str, *, order_id: object = None) -> Delivery:
        """Send *text*, retrying; dead-letter it when every attempt failed."""
        with bind_context(orderId=order_id) if order_id is not None else bind_context():
            return self._send(chat_id, text)

    def _send(self, chat_id: int | str, text: str) -> Delivery:
        pending = DeadLetter.create(
            operation=OPERATION,
            payload={"chat_id": chat_id, "text": text},
            reason="pending",
            clock=self.clock,
        )
        self.dead_letters.put(pending)
        states: list[RetryState] = []
        retries: list[RetryState] = []
        policy = RetryPolicy(
            on=(TelegramUnavailableError,),
            attempts=4,
            backoff=Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None),
            clock=self.clock,
            metrics=self.metrics,
            name=OPERATION,
            on_retry=retries.append,
            on_give_up=states.append,
        )
        started = time.perf_counter()
        labels = {"operation": OPERATION}
        try:
            message_id = policy.call(self._send_once, chat_id, text)
        except (TelegramUnavailableError, TelegramRejectedError, CircuitOpenError) as exc:
            attempts = states[-1].attempts if states else 1
            reason = (
                "circuit_open"
                if isinstance(exc, CircuitOpenError)
                else "permanent_error"
                if isinstance(exc, TelegramRejectedError)
                else "retries_exhausted"
            )
            letter = DeadLetter.create(
                operation=OPERATION,
                payload=pending.payload,
                reason=reason,
                exception=exc,
                attempts=attempts,
                clock=self.clock,
            )
            self.dead_letters.update(attrs.evolve(letter, id=pending.id))
            self.metrics.increment("felix_calls", labels={**labels, "outcome": "failure"})
            self.metrics.increment("felix_dead_letters", labels={**labels, "reason": reason})
            log.warning("Notification dead-lettered", deadLetterId=pending.id, reason=reason)
            return Delivery(
                ok=False,
                message_id=None,
                attempts=attempts,
                dead_letter_id=pending.id,
                error=type(exc).__name__,
            )
        finally:
            self.metrics.observe(
                "felix_call_duration_seconds", time.perf_counter() - started, labels
            )
        self.dead_letters.delete(pending.id)
        self.metrics.increment("felix_calls", labels={**labels, "outcome": "success"})
        return Delivery(
            ok=True,
            message_id=message_id,
            attempts=1 + len(retries),
            dead_letter_id=None,
            error=None,
        )

    def resend(self, letter: DeadLetter) -> None:
        """Send a dead letter's message once more (raises to refuse it)."""
        payload = letter.payload
        if not isinstance(payload, dict):
            raise TypeError("a notification letter holds a JSON object")
        self._send_once(payload["chat_id"], str(payload["text"]))
        self.metrics.increment("felix_calls", labels={"operation": OPERATION, "outcome": "success"})

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def build_notifier(
    *,
    token: str,
    base_url: str,
    breaker: CircuitBreaker,
    dead_letters: SQLiteDeadLetterStore,
    metrics: InMemoryMetrics,
    clock: Clock,
) -> Notifier:
    """Build the notification stack."""
    return StandInNotifier(token, base_url, breaker, dead_letters, metrics, clock)
