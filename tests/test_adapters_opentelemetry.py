"""OpenTelemetryMetrics against the real SDK, read back with InMemoryMetricReader."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from felix_reliability import MetricsCollector
from felix_reliability._metrics import BREAKER_STATE, CALL_DURATION, CALLS
from felix_reliability.adapters.opentelemetry import OpenTelemetryMetrics

Points = dict[tuple[str, tuple[tuple[str, str], ...]], object]


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def provider(reader: InMemoryMetricReader) -> Iterator[MeterProvider]:
    provider = MeterProvider(metric_readers=[reader])
    yield provider
    provider.shutdown()


def read(reader: InMemoryMetricReader) -> tuple[Points, dict[str, str]]:
    """Return {(name, attributes): point} and {name: unit} from the reader."""
    points: Points = {}
    units: dict[str, str] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                units[metric.name] = metric.unit or ""
                for point in metric.data.data_points:
                    key = tuple(sorted((k, str(v)) for k, v in (point.attributes or {}).items()))
                    points[(metric.name, key)] = point
    return points, units


def test_is_a_metrics_collector(provider: MeterProvider) -> None:
    """OpenTelemetryMetrics satisfies the MetricsCollector protocol."""
    metrics = OpenTelemetryMetrics(provider.get_meter("test"))
    assert isinstance(metrics, MetricsCollector)
    assert repr(metrics).startswith("OpenTelemetryMetrics(meter=")


def test_counter_histogram_and_gauge(provider: MeterProvider, reader: InMemoryMetricReader) -> None:
    """Counters sum, histograms count and sum (unit s), gauges keep the last value."""
    metrics = OpenTelemetryMetrics(provider.get_meter("felix_reliability"))
    metrics.increment(CALLS, labels={"operation": "send", "outcome": "success"})
    metrics.increment(CALLS, 2, {"operation": "send", "outcome": "success"})
    metrics.increment("plain")
    metrics.observe(CALL_DURATION, 0.5, {"operation": "send"})
    metrics.observe(CALL_DURATION, 1.5, {"operation": "send"})
    metrics.observe("plain_histogram", 1.0)
    metrics.set_gauge(BREAKER_STATE, 2, {"breaker": "telegram"})
    metrics.set_gauge(BREAKER_STATE, 1, {"breaker": "telegram"})
    points, units = read(reader)
    calls = points[(CALLS, (("operation", "send"), ("outcome", "success")))]
    assert calls.value == 3  # type: ignore[attr-defined]
    duration = points[(CALL_DURATION, (("operation", "send"),))]
    assert (duration.count, duration.sum) == (2, 2.0)  # type: ignore[attr-defined]
    assert units[CALL_DURATION] == "s"
    assert points[(BREAKER_STATE, (("breaker", "telegram"),))].value == 1  # type: ignore[attr-defined]
    assert points[("plain", ())].value == 1  # type: ignore[attr-defined]


class OldMeter:
    """The SDK meter without create_gauge, as in opentelemetry-api before 1.23."""

    def __init__(self, meter: object) -> None:
        self._meter = meter

    def create_observable_gauge(self, *args: object, **kwargs: object) -> object:
        return self._meter.create_observable_gauge(*args, **kwargs)  # type: ignore[attr-defined]


def test_gauge_falls_back_to_an_observable_gauge(
    provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    """Without Meter.create_gauge, gauges report their last values through a callback."""
    metrics = OpenTelemetryMetrics(OldMeter(provider.get_meter("old")))  # type: ignore[arg-type]
    metrics.set_gauge(BREAKER_STATE, 2, {"breaker": "telegram"})
    metrics.set_gauge(BREAKER_STATE, 0, {"breaker": "telegram"})
    metrics.set_gauge(BREAKER_STATE, 1, {"breaker": "db"})
    points, _ = read(reader)
    assert points[(BREAKER_STATE, (("breaker", "telegram"),))].value == 0  # type: ignore[attr-defined]
    assert points[(BREAKER_STATE, (("breaker", "db"),))].value == 1  # type: ignore[attr-defined]


def test_creation_race_keeps_the_first_instrument(provider: MeterProvider) -> None:
    """Creating an instrument another thread just created returns the existing one."""
    metrics = OpenTelemetryMetrics(provider.get_meter("race"))
    metrics.increment(CALLS)
    table = metrics._counters
    assert table[CALLS] is metrics._create(table, CALLS, metrics._counter)
