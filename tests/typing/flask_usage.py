"""The Flask extension as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import Flask
from prometheus_client import CollectorRegistry

from felix_reliability import (
    BreakerRegistry,
    HealthMonitor,
    InMemoryMetrics,
    MemoryDeadLetterStore,
    SQLiteDeadLetterStore,
)
from felix_reliability.adapters.flask import CounterSource, FelixReliability, MetricsCounterSource
from felix_reliability.testing import FakeClock


class OrderCounts:
    """A counter source over an application's database."""

    def counts(
        self, name: str, periods: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[float] | None:
        if name != "orders":
            return None
        return [0.0 for _ in periods]


metrics = InMemoryMetrics(clock=FakeClock())
source: CounterSource = OrderCounts()
default_source: CounterSource = MetricsCounterSource(metrics)

app = Flask("felix_hub")
reliability = FelixReliability(
    app,
    monitor=HealthMonitor(metrics=metrics),
    registry=BreakerRegistry(),
    metrics=metrics,
    dead_letters=MemoryDeadLetterStore(),
    counters=source,
    prometheus_registry=CollectorRegistry(),
    clock=FakeClock(),
)

factory_extension = FelixReliability(dead_letters=SQLiteDeadLetterStore(":memory:"))


def create_app() -> Flask:
    """An application factory."""
    created = Flask("created")
    factory_extension.init_app(created)
    return created


in_memory: InMemoryMetrics = reliability.metrics
