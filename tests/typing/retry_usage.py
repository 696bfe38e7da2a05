"""The retry API as a user writes it: checked by mypy --strict and pyright, never run."""

from __future__ import annotations

from datetime import timedelta

from felix_reliability import (
    Backoff,
    GiveUpReason,
    RetryAttempt,
    RetryBudget,
    RetryPolicy,
    RetryState,
    parse_retry_after,
    retry,
)
from felix_reliability.testing import FakeClock, instant_retries, set_testing


def consume(*values: object) -> None:
    """Stand in for the user's own code."""


class Response:
    status_code: int = 200


def log_give_up(state: RetryState) -> None:
    reason: GiveUpReason | None = state.give_up_reason
    waits: tuple[tuple[float, str], ...] = state.waits
    consume(reason, waits, state.attempts, state.elapsed, state.last_exception, state.total_wait)


def is_transient(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


def is_server_error(response: Response) -> bool:
    return response.status_code >= 500


budget = RetryBudget(ratio=0.2, min_per_second=10.0)
policy = RetryPolicy(
    on=(ConnectionError, TimeoutError),
    attempts=4,
    backoff=Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None),
    deadline=30.0,
    max_retry_after=20.0,
    retry_on_result=is_server_error,
    budget=budget,
    on_retry=log_give_up,
    on_give_up=log_give_up,
    clock=FakeClock(),
    name="telegram.send_message",
)
by_predicate = RetryPolicy(on=is_transient, backoff=Backoff.constant(0.5))
single = RetryPolicy(on=ConnectionError, backoff=Backoff.linear(initial=1.0, increment=1.0))


@retry(on=(ConnectionError,), attempts=3)
def send(chat_id: int, text: str, *, silent: bool = False) -> Response:
    return Response()


@policy
async def send_async(chat_id: int) -> Response:
    return Response()


async def use_async() -> int:
    response: Response = await send_async(42)
    called: Response = await by_predicate.call(send_async, 7)
    async for attempt in policy:
        with attempt:
            left: float | None = attempt.remaining
            consume(left)
    return response.status_code + called.status_code


def use_sync() -> None:
    response: Response = send(1, "hello", silent=True)
    same: Response = single.call(send, 1, "hello")
    attempt: RetryAttempt
    for attempt in policy:
        with attempt:
            number: int = attempt.number
            consume(number, response, same)
    seconds: float | None = parse_retry_after("120")
    delta: float | None = parse_retry_after(timedelta(seconds=3))
    consume(seconds, delta)
    with instant_retries():
        send(2, "fast")
    set_testing(True)
