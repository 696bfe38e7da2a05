"""felix-reliability: dependable calls to flaky remote APIs.

A circuit breaker, a retry policy that honors server-given delays,
correlation-id logging, replayable dead letters, metrics with alert rules and
a health report, and small adapters for Flask, Telegram, Prometheus,
OpenTelemetry, Redis, SQLAlchemy and structlog.
"""

from __future__ import annotations

from felix_reliability._backoff import Backoff
from felix_reliability._breaker import (
    BreakerEvent,
    BreakerListener,
    BreakerPermit,
    BreakerRegistry,
    BreakerSnapshot,
    CallFailed,
    CallIgnored,
    CallRejected,
    CallSucceeded,
    CircuitBreaker,
    ConsecutiveFailures,
    FailureRate,
    Outcome,
    StateChanged,
    TimeWindow,
)
from felix_reliability._breaker_store import (
    AsyncBreakerStore,
    BreakerState,
    BreakerStore,
    ProbeGrant,
    SharedState,
)
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
from felix_reliability._guard import Guard
from felix_reliability._health import (
    Alert,
    AlertChange,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    BreakerOpenRule,
    BurnRatePair,
    BurnRateRule,
    CheckResult,
    CheckRule,
    DeadLetterBacklogRule,
    FailureSpikeRule,
    HealthMonitor,
    HealthReport,
    HealthStatus,
    SuccessRateRule,
)
from felix_reliability._in_memory_metrics import InMemoryMetrics
from felix_reliability._logging import (
    CorrelationFilter,
    CorrelationFormatter,
    CorrelationLogger,
    JsonFormatter,
    RedactingFilter,
    configure_logging,
    current_trace_id,
    get_logger,
)
from felix_reliability._metrics import MetricsCollector, NullMetrics
from felix_reliability._replay import ReplayReport, replay_dead_letters
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
from felix_reliability._sqlite import SQLiteDeadLetterStore

__all__ = [
    "Alert",
    "AlertChange",
    "AlertEvent",
    "AlertRule",
    "AlertSeverity",
    "AsyncBreakerStore",
    "Backoff",
    "BreakerEvent",
    "BreakerListener",
    "BreakerOpenRule",
    "BreakerPermit",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerStore",
    "BurnRatePair",
    "BurnRateRule",
    "CallFailed",
    "CallIgnored",
    "CallRejected",
    "CallSucceeded",
    "CheckResult",
    "CheckRule",
    "CircuitBreaker",
    "Clock",
    "ConsecutiveFailures",
    "CorrelationFilter",
    "CorrelationFormatter",
    "CorrelationLogger",
    "DeadLetter",
    "DeadLetterBacklogRule",
    "DeadLetterReason",
    "DeadLetterSink",
    "DeadLetterStore",
    "FailureRate",
    "FailureSpikeRule",
    "GiveUpReason",
    "Guard",
    "HealthMonitor",
    "HealthReport",
    "HealthStatus",
    "InMemoryMetrics",
    "JsonFormatter",
    "JsonlDeadLetterSink",
    "LoggingDeadLetterSink",
    "MemoryDeadLetterStore",
    "MetricsCollector",
    "NullMetrics",
    "Outcome",
    "ProbeGrant",
    "RedactingFilter",
    "ReplayReport",
    "RetryAttempt",
    "RetryBudget",
    "RetryPolicy",
    "RetryState",
    "SQLiteDeadLetterStore",
    "Secret",
    "SharedState",
    "StateChanged",
    "SuccessRateRule",
    "SystemClock",
    "TimeWindow",
    "bind_context",
    "configure_logging",
    "current_request_id",
    "current_trace_id",
    "get_context",
    "get_logger",
    "new_request_id",
    "open_dead_letter_store",
    "parse_retry_after",
    "propagate",
    "read_jsonl_letters",
    "redact",
    "replay_dead_letters",
    "retry",
    "sanitize_request_id",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - read metadata only when asked

        return version("felix-reliability")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
