"""Rolling windows: the last N calls and the last T seconds, in bounded memory."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from felix_reliability._windows import CountWindow, TimeBuckets


def test_count_window_keeps_only_the_last_n_outcomes() -> None:
    """Older outcomes fall out of a count window as new ones arrive."""
    window = CountWindow(3)
    window.add(0, 2)
    window.add(2, 0)
    assert window.totals() == (3, 1)


def test_count_window_with_more_successes_than_its_size() -> None:
    """A batch of successes larger than the window leaves only successes."""
    window = CountWindow(4)
    window.add(0, 4)
    window.add(10, 1)
    assert window.totals() == (4, 1)


def test_count_window_clear_forgets_everything() -> None:
    """clear() empties the window."""
    window = CountWindow(2)
    window.add(1, 1)
    window.clear()
    assert window.totals() == (0, 0)


@given(st.integers(1, 20), st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3))))
def test_count_window_matches_a_list_of_the_last_n(
    size: int, batches: list[tuple[int, int]]
) -> None:
    """The window's totals equal those of the last `size` outcomes of a plain list."""
    window = CountWindow(size)
    history: list[int] = []
    for successes, failures in batches:
        window.add(successes, failures)
        history += [0] * successes + [1] * failures
    last = history[-size:]
    assert (len(last), sum(last)) == window.totals()


def test_time_buckets_count_within_the_window() -> None:
    """Outcomes inside the last `seconds` are counted."""
    window = TimeBuckets(10.0)
    window.add(3, 1, now=0.5)
    window.add(1, 1, now=5.0)
    assert window.totals(now=9.0) == (6, 2)


def test_time_buckets_drop_expired_outcomes() -> None:
    """Outcomes older than the window no longer count, and their bucket is recycled."""
    window = TimeBuckets(10.0)
    window.add(3, 1, now=0.5)
    window.add(1, 1, now=10.5)
    assert window.totals(now=10.5) == (2, 1)


def test_time_buckets_clear() -> None:
    """clear() empties the buckets."""
    window = TimeBuckets(1.0)
    window.add(1, 1, now=0.0)
    window.clear()
    assert window.totals(now=0.0) == (0, 0)
