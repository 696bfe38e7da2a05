"""Metrics and health as a user writes them; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import assert_type

import attrs
from opentelemetry.metrics import get_meter
from prometheus_client import CollectorRegistry

from felix_reliability import (
    Alert,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    BreakerOpenRule,
    BurnRatePair,
    BurnRateRule,
    CheckRule,
    DeadLetterBacklogRule,
    FailureSpikeRule,
    HealthMonitor,
    HealthReport,
    HealthStatus,
    InMemoryMetrics,
    MetricsCollector,
    SuccessRateRule,
)
from felix_reliability.adapters.opentelemetry import OpenTelemetryMetrics
from felix_reliability.adapters.prometheus import PrometheusMetrics
from felix_reliability.testing import FakeClock

metrics = InMemoryMetrics(clock=FakeClock())
collectors: list[MetricsCollector] = [
    metrics,
    PrometheusMetrics(CollectorRegistry()),
    PrometheusMetrics(gauge_mode="livesum"),
    OpenTelemetryMetrics(get_meter("felix_hub")),
]
for collector in collectors:
    collector.increment("felix_calls", labels={"operation": "send", "outcome": "success"})

assert_type(metrics.total("felix_calls", {"operation": "send"}, window=3600), float)
assert_type(metrics.success_rate("felix_calls", window=3600), float | None)
assert_type(metrics.series("felix_calls", step=3600, count=24), list[float])
assert_type(metrics.gauge("felix_breaker_state", {"breaker": "telegram"}), float | None)


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"


@attrs.frozen
class Snapshot:
    name: str
    state: State


class Registry:
    def snapshots(self) -> list[Snapshot]:
        return [Snapshot("telegram", State.OPEN)]


class Store:
    def count(self) -> int:
        return 3


@attrs.frozen
class OrdersStuck:
    name: str = "orders_stuck"

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        total = metrics.total("orders", {"status": "new"})
        if total > 5:
            return [Alert(self.name, AlertSeverity.WARNING, "orders stuck", total, 5)]
        return []


def notify(event: AlertEvent) -> None:
    print(event.change.value, event.alert.name)  # noqa: T201 - a user's callback


rules: list[AlertRule] = [
    SuccessRateRule(labels={"operation": "telegram.send_message"}),
    FailureSpikeRule(critical_at=5),
    BreakerOpenRule(Registry()),
    DeadLetterBacklogRule(Store(), critical_above=50),
    CheckRule("stuck_orders", lambda: 2.0, above=0, severity=AlertSeverity.CRITICAL),
    BurnRateRule(slo=0.995, pairs=(BurnRatePair(3600, 300, 14.4),)),
    OrdersStuck(),
]
monitor = HealthMonitor(
    metrics=metrics,
    rules=rules,
    checks={"db": lambda: True},
    check_timeout=1.0,
    on_alert=[notify],
)
report = monitor.evaluate()
assert_type(report, HealthReport)
assert_type(report.http_status, int)
assert_type(report.status, HealthStatus)
assert_type(report.to_dict(), dict[str, object])
monitor.start(interval=30.0)
monitor.stop()
