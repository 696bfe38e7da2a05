"""felix-reliability: dependable calls to flaky remote APIs.

A circuit breaker, a retry policy that honors server-given delays,
correlation-id logging, replayable dead letters, metrics with alert rules and
a health report, and small adapters for Flask, Telegram, Prometheus,
OpenTelemetry, Redis, SQLAlchemy and structlog.
"""

from __future__ import annotations

from felix_reliability._backoff import Backoff
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._correlation import (
    bind_context,
    current_request_id,
    get_context,
    new_request_id,
    propagate,
    sanitize_request_id,
)
from felix_reliability._metrics import MetricsCollector, NullMetrics
from felix_reliability._retry import (
    GiveUpReason,
    RetryAttempt,
    RetryBudget,
    RetryPolicy,
    RetryState,
    retry,
)
from felix_reliability._retry_after import parse_retry_after
from felix_reliability._secrets import Secret, redact

__all__ = [
    "Backoff",
    "Clock",
    "GiveUpReason",
    "MetricsCollector",
    "NullMetrics",
    "RetryAttempt",
    "RetryBudget",
    "RetryPolicy",
    "RetryState",
    "Secret",
    "SystemClock",
    "bind_context",
    "current_request_id",
    "get_context",
    "new_request_id",
    "parse_retry_after",
    "propagate",
    "redact",
    "retry",
    "sanitize_request_id",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - read metadata only when asked

        return version("felix-reliability")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
