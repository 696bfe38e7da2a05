"""structlog integration: put the felix correlation context into structlog event dicts.

Add `merge_context` to structlog's processors (before the renderer) and every
event carries ``requestId``, the fields bound with
`felix_reliability.bind_context` and, when an OpenTelemetry span is active,
``traceId``; keys the event already has win.

The processor needs nothing from structlog at run time, so this module does not
import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from felix_reliability._correlation import context_state
from felix_reliability._logging import current_trace_id

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

__all__ = ["merge_context"]


def merge_context(_logger: WrappedLogger, _method_name: str, event_dict: EventDict) -> EventDict:
    """Add the felix correlation context to *event_dict* (a structlog processor).

    Adds ``requestId`` when one is bound, each bound field and ``traceId``
    when an OpenTelemetry span is active, without overwriting keys the event
    already has.

    Args:
        _logger: The wrapped logger (unused).
        _method_name: The name of the log method called (unused).
        event_dict: The event being processed.

    Returns:
        The same *event_dict*, with the context added.

    >>> import structlog
    >>> from felix_reliability.adapters.structlog import merge_context
    >>> log = structlog.wrap_logger(
    ...     structlog.PrintLogger(),
    ...     processors=[merge_context, structlog.processors.KeyValueRenderer()],
    ... )
    >>> with bind_context(request_id="a1b2c3d4", orderId=123):
    ...     log.info("created")
    event='created' requestId='a1b2c3d4' orderId=123

    .. versionadded:: 0.1.0
    """
    request_id, fields = context_state()
    if request_id is not None:
        event_dict.setdefault("requestId", request_id)
    for key, value in fields.items():
        event_dict.setdefault(key, value)
    trace_id = current_trace_id()
    if trace_id is not None:
        event_dict.setdefault("traceId", trace_id)
    return event_dict
