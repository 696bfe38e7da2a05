"""InMemoryMetrics: recording, windows, series, rates, bounds and threads."""

from __future__ import annotations

import gc
import logging
import threading
import tracemalloc

import pytest
from hypothesis import given

from felix_reliability import InMemoryMetrics, MetricsCollector, NullMetrics, SystemClock
from felix_reliability._metrics import CALLS
from felix_reliability.testing import FakeClock
from tests.strategies_metrics import record_lists

SEND_OK = {"operation": "send", "outcome": "success"}
SEND_KO = {"operation": "send", "outcome": "failure"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics(clock: FakeClock) -> InMemoryMetrics:
    return InMemoryMetrics(clock=clock)


def test_is_a_metrics_collector(metrics: InMemoryMetrics) -> None:
    """InMemoryMetrics and NullMetrics satisfy the MetricsCollector protocol."""
    assert isinstance(metrics, MetricsCollector)
    assert isinstance(NullMetrics(), MetricsCollector)


def test_total_sums_increments(metrics: InMemoryMetrics) -> None:
    """total() is the sum of increments over all series of a name."""
    metrics.increment(CALLS, labels=SEND_OK)
    metrics.increment(CALLS, 2.5, labels=SEND_KO)
    metrics.increment(CALLS)
    assert metrics.total(CALLS) == 4.5


def test_total_of_unknown_name_is_zero(metrics: InMemoryMetrics) -> None:
    """An unknown name totals 0.0 and has no label sets."""
    assert metrics.total("nothing") == 0.0
    assert metrics.total("nothing", window=60) == 0.0
    assert metrics.label_sets("nothing") == []
    assert metrics.gauge("nothing") is None


def test_labels_filter_matches_subsets(metrics: InMemoryMetrics) -> None:
    """A labels filter matches every series carrying all of the given pairs."""
    metrics.increment(CALLS, labels=SEND_OK)
    metrics.increment(CALLS, labels=SEND_KO)
    metrics.increment(CALLS, labels={"operation": "poll", "outcome": "success"})
    assert metrics.total(CALLS, {"operation": "send"}) == 2.0
    assert metrics.total(CALLS, {"outcome": "success"}) == 2.0
    assert metrics.total(CALLS, {"outcome": "success", "operation": "poll"}) == 1.0
    assert metrics.total(CALLS, {"operation": "other"}) == 0.0


def test_label_order_does_not_matter(metrics: InMemoryMetrics) -> None:
    """Two dicts with the same pairs in another order are one series."""
    metrics.increment(CALLS, labels={"a": "1", "b": "2"})
    metrics.increment(CALLS, labels={"b": "2", "a": "1"})
    assert metrics.label_sets(CALLS) == [{"a": "1", "b": "2"}]


def test_negative_increment_is_rejected(metrics: InMemoryMetrics) -> None:
    """Counters only go up: a negative increment raises ValueError."""
    with pytest.raises(ValueError, match="value must be >= 0"):
        metrics.increment(CALLS, -1)


def test_kind_is_fixed_by_the_first_record(metrics: InMemoryMetrics) -> None:
    """Recording a counter name as a histogram or gauge raises TypeError."""
    metrics.increment(CALLS)
    with pytest.raises(TypeError, match="is a counter, not a histogram"):
        metrics.observe(CALLS, 1.0)
    metrics.set_gauge("state", 1.0)
    with pytest.raises(TypeError, match="is a gauge, not a counter"):
        metrics.increment("state")


def test_window_slides_old_events_out(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Events older than the window (in whole minutes) no longer count."""
    metrics.increment(CALLS, labels=SEND_OK)
    clock.advance(1800)
    metrics.increment(CALLS, labels=SEND_OK)
    assert metrics.total(CALLS, window=3600) == 2.0
    clock.advance(1800)
    assert metrics.total(CALLS, window=3600) == 1.0
    clock.advance(1800)
    assert metrics.total(CALLS, window=3600) == 0.0
    assert metrics.total(CALLS) == 2.0


def test_window_counts_the_current_minute(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """window=60 is the current minute only; window=61 adds the previous one."""
    clock.advance(59)
    metrics.increment(CALLS)
    clock.advance(1)
    metrics.increment(CALLS)
    assert metrics.total(CALLS, window=60) == 1.0
    assert metrics.total(CALLS, window=61) == 2.0


def test_day_buckets_cover_ninety_days(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Windows longer than a day use day buckets, kept for 90 days."""
    metrics.increment(CALLS, 3)
    clock.advance(86_400 * 10)
    metrics.increment(CALLS, 4)
    assert metrics.total(CALLS, window=86_400) == 4.0
    assert metrics.total(CALLS, window=86_400 * 11) == 7.0
    clock.advance(86_400 * 85)
    assert metrics.total(CALLS, window=86_400 * 90) == 4.0


def test_window_must_be_positive_and_at_most_90_days(metrics: InMemoryMetrics) -> None:
    """A window that is not positive or longer than 90 days is a ValueError."""
    with pytest.raises(ValueError, match="window"):
        metrics.total(CALLS, window=0)
    with pytest.raises(ValueError, match="90 days"):
        metrics.total(CALLS, window=86_400 * 91)


def test_minute_ring_reuses_slots_a_day_later(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """A minute bucket from yesterday does not count in today's same minute."""
    metrics.increment(CALLS, 5)
    clock.advance(86_400)
    metrics.increment(CALLS, 1)
    clock.advance(60)
    metrics.increment(CALLS, 1)
    assert metrics.total(CALLS, window=86_400) == 2.0
    assert metrics.series(CALLS, step=60, count=2) == [1.0, 1.0]


def test_series_by_minute(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """series() returns per-step sums, oldest first, the last step being current."""
    for _ in range(3):
        metrics.increment(CALLS)
        clock.advance(60)
    metrics.increment(CALLS, 2)
    assert metrics.series(CALLS, step=60, count=5) == [0.0, 1.0, 1.0, 1.0, 2.0]


def test_series_by_hour_and_day(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Steps may be multiples of a minute (within a day) or of a day (within 90 days)."""
    metrics.increment(CALLS, labels=SEND_OK)
    clock.advance(3600)
    metrics.increment(CALLS, 2, labels=SEND_KO)
    assert metrics.series(CALLS, step=3600, count=2) == [1.0, 2.0]
    assert metrics.series(CALLS, step=86_400, count=2) == [0.0, 3.0]
    assert metrics.series(CALLS, step=3600, count=1, labels={"outcome": "failure"}) == [2.0]


@pytest.mark.parametrize(("step", "count"), [(30, 2), (60, 1441), (86_400, 91), (90, 1)])
def test_series_rejects_steps_beyond_the_history(
    metrics: InMemoryMetrics, step: float, count: int
) -> None:
    """A step that is not whole minutes/days or reaches past the rings is a ValueError."""
    with pytest.raises(ValueError, match="step must be"):
        metrics.series(CALLS, step=step, count=count)


def test_success_rate(metrics: InMemoryMetrics) -> None:
    """success_rate is success / (success + failure); other outcomes do not count."""
    for _ in range(3):
        metrics.increment(CALLS, labels=SEND_OK)
    metrics.increment(CALLS, labels=SEND_KO)
    metrics.increment(CALLS, labels={"operation": "send", "outcome": "ignored"})
    assert metrics.success_rate(CALLS, window=3600) == 0.75
    assert metrics.success_rate(CALLS, 3600, {"operation": "send"}) == 0.75


def test_success_rate_without_events_is_none(metrics: InMemoryMetrics) -> None:
    """No success and no failure in the window: the rate is None."""
    assert metrics.success_rate(CALLS, window=3600) is None


def test_histogram_total_count_and_mean(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """For histograms total sums the values, count counts them, mean averages them."""
    metrics.observe("duration", 0.5, {"operation": "send"})
    clock.advance(120)
    metrics.observe("duration", 1.5, {"operation": "send"})
    assert metrics.total("duration") == 2.0
    assert metrics.count("duration") == 2
    assert metrics.mean("duration") == 1.0
    assert metrics.mean("duration", window=60) == 1.5
    assert metrics.mean("duration", {"operation": "poll"}) is None


def test_gauge_keeps_the_last_value(metrics: InMemoryMetrics) -> None:
    """gauge() is the last value set for exactly that label set."""
    metrics.set_gauge("felix_breaker_state", 2, {"breaker": "telegram"})
    metrics.set_gauge("felix_breaker_state", 0, {"breaker": "telegram"})
    metrics.set_gauge("felix_breaker_state", 1, {"breaker": "db"})
    assert metrics.gauge("felix_breaker_state", {"breaker": "telegram"}) == 0
    assert metrics.gauge("felix_breaker_state", {"breaker": "db"}) == 1
    assert metrics.names() == ["felix_breaker_state"]


def test_cardinality_guard_folds_extra_label_sets(clock: FakeClock) -> None:
    """Past max_label_sets, new label sets go to one overflow series; totals stay right."""
    metrics = InMemoryMetrics(clock=clock, max_label_sets=2)
    for index in range(5):
        metrics.increment(CALLS, labels={"operation": f"op{index}"})
        metrics.increment(CALLS, labels={"operation": f"op{index}"})
    metrics.observe("duration", 1.0, {"operation": "a"})
    metrics.observe("duration", 1.0, {"operation": "b"})
    metrics.observe("duration", 1.0, {"operation": "c"})
    expected = [{"operation": "op0"}, {"operation": "op1"}, {"overflow": "true"}]
    assert expected == metrics.label_sets(CALLS)
    assert metrics.total(CALLS) == 10.0
    assert metrics.total(CALLS, {"overflow": "true"}) == 6.0
    assert metrics.total("duration") == 3.0


def test_max_label_sets_is_validated() -> None:
    """max_label_sets below 1 is a configuration error naming the parameter."""
    with pytest.raises(ValueError, match="max_label_sets"):
        InMemoryMetrics(max_label_sets=0)


def test_system_clock_is_the_default() -> None:
    """Without a clock, records use the real monotonic clock."""
    metrics = InMemoryMetrics(clock=SystemClock())
    metrics.increment(CALLS)
    assert InMemoryMetrics().total(CALLS) + metrics.total(CALLS, window=60) == 1.0
    assert repr(metrics) == "InMemoryMetrics(metrics=1)"


def test_concurrent_increments_are_not_lost(metrics: InMemoryMetrics) -> None:
    """Eight threads incrementing at once lose no update."""

    def work() -> None:
        for _ in range(5_000):
            metrics.increment(CALLS, labels=SEND_OK)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert metrics.total(CALLS) == 40_000.0


def test_memory_is_flat_over_a_simulated_month(clock: FakeClock) -> None:
    """1,000,000 increments over 30 days: memory after 1M equals memory after 100k."""
    metrics = InMemoryMetrics(clock=clock)
    # One label per series keeps tracemalloc (which slows every allocation) affordable.
    labels = [{"operation": "send"}, {"operation": "poll"}, {"operation": "sync"}]
    step = 30 * 86_400 / 1_000_000
    increment = metrics.increment
    tracemalloc.start()
    try:
        for index in range(1_000_000):
            increment(CALLS, labels=labels[index % 3])
            clock._now += step  # advance without FakeClock's validation, for speed
            if index == 99_999:
                gc.collect()
                after_100k = tracemalloc.get_traced_memory()[0]
        gc.collect()
        after_1m = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert metrics.total(CALLS) == 1_000_000.0
    assert after_1m - after_100k < 16_384


@given(record_lists)
def test_windowed_total_equals_a_naive_model(records: list[tuple[float, str, str, float]]) -> None:
    """total() over a window agrees with summing the events of the same minutes."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    events: list[tuple[int, str, str, float]] = []
    for gap, operation, outcome, value in records:
        clock.advance(gap)
        metrics.increment(CALLS, value, {"operation": operation, "outcome": outcome})
        events.append((int(clock.monotonic() // 60), operation, outcome, value))
    now_minute = int(clock.monotonic() // 60)
    for window_minutes in (1, 5, 60, 360):
        expected = sum(
            value
            for minute, operation, _, value in events
            if minute > now_minute - window_minutes and operation == "send"
        )
        assert expected == metrics.total(CALLS, {"operation": "send"}, window_minutes * 60)
    assert sum(value for *_, value in events) == metrics.total(CALLS)


def test_null_metrics_drops_everything() -> None:
    """NullMetrics accepts every record and keeps nothing."""
    null = NullMetrics()
    null.increment(CALLS)
    null.observe("duration", 1.0)
    null.set_gauge("state", 1.0)
    assert repr(null) == "NullMetrics()"


def test_histogram_same_minute_accumulates(metrics: InMemoryMetrics) -> None:
    """Two observations in one minute share its bucket."""
    metrics.observe("duration", 1.0)
    metrics.observe("duration", 3.0)
    assert metrics.series("duration", step=60, count=1) == [4.0]
    assert metrics.count("duration", window=60) == 2


def test_recorders_isolate_a_failing_collector(caplog: pytest.LogCaptureFixture) -> None:
    """A third-party collector that raises is logged; the recording call returns."""
    from felix_reliability._in_memory_metrics import call_recorder

    class Broken:
        def increment(self, name: str, value: float = 1.0, labels: object = None) -> None:
            raise RuntimeError("counter bug")

        def observe(self, name: str, value: float, labels: object = None) -> None:
            raise RuntimeError("histogram bug")

        def set_gauge(self, name: str, value: float, labels: object = None) -> None:
            raise RuntimeError("gauge bug")

    record = call_recorder(Broken(), "felix_calls", {"operation": "x"}, "felix_d", {})
    with caplog.at_level(logging.ERROR, logger="felix_reliability.metrics"):
        record(0.5)
    messages = [record.getMessage() for record in caplog.records]
    assert [message.rsplit(" ", 1)[-1] for message in messages] == ["felix_calls", "felix_d"]
    assert all("failed to record" in message for message in messages)
