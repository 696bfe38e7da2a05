"""The metrics protocol every component emits through, and the null collector.

The metric names and labels are the catalogue in the metrics how-to; labels are
low-cardinality strings, never ids, URLs or error text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = [
    "BREAKER_CALLS",
    "BREAKER_STATE",
    "BREAKER_TRANSITIONS",
    "CALLS",
    "CALL_DURATION",
    "DEAD_LETTERS",
    "DEAD_LETTER_WRITE_FAILURES",
    "RETRIES",
    "RETRY_GIVE_UPS",
    "Labels",
    "MetricsCollector",
    "NullMetrics",
]

Labels = Mapping[str, str]

# The catalogue's base names (Prometheus adds ``_total`` to counters).
CALLS = "felix_calls"
CALL_DURATION = "felix_call_duration_seconds"
RETRIES = "felix_retries"
RETRY_GIVE_UPS = "felix_retry_give_ups"
BREAKER_STATE = "felix_breaker_state"
BREAKER_TRANSITIONS = "felix_breaker_transitions"
BREAKER_CALLS = "felix_breaker_calls"
DEAD_LETTERS = "felix_dead_letters"
DEAD_LETTER_WRITE_FAILURES = "felix_dead_letter_write_failures"


@runtime_checkable
class MetricsCollector(Protocol):
    """Where counters, histograms and gauges go.

    Implementations: `InMemoryMetrics` (the embedded default), `NullMetrics`,
    ``adapters.prometheus.PrometheusMetrics`` and
    ``adapters.opentelemetry.OpenTelemetryMetrics``.

    .. versionadded:: 0.1.0
    """

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Add *value* to the counter *name*."""
        ...

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Record *value* in the histogram *name*."""
        ...

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Set the gauge *name* to *value*."""
        ...


class NullMetrics:
    """A collector that drops everything.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        """Do nothing."""

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Do nothing."""

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        """Do nothing."""

    def __repr__(self) -> str:
        return "NullMetrics()"
