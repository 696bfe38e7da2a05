"""felix-reliability: dependable calls to flaky remote APIs.

A circuit breaker, a retry policy that honors server-given delays,
correlation-id logging, replayable dead letters, metrics with alert rules and
a health report, and small adapters for Flask, Telegram, Prometheus,
OpenTelemetry, Redis, SQLAlchemy and structlog.
"""

from __future__ import annotations

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._correlation import (
    bind_context,
    current_request_id,
    get_context,
    new_request_id,
    propagate,
    sanitize_request_id,
)
from felix_reliability._dead_letters import (
    DeadLetter,
    DeadLetterReason,
    DeadLetterSink,
    DeadLetterStore,
    JsonlDeadLetterSink,
    LoggingDeadLetterSink,
    MemoryDeadLetterStore,
    open_dead_letter_store,
    read_jsonl_letters,
)
from felix_reliability._metrics import MetricsCollector, NullMetrics
from felix_reliability._replay import ReplayReport, replay_dead_letters
from felix_reliability._secrets import Secret, redact
from felix_reliability._sqlite import SQLiteDeadLetterStore

__all__ = [
    "Clock",
    "DeadLetter",
    "DeadLetterReason",
    "DeadLetterSink",
    "DeadLetterStore",
    "JsonlDeadLetterSink",
    "LoggingDeadLetterSink",
    "MemoryDeadLetterStore",
    "MetricsCollector",
    "NullMetrics",
    "ReplayReport",
    "SQLiteDeadLetterStore",
    "Secret",
    "SystemClock",
    "bind_context",
    "current_request_id",
    "get_context",
    "new_request_id",
    "open_dead_letter_store",
    "propagate",
    "read_jsonl_letters",
    "redact",
    "replay_dead_letters",
    "sanitize_request_id",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - read metadata only when asked

        return version("felix-reliability")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
