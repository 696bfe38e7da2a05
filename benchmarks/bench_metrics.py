"""Metrics rows: InMemoryMetrics.increment against prometheus_client; evaluate() cost."""

from __future__ import annotations

from harness import Case, Row
from prometheus_client import CollectorRegistry, Counter

from felix_reliability import HealthMonitor, InMemoryMetrics, SystemClock
from felix_reliability.testing import FakeClock

_LABELS = {"operation": "telegram.send_message"}


def _ours(n: int) -> None:
    increment = InMemoryMetrics(clock=SystemClock()).increment
    labels = _LABELS
    for _ in range(n):
        increment("felix_calls", labels=labels)


def _prometheus(n: int) -> None:
    counter = Counter("felix_calls", "calls", ["operation"], registry=CollectorRegistry())
    for _ in range(n):
        counter.labels("telegram.send_message").inc()


def _busy_day() -> HealthMonitor:
    """A monitor with the default rules over a full day of minute buckets, 4 series."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    for minute in range(1_440):
        for operation in ("telegram.send_message", "orders.create"):
            metrics.increment("felix_calls", 30, {"operation": operation, "outcome": "success"})
            if minute % 7 == 0:
                metrics.increment("felix_calls", 1, {"operation": operation, "outcome": "failure"})
        clock.advance(60)
    return HealthMonitor(metrics=metrics, clock=clock)


_MONITOR = _busy_day()


def _evaluate(n: int) -> None:
    evaluate = _MONITOR.evaluate
    for _ in range(n):
        evaluate()


def rows() -> list[Row]:
    """Return this module's rows."""
    return [
        Row(
            title="InMemoryMetrics.increment (1 label) vs prometheus Counter.labels().inc()",
            ours=Case("felix increment", _ours),
            peers=(Case("prometheus", _prometheus),),
            targets={"prometheus": 0.75},
            operations=50_000,
            note="issue target: at most 0.75x prometheus_client",
        ),
        Row(
            title="HealthMonitor.evaluate() default rules, a day of minute buckets",
            ours=Case("felix evaluate", _evaluate),
            operations=200,
            note="reported, no target: 3 rules, 4 series, 1440 minutes recorded",
        ),
    ]
