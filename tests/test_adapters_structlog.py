"""The structlog processor that merges the felix context into event dicts."""

from __future__ import annotations

import io

import structlog
from opentelemetry.sdk.trace import TracerProvider

from felix_reliability import bind_context
from felix_reliability.adapters.structlog import merge_context


def _logger(buffer: io.StringIO) -> structlog.typing.FilteringBoundLogger:
    return structlog.wrap_logger(  # type: ignore[no-any-return]
        structlog.PrintLogger(buffer),
        processors=[merge_context, structlog.processors.KeyValueRenderer()],
    )


def test_the_bound_context_reaches_structlog_events() -> None:
    """requestId and the bound fields are added to each event."""
    buffer = io.StringIO()
    with bind_context(request_id="a1b2c3d4", orderId=123):
        _logger(buffer).info("created", mechanic="John")
    assert buffer.getvalue() == (
        "mechanic='John' event='created' requestId='a1b2c3d4' orderId=123\n"
    )


def test_keys_of_the_event_win() -> None:
    """An event key with a bound name keeps the event's value."""
    event = {"event": "x", "orderId": 9, "requestId": "mine"}
    with bind_context(request_id="r1", orderId=1):
        result = merge_context(None, "info", event)
    assert result == {"event": "x", "orderId": 9, "requestId": "mine"}


def test_no_binding_adds_nothing() -> None:
    """Outside a binding the event is unchanged."""
    assert merge_context(None, "info", {"event": "x"}) == {"event": "x"}


def test_an_active_span_adds_its_trace_id() -> None:
    """Inside a real OpenTelemetry SDK span the event gets traceId."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        result = merge_context(None, "info", {"event": "x"})
    assert result == {"event": "x", "traceId": f"{span.get_span_context().trace_id:032x}"}
