"""Send felix-reliability metrics to an OpenTelemetry meter.

Needs the ``otel`` extra (``opentelemetry-api``; an SDK or exporter of your
choice does the exporting).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, Observation

from felix_reliability._metrics import CALL_DURATION, Labels

__all__ = ["OpenTelemetryMetrics"]

_UNITS = {CALL_DURATION: "s"}


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

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Add *value* to the counter *name*."""
        counter = self._counters.get(name)
        if counter is None:
            with self._lock:
                counter = self._counters.get(name)
                if counter is None:
                    counter = self._meter.create_counter(name, unit=_UNITS.get(name, ""))
                    self._counters[name] = counter
        counter.add(value, dict(labels or {}))

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Record *value* in the histogram *name*."""
        histogram = self._histograms.get(name)
        if histogram is None:
            with self._lock:
                histogram = self._histograms.get(name)
                if histogram is None:
                    histogram = self._meter.create_histogram(name, unit=_UNITS.get(name, ""))
                    self._histograms[name] = histogram
        histogram.record(value, dict(labels or {}))

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Set the gauge *name* to *value*."""
        gauge = self._gauges.get(name)
        if gauge is None:
            with self._lock:
                gauge = self._gauges.get(name)
                if gauge is None:
                    create = getattr(self._meter, "create_gauge", None)
                    gauge = (
                        _ObservedGauge(self._meter, name)
                        if create is None
                        else _SyncGauge(create(name, unit=_UNITS.get(name, "")))
                    )
                    self._gauges[name] = gauge
        gauge.set(value, dict(labels or {}))

    def __repr__(self) -> str:
        return f"OpenTelemetryMetrics(meter={self._meter!r})"
