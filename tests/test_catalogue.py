"""The components emit the metric catalogue, and health reads it back (integration)."""

from __future__ import annotations

import pytest

from felix_reliability import (
    BreakerOpenRule,
    BreakerRegistry,
    CircuitBreaker,
    HealthMonitor,
    HealthStatus,
    InMemoryMetrics,
)
from felix_reliability.adapters.prometheus import CATALOGUE
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock


def _fail() -> None:
    raise ConnectionError("telegram unreachable")


def test_a_tripping_breaker_shows_up_in_the_catalogue() -> None:
    """Failures, the trip, the rejection and the state gauge carry the catalogue's labels."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    breaker = CircuitBreaker(name="telegram", failure_threshold=2, clock=clock, metrics=metrics)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(_fail)
    with pytest.raises(CircuitOpenError):
        breaker.call(_fail)

    telegram = {"breaker": "telegram"}
    assert metrics.total("felix_breaker_calls", {**telegram, "outcome": "failure"}) == 2
    assert metrics.total("felix_breaker_calls", {**telegram, "outcome": "rejected"}) == 1
    assert metrics.total("felix_breaker_transitions", {**telegram, "to_state": "open"}) == 1
    assert metrics.gauge("felix_breaker_state", {"breaker": "telegram"}) == 2.0
    for name in ("felix_breaker_calls", "felix_breaker_transitions", "felix_breaker_state"):
        for labels in metrics.label_sets(name):
            assert set(labels) == set(CATALOGUE[name][0])


def test_an_open_breaker_in_a_registry_warns_in_health() -> None:
    """BreakerOpenRule over a real registry warns while the breaker is open, and clears after."""
    clock = FakeClock()
    registry = BreakerRegistry()
    breaker = CircuitBreaker(name="telegram", failure_threshold=1, success_threshold=1, clock=clock)
    registry.register(breaker)
    monitor = HealthMonitor(metrics=InMemoryMetrics(clock=clock), rules=[BreakerOpenRule(registry)])
    assert monitor.evaluate().status is HealthStatus.PASS
    with pytest.raises(ConnectionError):
        breaker.call(_fail)
    report = monitor.evaluate()
    assert report.status is HealthStatus.WARN
    assert [alert.name for alert in report.alerts] == ["breaker_open:telegram"]
    clock.advance(120.0)
    breaker.call(lambda: None)
    assert monitor.evaluate().status is HealthStatus.PASS
