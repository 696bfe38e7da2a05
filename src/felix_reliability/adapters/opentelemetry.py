"""Send felix-reliability metrics to an OpenTelemetry meter.

Needs the ``otel`` extra (``opentelemetry-api``; an SDK or exporter of your
choice does the exporting).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, Observation

from felix_reliability._metrics import CALL_DURATION, Labels

__all__ = ["OpenTelemetryMetrics"]

_UNITS = {CALL_DURATION: "s"}
_I = TypeVar("_I")


class _SyncGauge:
    """Whatever ``Meter.create_gauge`` returns (opentelemetry-api >= 1.23)."""

    def __init__(self, instrument: object) -> None:
        self._set = getattr(instrument, "set")  # noqa: B009 - the type depends on the API version

    def set(self, value: float, attributes: dict[str, str]) -> None:
        self._set(value, attributes)


class _ObservedGauge:
    """A gauge for older APIs: the last values, reported by an observable gauge."""

    def __init__(self, meter: Meter, name: str) -> None:
        self._values: dict[tuple[tuple[str, str], ...], float] = {}
        self._lock = threading.Lock()
        meter.create_observable_gauge(name, callbacks=[self._observe], unit=_UNITS.get(name, ""))

    def set(self, value: float, attributes: dict[str, str]) -> None:
        with self._lock:
            self._values[tuple(sorted(attributes.items()))] = value

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:  # noqa: ARG002 - API
        with self._lock:
            return [Observation(value, dict(key)) for key, value in self._values.items()]


class OpenTelemetryMetrics:
    """A `MetricsCollector` writing to an OpenTelemetry `Meter`.

    Counters become ``Counter`` instruments, histograms ``Histogram`` ones
    (``felix_call_duration_seconds`` with unit ``s``) and gauges a synchronous
    ``Gauge`` when the installed API has ``Meter.create_gauge``
    (opentelemetry-api 1.23 and later), else an observable gauge reporting
    the last value set for each label set. Instruments are created on first
    use, once per collector; labels become attributes.

    Args:
        meter: From ``opentelemetry.metrics.get_meter("felix_reliability")``
            or a ``MeterProvider``.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_counters", "_gauges", "_histograms", "_lock", "_meter")

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._lock = threading.Lock()
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        self._gauges: dict[str, _SyncGauge | _ObservedGauge] = {}

    def _create(self, table: dict[str, _I], name: str, make: Callable[[str], _I]) -> _I:
        """Create *name* once; another thread may have created it meanwhile."""
        with self._lock:
            instrument = table.get(name)
            if instrument is None:
                instrument = table[name] = make(name)
            return instrument

    def _counter(self, name: str) -> Counter:
        return self._meter.create_counter(name, unit=_UNITS.get(name, ""))

    def _histogram(self, name: str) -> Histogram:
        return self._meter.create_histogram(name, unit=_UNITS.get(name, ""))

    def _gauge(self, name: str) -> _SyncGauge | _ObservedGauge:
        create = getattr(self._meter, "create_gauge", None)
        if create is None:
            return _ObservedGauge(self._meter, name)
        return _SyncGauge(create(name, unit=_UNITS.get(name, "")))

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Add *value* to the counter *name*."""
        table = self._counters
        counter = table.get(name) or self._create(table, name, self._counter)
        counter.add(value, dict(labels or {}))

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Record *value* in the histogram *name*."""
        table = self._histograms
        histogram = table.get(name) or self._create(table, name, self._histogram)
        histogram.record(value, dict(labels or {}))

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Set the gauge *name* to *value*."""
        table = self._gauges
        gauge = table.get(name) or self._create(table, name, self._gauge)
        gauge.set(value, dict(labels or {}))

    def __repr__(self) -> str:
        return f"OpenTelemetryMetrics(meter={self._meter!r})"
