"""Correlated logging as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

import io
import logging
from typing import assert_type

import structlog

from felix_reliability import (
    CorrelationFilter,
    CorrelationFormatter,
    CorrelationLogger,
    JsonFormatter,
    RedactingFilter,
    bind_context,
    configure_logging,
    current_trace_id,
    get_logger,
)
from felix_reliability.adapters.structlog import merge_context

handler: logging.Handler = configure_logging("DEBUG", json=True, stream=io.StringIO())
configure_logging(logging.INFO)

custom = logging.StreamHandler()
custom.addFilter(CorrelationFilter())
custom.addFilter(RedactingFilter())
custom.setFormatter(CorrelationFormatter("%(levelname)s %(correlation)s %(message)s"))
custom.setFormatter(CorrelationFormatter(max_value_length=80))
custom.setFormatter(JsonFormatter(max_value_length=500))

log = get_logger(__name__)
assert_type(log, CorrelationLogger)
assert_type(log.logger, logging.Logger)
with bind_context(request_id="a1b2c3d4", orderId=123):
    log.info("Order created successfully", mechanic="John")
    log.debug("sent %d messages", 3, chat=42)
    log.warning("slow", stacklevel=2, extra={"custom": 1})
    log.log(logging.ERROR, "failed", exc_info=ValueError("x"))
    try:
        log.error("down")
    except ValueError:
        log.exception("boom", stack_info=True)
        log.critical("down", exc_info=True)

assert_type(current_trace_id(), str | None)
assert_type(log.isEnabledFor(logging.INFO), bool)
assert_type(CorrelationFormatter().correlation(logging.makeLogRecord({})), str)

structlog.configure(processors=[merge_context, structlog.processors.JSONRenderer()])
