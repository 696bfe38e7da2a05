"""The embedded collector: bounded, time-bucketed rings kept in this process.

Each series (a metric name plus one set of label values) keeps two rings: one
bucket per minute for the last day, and one bucket per day for the last 90
days, plus a running total. Recording touches one slot of each ring, so it
costs the same whatever the history; the rings never grow, so memory is
bounded by the number of series, which the cardinality guard bounds too.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._validation import check_positive_float, check_positive_int

if TYPE_CHECKING:
    from felix_reliability._metrics import Labels, MetricsCollector

__all__ = ["InMemoryMetrics", "call_recorder", "recorder_for"]

_logger = logging.getLogger("felix_reliability.metrics")

_MINUTE = 60
_DAY = 86_400
_MINUTES_KEPT = 1_440
_DAYS_KEPT = 90
_MAX_WINDOW = _DAY * _DAYS_KEPT

_COUNTER = "counter"
_HISTOGRAM = "histogram"
_GAUGE = "gauge"

LabelKey = tuple[tuple[str, str], ...]
OVERFLOW_KEY: LabelKey = (("overflow", "true"),)


class _Series:
    """One label set of one metric: minute and day rings and the running totals.

    The latest minute is accumulated in ``current_*`` and moved into the rings
    when a record arrives in a later minute, so most records touch two
    attributes only.
    """

    __slots__ = (
        "current_count",
        "current_minute",
        "current_value",
        "day_counts",
        "day_stamps",
        "day_values",
        "flushed_count",
        "flushed_total",
        "gauge",
        "labels",
        "minute_counts",
        "minute_stamps",
        "minute_values",
    )

    def __init__(self, labels: LabelKey) -> None:
        self.labels = labels
        self.flushed_total = 0.0
        self.flushed_count = 0
        self.current_minute = -1
        self.current_value = 0.0
        self.current_count = 0
        self.gauge: float | None = None
        self.minute_stamps = [-1] * _MINUTES_KEPT
        self.minute_values = [0.0] * _MINUTES_KEPT
        self.minute_counts = [0] * _MINUTES_KEPT
        self.day_stamps = [-1] * _DAYS_KEPT
        self.day_values = [0.0] * _DAYS_KEPT
        self.day_counts = [0] * _DAYS_KEPT

    @property
    def total(self) -> float:
        return self.flushed_total + self.current_value

    @property
    def count(self) -> int:
        return self.flushed_count + self.current_count

    def roll(self, minute: int, value: float) -> None:
        """Move the current minute into the rings and start *minute* with *value*."""
        if self.current_count:
            done, value_done, count_done = (
                self.current_minute,
                self.current_value,
                self.current_count,
            )
            self.flushed_total += value_done
            self.flushed_count += count_done
            slot = done % _MINUTES_KEPT
            self.minute_stamps[slot] = done
            self.minute_values[slot] = value_done
            self.minute_counts[slot] = count_done
            day = done // _MINUTES_KEPT
            slot = day % _DAYS_KEPT
            if self.day_stamps[slot] == day:
                self.day_values[slot] += value_done
                self.day_counts[slot] += count_done
            else:
                self.day_stamps[slot] = day
                self.day_values[slot] = value_done
                self.day_counts[slot] = count_done
        self.current_minute = minute
        self.current_value = value
        self.current_count = 1

    def add(self, now: float, value: float) -> None:
        minute = int(now // _MINUTE)
        if self.current_minute == minute:
            self.current_value += value
            self.current_count += 1
        else:
            self.roll(minute, value)

    def bucket_sum(self, first: int, last: int, *, daily: bool, counts: bool) -> float:
        """Sum the buckets numbered first..last (inclusive) of one ring."""
        if daily:
            stamps, size = self.day_stamps, _DAYS_KEPT
            values: list[float] | list[int] = self.day_counts if counts else self.day_values
            current = self.current_minute // _MINUTES_KEPT
        else:
            stamps, size = self.minute_stamps, _MINUTES_KEPT
            values = self.minute_counts if counts else self.minute_values
            current = self.current_minute
        result = 0.0
        if self.current_count and first <= current <= last:
            result += self.current_count if counts else self.current_value
        for number in range(first, last + 1):
            slot = number % size
            if stamps[slot] == number:
                result += values[slot]
        return result


class _Metric:
    """All series of one name; the kind is fixed by the first record."""

    __slots__ = ("kind", "series")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.series: dict[LabelKey, _Series] = {}


def _key(labels: Labels | None) -> LabelKey:
    if not labels:
        return ()
    if len(labels) == 1:
        return tuple(labels.items())
    return tuple(sorted(labels.items()))


def _matches(series: _Series, wanted: LabelKey) -> bool:
    have = series.labels
    return all(pair in have for pair in wanted)


def _plan(window: float | None) -> tuple[int, bool] | None:
    """Return (bucket count, daily) for a window, or None for all time."""
    if window is None:
        return None
    seconds = check_positive_float("window", window)
    if seconds > _MAX_WINDOW:
        raise ValueError(f"window must be at most {_MAX_WINDOW} seconds (90 days), got {window!r}")
    if seconds <= _DAY:
        return math.ceil(seconds / _MINUTE), False
    return math.ceil(seconds / _DAY), True


class InMemoryMetrics:
    """Keep counters, histograms and gauges of this process in bounded memory.

    The embedded default `MetricsCollector`. Every record is O(1) and
    thread-safe. Each series (a name plus one set of label values) keeps one
    bucket per minute for the last day and one bucket per day for the last 90
    days, on the monotonic time of *clock*.

    Windows are rounded up to whole buckets, and the current, partly elapsed
    bucket counts: ``window=3600`` sums the current minute and the 59 before
    it. Windows up to a day use minute buckets; longer ones (up to 90 days)
    use day buckets.

    What the queries return, by kind (a name's kind is fixed by its first
    record; recording it as another kind raises `TypeError`):

    * counters (`increment`): `total` is the sum of the increments;
    * histograms (`observe`): `total` is the sum of the observed values,
      `count` the number of observations and `mean` their average;
    * gauges (`set_gauge`): `gauge` is the last value set for a label set;
      gauges keep no history.

    A *labels* filter matches every series that carries all the given label
    pairs (and maybe more). The cardinality guard: each name keeps at most
    *max_label_sets* label sets; further label sets are folded into one
    series labelled ``{"overflow": "true"}``, so unfiltered totals stay right
    while memory stays bounded.

    Args:
        clock: The time source (default `SystemClock`).
        max_label_sets: The most label sets kept per metric name.

    Raises:
        ValueError: If *max_label_sets* is below 1.

    >>> clock = felix_reliability.testing.FakeClock()
    >>> metrics = InMemoryMetrics(clock=clock)
    >>> metrics.increment("felix_calls", labels={"operation": "send", "outcome": "success"})
    >>> metrics.increment("felix_calls", labels={"operation": "send", "outcome": "failure"})
    >>> metrics.total("felix_calls"), metrics.success_rate("felix_calls", window=3600)
    (2.0, 0.5)

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_clock", "_counters", "_lock", "_max_label_sets", "_metrics", "_now")

    def __init__(self, *, clock: Clock | None = None, max_label_sets: int = 200) -> None:
        self._clock: Clock = SystemClock() if clock is None else clock
        self._max_label_sets = check_positive_int("max_label_sets", max_label_sets)
        # Skip a method call per record on the real clock.
        self._now: Callable[[], float] = (
            time.monotonic if type(self._clock) is SystemClock else self._clock.monotonic
        )
        self._lock = threading.Lock()
        self._metrics: dict[str, _Metric] = {}
        self._counters: dict[tuple[str, LabelKey], _Series] = {}

    # -- recording ---------------------------------------------------------

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Add *value* (>= 0) to the counter *name*.

        Raises:
            ValueError: If *value* is negative.
            TypeError: If *name* was recorded as another kind.
        """
        if value < 0:
            raise ValueError(f"value must be >= 0 for the counter {name!r}, got {value!r}")
        if not labels:
            key: tuple[str, LabelKey] = (name, ())
        elif len(labels) == 1:
            key = (name, tuple(labels.items()))
        else:
            key = (name, tuple(sorted(labels.items())))
        minute = int(self._now() // _MINUTE)
        with self._lock:
            series = self._counters.get(key)
            if series is None:
                series = self._series_slow(name, key[1], _COUNTER)
                # The overflow series is shared: only exact label sets are cached.
                if series.labels == key[1]:
                    self._counters[key] = series
            # The hot path of `_Series.add`, inlined: recording is most of the work.
            if series.current_minute == minute:
                series.current_value += value
                series.current_count += 1
            else:
                series.roll(minute, value)

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Record *value* in the histogram *name*.

        Raises:
            TypeError: If *name* was recorded as another kind.
        """
        key = _key(labels)
        now = self._now()
        with self._lock:
            self._series_slow(name, key, _HISTOGRAM).add(now, value)

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Set the gauge *name* for these labels to *value*.

        Raises:
            TypeError: If *name* was recorded as another kind.
        """
        key = _key(labels)
        with self._lock:
            self._series_slow(name, key, _GAUGE).gauge = value

    def _recorder(
        self, name: str, labels: Labels | None, *, histogram: bool = False
    ) -> Callable[[float], None]:
        """Return a function recording into one series, for the package's hot paths.

        The label key is resolved once here, so each record costs a clock read,
        the lock and an add: the Guard records two metrics on every call.
        """
        with self._lock:
            series = self._series_slow(name, _key(labels), _HISTOGRAM if histogram else _COUNTER)
        now, acquire, release = self._now, self._lock.acquire, self._lock.release

        def record(value: float, minute_length: float = _MINUTE) -> None:
            # A float minute compares equal to the int one; int() only when rolling.
            minute = now() // minute_length
            acquire()  # not `with`: its two method calls cost as much as the record
            try:
                if series.current_minute == minute:
                    series.current_value += value
                    series.current_count += 1
                else:
                    series.roll(int(minute), value)
            finally:
                release()

        return record

    def _call_recorder(
        self, counter: str, counter_labels: Labels, histogram: str, histogram_labels: Labels
    ) -> Callable[[float], None]:
        """Return a function counting one call and recording its duration together.

        One clock read and one lock for both series: the Guard's per-call cost.
        """
        with self._lock:
            calls = self._series_slow(counter, _key(counter_labels), _COUNTER)
            durations = self._series_slow(histogram, _key(histogram_labels), _HISTOGRAM)
        now, acquire, release = self._now, self._lock.acquire, self._lock.release

        def record(duration: float, minute_length: float = _MINUTE) -> None:
            minute = now() // minute_length  # see `_recorder`
            acquire()
            try:
                if calls.current_minute == minute:
                    calls.current_value += 1.0
                    calls.current_count += 1
                else:
                    calls.roll(int(minute), 1.0)
                if durations.current_minute == minute:
                    durations.current_value += duration
                    durations.current_count += 1
                else:
                    durations.roll(int(minute), duration)
            finally:
                release()

        return record

    def _series_slow(self, name: str, key: LabelKey, kind: str) -> _Series:
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = _Metric(kind)
        elif metric.kind != kind:
            raise TypeError(f"metric {name!r} is a {metric.kind}, not a {kind}")
        series = metric.series.get(key)
        return self._new_series(metric, key) if series is None else series

    def _new_series(self, metric: _Metric, key: LabelKey) -> _Series:
        if len(metric.series) >= self._max_label_sets:
            key = OVERFLOW_KEY
            series = metric.series.get(key)
            if series is not None:
                return series
        series = metric.series[key] = _Series(key)
        return series

    # -- queries -----------------------------------------------------------

    def _selected(self, name: str, labels: Labels | None) -> list[_Series]:
        metric = self._metrics.get(name)
        if metric is None:
            return []
        wanted = _key(labels)
        return [series for series in metric.series.values() if _matches(series, wanted)]

    def _sum(
        self, name: str, labels: Labels | None, window: float | None, *, counts: bool
    ) -> float:
        plan = _plan(window)
        with self._lock:
            selected = self._selected(name, labels)
            if plan is None:
                return float(sum(s.count if counts else s.total for s in selected))
            buckets, daily = plan
            minute = int(self._now() // _MINUTE)
            last = minute // _MINUTES_KEPT if daily else minute
            first = last - buckets + 1
            return sum(
                (s.bucket_sum(first, last, daily=daily, counts=counts) for s in selected), 0.0
            )

    def total(self, name: str, labels: Labels | None = None, window: float | None = None) -> float:
        """Return the sum recorded under *name* (all time when *window* is None).

        Args:
            name: The metric name.
            labels: Only series carrying all these label pairs.
            window: Seconds back from now, at most 90 days.

        Returns:
            The sum of increments (counters) or observed values (histograms);
            0.0 for an unknown name.

        Raises:
            ValueError: If *window* is not positive or longer than 90 days.
        """
        return self._sum(name, labels, window, counts=False)

    def count(self, name: str, labels: Labels | None = None, window: float | None = None) -> int:
        """Return how many records (increments or observations) *name* received.

        Arguments as for `total`.
        """
        return int(self._sum(name, labels, window, counts=True))

    def mean(
        self, name: str, labels: Labels | None = None, window: float | None = None
    ) -> float | None:
        """Return the average observed value of a histogram, or None without events.

        Arguments as for `total`.
        """
        events = self.count(name, labels, window)
        if events == 0:
            return None
        return self.total(name, labels, window) / events

    def series(
        self, name: str, *, step: float = 60, count: int = 60, labels: Labels | None = None
    ) -> list[float]:
        """Return *count* consecutive sums of *step* seconds each, oldest first.

        The last value covers the current step. *step* is a multiple of a
        minute with ``step * count`` at most a day, or a multiple of a day
        with ``step * count`` at most 90 days.

        Raises:
            ValueError: If *step* or *count* do not fit the kept history.
        """
        count = check_positive_int("count", count)
        step_seconds = check_positive_float("step", step)
        if step_seconds % _DAY == 0 and step_seconds * count <= _MAX_WINDOW:
            width, daily = int(step_seconds // _DAY), True
        elif step_seconds % _MINUTE == 0 and step_seconds * count <= _DAY:
            width, daily = int(step_seconds // _MINUTE), False
        else:
            raise ValueError(
                f"step must be a multiple of 60 s with step*count <= 1 day, or of 1 day with "
                f"step*count <= 90 days; got step={step!r}, count={count!r}"
            )
        with self._lock:
            selected = self._selected(name, labels)
            minute = int(self._now() // _MINUTE)
            last = minute // _MINUTES_KEPT if daily else minute
            result: list[float] = []
            for index in range(count - 1, -1, -1):
                end = last - index * width
                start = end - width + 1
                result.append(
                    sum(
                        (s.bucket_sum(start, end, daily=daily, counts=False) for s in selected),
                        0.0,
                    )
                )
            return result

    def success_rate(self, name: str, window: float, labels: Labels | None = None) -> float | None:
        """Return success / (success + failure) over the ``outcome`` label.

        Other outcomes (such as ``ignored`` or ``rejected``) do not count.

        Returns:
            The rate in [0, 1], or None when there was no success or failure
            in the window.
        """
        successes, failures = self.outcomes(name, window, labels)
        if successes + failures == 0:
            return None
        return successes / (successes + failures)

    def outcomes(
        self, name: str, window: float, labels: Labels | None = None
    ) -> tuple[float, float]:
        """Return (successes, failures) of *name* in *window* by the ``outcome`` label."""
        base = dict(labels or {})
        successes = self.total(name, {**base, "outcome": "success"}, window)
        failures = self.total(name, {**base, "outcome": "failure"}, window)
        return successes, failures

    def gauge(self, name: str, labels: Labels | None = None) -> float | None:
        """Return the last value set for the gauge *name* with exactly *labels*."""
        with self._lock:
            metric = self._metrics.get(name)
            series = None if metric is None else metric.series.get(_key(labels))
            return None if series is None else series.gauge

    def label_sets(self, name: str) -> list[dict[str, str]]:
        """Return the label sets recorded under *name*, in first-seen order."""
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                return []
            return [dict(key) for key in metric.series]

    def names(self) -> list[str]:
        """Return the metric names recorded so far, sorted."""
        with self._lock:
            return sorted(self._metrics)

    def __repr__(self) -> str:
        return f"InMemoryMetrics(metrics={len(self._metrics)})"


def recorder_for(
    metrics: MetricsCollector, name: str, labels: Labels, *, histogram: bool = False
) -> Callable[[float], None]:
    """Return a function that records *value* for one metric and label set.

    Components that record on every call (the Guard, the breaker's success
    path) resolve the series once: for `InMemoryMetrics` the record is then a
    clock read, the lock and an add; other collectors get the protocol call.
    """
    if isinstance(metrics, InMemoryMetrics):
        return metrics._recorder(name, labels, histogram=histogram)  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - same module
    if histogram:
        return functools.partial(_observe, metrics, name, labels)
    return functools.partial(_increment, metrics, name, labels)


def call_recorder(
    metrics: MetricsCollector,
    counter: str,
    counter_labels: Labels,
    histogram: str,
    histogram_labels: Labels,
) -> Callable[[float], None]:
    """Return a function that counts one call in *counter* and records its duration.

    Like `recorder_for`, resolved once; for `InMemoryMetrics` both series are
    written under one clock read and one lock.
    """
    if isinstance(metrics, InMemoryMetrics):
        return metrics._call_recorder(counter, counter_labels, histogram, histogram_labels)  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - same module
    count = recorder_for(metrics, counter, counter_labels)
    observe = recorder_for(metrics, histogram, histogram_labels, histogram=True)

    def record(duration: float) -> None:
        count(1.0)
        observe(duration)

    return record


def _observe(metrics: MetricsCollector, name: str, labels: Labels, value: float) -> None:
    try:
        metrics.observe(name, value, labels)
    except Exception:  # a collector's bug must not fail the call it measures
        _logger.exception("metrics collector %r failed to record %s", metrics, name)


def _increment(metrics: MetricsCollector, name: str, labels: Labels, value: float) -> None:
    try:
        metrics.increment(name, value, labels)
    except Exception:  # a collector's bug must not fail the call it measures
        _logger.exception("metrics collector %r failed to record %s", metrics, name)
