"""Server delays from real classes users have: python-telegram-bot, httpx and requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import requests
from telegram.error import RetryAfter

from felix_reliability import Backoff, RetryPolicy
from felix_reliability.testing import FakeClock

# FakeClock's wall time starts at 2023-11-14T22:13:20Z; this date is 13 s later.
THIRTEEN_SECONDS_LATER = "Tue, 14 Nov 2023 22:13:33 GMT"


def _policy(clock: FakeClock, *on: type[Exception]) -> RetryPolicy:
    return RetryPolicy(
        on=on,
        attempts=4,
        backoff=Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None),
        clock=clock,
    )


def _fails_once_with(error: Exception) -> Callable[[], str]:
    errors = [error]

    def call() -> str:
        if errors:
            raise errors.pop()
        return "sent"

    return call


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_telegram_retry_after_in_seconds_is_waited_exactly() -> None:
    """python-telegram-bot's RetryAfter with an int retry_after (the pre-v22.2 form)."""
    clock = FakeClock()
    error = RetryAfter(5)
    assert error.retry_after == 5
    assert _policy(clock, RetryAfter).call(_fails_once_with(error)) == "sent"
    assert clock.sleeps == [5.0]


def test_telegram_retry_after_as_timedelta_is_waited_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PTB_TIMEDELTA=1, RetryAfter.retry_after is a timedelta (the future form)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    clock = FakeClock()
    error = RetryAfter(timedelta(seconds=12))
    assert timedelta(seconds=12) == error.retry_after
    assert _policy(clock, RetryAfter).call(_fails_once_with(error)) == "sent"
    assert clock.sleeps == [12.0]


def _httpx_error(retry_after: str) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://api.telegram.org/botTOKEN/sendMessage")
    response = httpx.Response(429, headers={"Retry-After": retry_after}, request=request)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        return exc
    raise AssertionError("raise_for_status did not raise")  # pragma: no cover - 429 raises


def _requests_error(retry_after: str) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = retry_after
    response.url = "https://example.invalid/send"
    response.reason = "Too Many Requests"
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        return exc
    raise AssertionError("raise_for_status did not raise")  # pragma: no cover - 429 raises


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (THIRTEEN_SECONDS_LATER, 13.0)])
def test_httpx_status_error_retry_after_is_waited_exactly(header: str, expected: float) -> None:
    """httpx.HTTPStatusError: Retry-After delta-seconds and HTTP-date, via exc.response.headers."""
    clock = FakeClock()
    error = _httpx_error(header)
    assert _policy(clock, httpx.HTTPStatusError).call(_fails_once_with(error)) == "sent"
    assert [expected] == clock.sleeps


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (THIRTEEN_SECONDS_LATER, 13.0)])
def test_requests_http_error_retry_after_is_waited_exactly(header: str, expected: float) -> None:
    """requests.HTTPError: Retry-After delta-seconds and HTTP-date, via exc.response.headers."""
    clock = FakeClock()
    error = _requests_error(header)
    assert _policy(clock, requests.HTTPError).call(_fails_once_with(error)) == "sent"
    assert [expected] == clock.sleeps


def test_a_returned_httpx_response_with_retry_after_is_waited_exactly() -> None:
    """retry_on_result on an httpx.Response reads its Retry-After header."""
    clock = FakeClock()
    request = httpx.Request("GET", "https://example.invalid/")
    responses = iter(
        [
            httpx.Response(503, headers={"Retry-After": "3"}, request=request),
            httpx.Response(200, request=request),
        ]
    )
    policy = RetryPolicy(
        on=(httpx.TransportError,),
        retry_on_result=lambda r: r.status_code >= 500,
        clock=clock,
    )
    assert policy.call(lambda: next(responses)).status_code == 200
    assert clock.sleeps == [3.0]


def test_a_hostile_header_falls_back_to_the_backoff() -> None:
    """An unreadable Retry-After is ignored: the backoff decides."""
    clock = FakeClock()
    error = _httpx_error("tomorrow-ish")
    assert _policy(clock, httpx.HTTPStatusError).call(_fails_once_with(error)) == "sent"
    assert clock.sleeps == [1.0]


def test_a_huge_header_gives_up_without_sleeping() -> None:
    """Retry-After: 10**50 is above max_retry_after: the error is raised at once."""
    clock = FakeClock()
    error = _httpx_error("1" + "0" * 50)
    with pytest.raises(httpx.HTTPStatusError) as info:
        _policy(clock, httpx.HTTPStatusError).call(_fails_once_with(error))
    assert clock.sleeps == []
    assert "retry_after_too_long" in info.value.__notes__[0]


def test_aiogram_telegram_retry_after_is_waited_exactly() -> None:
    """aiogram's TelegramRetryAfter carries retry_after in seconds."""
    exceptions = pytest.importorskip("aiogram.exceptions")
    methods = pytest.importorskip("aiogram.methods")
    clock = FakeClock()
    error = exceptions.TelegramRetryAfter(
        method=methods.SendMessage(chat_id=1, text="hi"), message="Flood control", retry_after=9
    )
    policy = _policy(clock, exceptions.TelegramRetryAfter)
    assert policy.call(_fails_once_with(error)) == "sent"
    assert clock.sleeps == [9.0]
