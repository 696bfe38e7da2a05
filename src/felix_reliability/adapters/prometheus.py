"""Send felix-reliability metrics to prometheus_client.

`PrometheusMetrics` creates each metric the first time it is recorded, once
per registry: any number of collectors (or tests) sharing a registry share
the same metric objects, so prometheus_client never raises "Duplicated
timeseries".

Needs the ``prometheus`` extra (``prometheus-client``).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar, get_args

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from felix_reliability._metrics import (
    BREAKER_CALLS,
    BREAKER_STATE,
    BREAKER_TRANSITIONS,
    CALL_DURATION,
    CALLS,
    DEAD_LETTER_WRITE_FAILURES,
    DEAD_LETTERS,
    RETRIES,
    RETRY_GIVE_UPS,
    Labels,
)

__all__ = ["CATALOGUE", "PrometheusMetrics"]

_M = TypeVar("_M", Counter, Histogram, Gauge)

#: The label names and help text of each catalogue metric, by base name.
CATALOGUE: Mapping[str, tuple[tuple[str, ...], str]] = {
    CALLS: (("operation", "outcome"), "Guarded calls by operation and outcome."),
    CALL_DURATION: (("operation",), "Duration of guarded calls in seconds."),
    RETRIES: (("operation", "delay_source"), "Retry waits by operation and delay source."),
    RETRY_GIVE_UPS: (("operation", "reason"), "Retry policies that gave up, by reason."),
    BREAKER_STATE: (("breaker",), "Circuit breaker state: 0 closed, 1 half-open, 2 open."),
    BREAKER_TRANSITIONS: (("breaker", "to_state"), "Circuit breaker transitions."),
    BREAKER_CALLS: (("breaker", "outcome"), "Calls through circuit breakers by outcome."),
    DEAD_LETTERS: (("operation", "reason"), "Dead letters written, by operation and reason."),
    DEAD_LETTER_WRITE_FAILURES: (("sink",), "Dead letters that could not be written."),
}

_GaugeMode = Literal[
    "all",
    "liveall",
    "min",
    "livemin",
    "max",
    "livemax",
    "sum",
    "livesum",
    "mostrecent",
    "livemostrecent",
]
_GAUGE_MODES: frozenset[str] = frozenset(get_args(_GaugeMode))


class _Shared:
    """The metric objects of one registry, by kind, with their label names."""

    __slots__ = ("counters", "gauges", "histograms")

    def __init__(self) -> None:
        self.counters: dict[str, tuple[Counter, tuple[str, ...]]] = {}
        self.histograms: dict[str, tuple[Histogram, tuple[str, ...]]] = {}
        self.gauges: dict[str, tuple[Gauge, tuple[str, ...]]] = {}


# One set of metric objects per registry, shared by every PrometheusMetrics on it.
_SHARED: weakref.WeakKeyDictionary[CollectorRegistry, _Shared] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _label_names(name: str, labels: Labels | None) -> tuple[tuple[str, ...], str]:
    return CATALOGUE.get(name, (tuple(sorted(labels or {})), f"felix-reliability metric {name}."))


def _values(names: tuple[str, ...], labels: Labels | None) -> list[str]:
    given = labels or {}
    return [given.get(label, "") for label in names]


class PrometheusMetrics:
    """A `MetricsCollector` writing to a prometheus_client registry.

    Counters are created as ``Counter(name)``, so prometheus_client exposes
    them with the ``_total`` suffix (``felix_calls_total``). The label names
    of a catalogue metric are fixed by the catalogue (`CATALOGUE`); a metric
    outside it takes the sorted label names of its first record. On a
    mismatch nothing raises: a label the metric does not have is dropped and
    a missing one is exported as the empty string. Recording one name as two
    kinds (say a counter and a gauge) raises prometheus_client's
    ``ValueError: Duplicated timeseries``.

    Multiprocess mode (gunicorn): set ``PROMETHEUS_MULTIPROC_DIR`` to an
    empty directory before prometheus_client is imported, expose a fresh
    registry with ``multiprocess.MultiProcessCollector`` at ``/metrics``,
    and call ``multiprocess.mark_process_dead(worker.pid)`` from gunicorn's
    ``child_exit`` hook. Gauges then aggregate by *gauge_mode*: the default
    ``"livemax"`` reports, for each breaker, the worst state among live
    workers.

    Args:
        registry: Where metrics are registered (default: prometheus_client's
            global ``REGISTRY``).
        gauge_mode: prometheus_client's ``multiprocess_mode`` for gauges.

    Raises:
        ValueError: If *gauge_mode* is not one prometheus_client knows.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_gauge_mode", "_registry", "_shared")

    def __init__(
        self, registry: CollectorRegistry | None = None, *, gauge_mode: _GaugeMode = "livemax"
    ) -> None:
        if gauge_mode not in _GAUGE_MODES:
            raise ValueError(
                f"gauge_mode must be one of {sorted(_GAUGE_MODES)}, got {gauge_mode!r}"
            )
        self._registry = REGISTRY if registry is None else registry
        self._gauge_mode: _GaugeMode = gauge_mode
        with _LOCK:
            self._shared = _SHARED.setdefault(self._registry, _Shared())

    @property
    def registry(self) -> CollectorRegistry:
        """Return the registry the metrics live in."""
        return self._registry

    def _create(
        self,
        table: dict[str, tuple[_M, tuple[str, ...]]],
        name: str,
        labels: Labels | None,
        make: Callable[[str, str, tuple[str, ...]], _M],
    ) -> tuple[_M, tuple[str, ...]]:
        """Create *name* once; another thread may have created it meanwhile."""
        with _LOCK:
            entry = table.get(name)
            if entry is None:
                names, help_text = _label_names(name, labels)
                entry = table[name] = (make(name, help_text, names), names)
            return entry

    def _counter(self, name: str, help_text: str, names: tuple[str, ...]) -> Counter:
        return Counter(name, help_text, names, registry=self._registry)

    def _histogram(self, name: str, help_text: str, names: tuple[str, ...]) -> Histogram:
        return Histogram(name, help_text, names, registry=self._registry)

    def _gauge(self, name: str, help_text: str, names: tuple[str, ...]) -> Gauge:
        return Gauge(
            name, help_text, names, registry=self._registry, multiprocess_mode=self._gauge_mode
        )

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Add *value* to the counter *name* (exported as ``<name>_total``)."""
        table = self._shared.counters
        entry = table.get(name) or self._create(table, name, labels, self._counter)
        metric, names = entry
        (metric.labels(*_values(names, labels)) if names else metric).inc(value)

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Record *value* in the histogram *name*."""
        table = self._shared.histograms
        entry = table.get(name) or self._create(table, name, labels, self._histogram)
        metric, names = entry
        (metric.labels(*_values(names, labels)) if names else metric).observe(value)

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Set the gauge *name* to *value*."""
        table = self._shared.gauges
        entry = table.get(name) or self._create(table, name, labels, self._gauge)
        metric, names = entry
        (metric.labels(*_values(names, labels)) if names else metric).set(value)

    def __repr__(self) -> str:
        return f"PrometheusMetrics(registry={self._registry!r})"
