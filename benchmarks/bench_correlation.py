"""Correlation context rows: request ids, nested bindings and correlated log lines."""

from __future__ import annotations

import contextvars
import logging
import uuid

import structlog
from harness import Case, Row

from felix_reliability import (
    CorrelationFilter,
    CorrelationFormatter,
    RedactingFilter,
    bind_context,
    get_logger,
    new_request_id,
)

MESSAGE = "Order created successfully"
REQUEST_ID = "a1b2c3d4"


class _NullStream:
    """A text stream that drops what it is given, so only the logging work is timed."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _ours(n: int) -> None:
    make = new_request_id
    for _ in range(n):
        make()


def _uuid4_hex(n: int) -> None:
    make = uuid.uuid4
    for _ in range(n):
        make().hex  # noqa: B018 - the attribute access is the work


def _nested_bind(n: int) -> None:
    with bind_context(request_id=REQUEST_ID, orderId=123):
        for index in range(n):
            with bind_context(orderId=index):
                pass


_VAR: contextvars.ContextVar[object] = contextvars.ContextVar("bench_bare", default=None)


def _bare_contextvar(n: int) -> None:
    var = _VAR
    for index in range(n):
        token = var.set(index)
        var.reset(token)


def _empty_loop(n: int) -> None:
    for _ in range(n):
        pass


def _logger(name: str, formatter: logging.Formatter, *filters: logging.Filter) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(_NullStream())
    handler.setFormatter(formatter)
    for item in filters:
        handler.addFilter(item)
    logger.addHandler(handler)
    return logger


def _felix_lines(n: int) -> None:
    _logger("bench.felix", CorrelationFormatter(), CorrelationFilter())
    log = get_logger("bench.felix")
    with bind_context(request_id=REQUEST_ID, orderId=123):
        for _ in range(n):
            log.info(MESSAGE, mechanic="John")


def _felix_redacted_lines(n: int) -> None:
    _logger("bench.redacted", CorrelationFormatter(), CorrelationFilter(), RedactingFilter())
    log = get_logger("bench.redacted")
    with bind_context(request_id=REQUEST_ID, orderId=123):
        for _ in range(n):
            log.info(MESSAGE, mechanic="John")


def _stdlib_lines(n: int) -> None:
    log = _logger("bench.stdlib", logging.Formatter("%(message)s"))
    for _ in range(n):
        log.info(MESSAGE)


def _structlog_lines(n: int) -> None:
    log = structlog.wrap_logger(
        structlog.PrintLogger(_NullStream()),  # type: ignore[arg-type]
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.KeyValueRenderer(key_order=["requestId", "orderId"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    with structlog.contextvars.bound_contextvars(requestId=REQUEST_ID, orderId=123):
        for _ in range(n):
            log.info(MESSAGE, mechanic="John")


def rows() -> list[Row]:
    """Return this module's rows."""
    return [
        Row(
            title="new_request_id() vs uuid.uuid4().hex",
            ours=Case("felix new_request_id", _ours),
            peers=(Case("uuid4().hex", _uuid4_hex),),
            note="issue target: at most 1 microsecond median",
        ),
        Row(
            title="nested bind_context(orderId=...) enter+exit vs ContextVar.set+reset",
            ours=Case("felix nested bind_context", _nested_bind),
            peers=(Case("ContextVar set+reset", _bare_contextvar),),
            baseline=Case("empty loop", _empty_loop),
            note="issue target: at most 1.5 microseconds median; includes building the binding",
        ),
        Row(
            title="correlated log line vs plain logging line (null stream)",
            ours=Case("felix get_logger+filter+fmt", _felix_lines),
            peers=(
                Case("logging %(message)s", _stdlib_lines),
                Case("structlog ctxvars+kv", _structlog_lines),
            ),
            targets={"logging %(message)s": 1.3},
            operations=5_000,
            note="ours with requestId, orderId and a per-line field; stdlib with the message only",
        ),
        Row(
            title="correlated and redacted log line (configure_logging's filters) vs plain logging",
            ours=Case("felix +RedactingFilter", _felix_redacted_lines),
            peers=(Case("logging %(message)s", _stdlib_lines),),
            operations=5_000,
            note="for reference: what redaction adds; no target",
        ),
    ]
