"""parse_retry_after and server_delay: every shape servers use, and hostile values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from felix_reliability import parse_retry_after
from felix_reliability._retry_after import MAX_SERVER_DELAY, server_delay
from tests.strategies_retry import retry_after_texts

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (b"30", 30.0),
        (7, 7.0),
        (2.5, 2.5),
        (timedelta(seconds=90), 90.0),
    ],
)
def test_delta_seconds_and_numbers_are_read(value: object, expected: float) -> None:
    """Delta-seconds text, bytes, numbers and timedeltas give seconds."""
    assert expected == parse_retry_after(value)


def test_an_http_date_gives_the_seconds_until_it() -> None:
    """An HTTP-date in the future gives the distance from now."""
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=NOW) == 30.0


def test_an_http_date_in_the_past_gives_zero() -> None:
    """A date that has passed means "retry now"."""
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=NOW) == 0.0


def test_a_minus_zero_zone_date_and_a_naive_now_are_taken_as_utc() -> None:
    """ "-0000" dates and naive `now` values are read as UTC."""
    naive_now = datetime(2015, 10, 21, 7, 28, 0)  # noqa: DTZ001 - the naive case is the test
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 -0000", now=naive_now) == 10.0


def test_the_default_now_is_the_current_time() -> None:
    """Without `now`, a date far in the past gives zero and a far future one a large delay."""
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    future = parse_retry_after("Fri, 01 Jan 9999 00:00:00 GMT")
    assert future is not None
    assert future > 1e9


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "soon",
        "-5",
        "1e3",
        "nan",
        "inf",
        "Wed, 99 Foo 2015 07:28:00 GMT",
        "x" * 10_000,
        b"\xff" * 100,
        -1,
        float("nan"),
        timedelta(seconds=-3),
        True,
        [7],
        object(),
    ],
)
def test_unusable_values_give_none(value: object) -> None:
    """Malformed, negative, NaN, boolean or foreign values are unusable."""
    assert parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize(
    "value", ["9" * 5000, "1" + "0" * 20, float("inf"), 10**400, timedelta.max, "99999999999999.5"]
)
def test_huge_values_are_clamped_to_a_finite_maximum(value: object) -> None:
    """Absurd delays become MAX_SERVER_DELAY: finite, and above any sane max_retry_after."""
    assert parse_retry_after(value) == MAX_SERVER_DELAY


@given(retry_after_texts)
def test_parsing_arbitrary_text_never_raises_and_never_gives_a_bad_number(text: str) -> None:
    """Any text gives None or a finite float >= 0."""
    result = parse_retry_after(text, now=NOW)
    assert result is None or (math.isfinite(result) and result >= 0.0)


@given(st.one_of(st.floats(), st.integers(), st.binary(max_size=80), st.timedeltas()))
def test_parsing_arbitrary_numbers_and_bytes_never_gives_a_bad_number(value: object) -> None:
    """Any number, bytes or timedelta gives None or a finite float >= 0."""
    result = parse_retry_after(value, now=NOW)
    assert result is None or (math.isfinite(result) and result >= 0.0)


class _WithAttributeError(Exception):
    def __init__(self, retry_after: object) -> None:
        super().__init__("slow down")
        self.retry_after = retry_after


class _Response:
    def __init__(self, headers: object) -> None:
        self.headers = headers


class _WithResponseError(Exception):
    def __init__(self, headers: object) -> None:
        super().__init__("http error")
        self.response = _Response(headers)


class _HostileError(Exception):
    @property
    def retry_after(self) -> float:
        raise RuntimeError("boom")


def _wall() -> float:
    return NOW.timestamp()


def test_server_delay_reads_a_retry_after_attribute() -> None:
    """An exception's retry_after attribute wins."""
    assert server_delay(_WithAttributeError(3), _wall) == 3.0
    assert server_delay(_WithAttributeError(timedelta(seconds=4)), _wall) == 4.0


def test_server_delay_reads_a_header_in_either_case() -> None:
    """A plain dict of headers is looked up as "Retry-After", then "retry-after"."""
    assert server_delay(_WithResponseError({"Retry-After": "5"}), _wall) == 5.0
    assert server_delay(_WithResponseError({"retry-after": "6"}), _wall) == 6.0


def test_server_delay_anchors_http_dates_at_the_clock_wall_time() -> None:
    """HTTP-dates are measured from the clock's wall time."""
    assert (
        server_delay(_WithResponseError({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}), _wall)
        == 30.0
    )


def test_server_delay_reads_headers_of_a_returned_response() -> None:
    """A result with headers (a response) is read too."""
    assert server_delay(_Response({"Retry-After": "8"}), _wall) == 8.0


@pytest.mark.parametrize(
    "outcome",
    [
        ValueError("plain"),
        _WithResponseError(None),
        _WithResponseError(["not", "a", "mapping"]),
        _WithResponseError({}),
        _HostileError(),
    ],
)
def test_server_delay_is_none_without_a_usable_delay(outcome: object) -> None:
    """No attribute, no headers, no header, or a property that raises: no delay."""
    assert server_delay(outcome, _wall) is None
