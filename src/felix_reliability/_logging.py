"""Log lines that carry the correlation context, safely and cheaply.

`CorrelationFilter` copies the bound context onto each record;
`CorrelationFormatter` renders it as ``[requestId=...] [key=value, ...] message``
and `JsonFormatter` as one JSON object per line. `get_logger` returns a logger
that takes per-line fields as keyword arguments. `RedactingFilter` masks secret
shapes in everything a handler is about to write, and `configure_logging` wires
it all onto the root logger in one call.

Nothing a caller logs can forge a field or a line: field values and keys are
quoted and escaped when they hold a separator, and the text formatter escapes
control characters in the message.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Final, TypeAlias, cast

from felix_reliability._correlation import _STATE  # pyright: ignore[reportPrivateUsage] - one read per record
from felix_reliability._secrets import DEFAULT_SECRET_KEYS, MASK, redact
from felix_reliability._validation import check_positive_int

__all__ = [
    "CorrelationFilter",
    "CorrelationFormatter",
    "CorrelationLogger",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "current_trace_id",
    "get_logger",
]

#: The record attribute that holds the per-line fields given to `CorrelationLogger`.
FIELDS_ATTRIBUTE: Final = "felix_fields"
#: The record attribute where the filter keeps what it saw (and marks the record as seen).
_PARTS_ATTRIBUTE: Final = "_felix_parts"
#: Field values longer than this are cut and marked.
DEFAULT_MAX_VALUE_LENGTH: Final = 200
#: JSON keys that fields never overwrite.
_JSON_RESERVED: Final = frozenset(
    {"time", "level", "logger", "message", "requestId", "exception", "stack"}
)

# Characters that split a line for str.splitlines() or a terminal: C0, DEL, C1, U+2028/9.
_LINE_BREAKING: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NEEDS_QUOTES: Final = re.compile('[\\s,=\\[\\]"\x00-\x1f\x7f-\x9f\u2028\u2029]')
_QUOTED_ESCAPES: Final = re.compile('[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029]')
_SHORT_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}

_ExcInfo: TypeAlias = (
    bool
    | BaseException
    | tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None]
    | None
)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"  # noqa: PLR2004 - byte range


def escape_message(message: str) -> str:
    r"""Return *message* with control and line-separator characters written as escapes.

    ``\n`` becomes the two characters backslash and ``n``; other control
    characters become ``\xNN`` and U+2028/U+2029 become ``\u2028``/``\u2029``.
    """
    if message.isprintable():
        return message
    return _LINE_BREAKING.sub(_escape_char, message)


def _text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the log line
        return f"<unprintable {type(value).__name__}>"


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...(+{len(text) - limit} chars)"


def render_value(value: object, limit: int = DEFAULT_MAX_VALUE_LENGTH) -> str:
    """Render one field key or value for the text format, quoting it when it needs quotes."""
    if type(value) is str:  # exact types only: a subclass may override __str__
        if len(value) <= limit and value.isalnum():
            return value
        text = _truncate(value, limit)
    else:
        # Not str(): an int of over 4300 digits raises ValueError.
        text = _truncate(_text(value), limit)
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + _QUOTED_ESCAPES.sub(_escape_char, text) + '"'


def _render_pair(key: str, value: object, limit: int) -> str:
    if type(value) is str and value.isalnum() and len(value) <= limit:
        text = value
    else:
        text = render_value(value, limit)
    if key.isidentifier() and len(key) <= limit:
        return f"{key}={text}"
    return f"{render_value(key, limit)}={text}"


def _render_fields(fields: Mapping[str, object], limit: int) -> str:
    if len(fields) == 1:  # the common case, without building a list
        [(key, value)] = fields.items()
        return _render_pair(key, value, limit)
    return ", ".join([_render_pair(key, value, limit) for key, value in fields.items()])


def current_trace_id() -> str | None:
    """Return the trace id of the active OpenTelemetry span as 32 hex characters, or `None`.

    `None` when OpenTelemetry is not installed, not imported yet (so no span
    can be active), or no valid span is current. OpenTelemetry is never
    imported by this function.

    .. versionadded:: 0.1.0
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"{span_context.trace_id:032x}"


def _otel_context_may_hold_a_span() -> bool:
    """Say cheaply whether OpenTelemetry's current context could hold a span.

    Asking OpenTelemetry's public API costs about 0.3 µs per log line even
    with no span anywhere (a library such as pybreaker may import it). Its
    default runtime keeps the context in one ContextVar, empty when nothing
    is active: one read answers "no span". Where that internal is not found,
    the answer is "maybe" and the public API decides.
    """
    runtime = getattr(sys.modules.get("opentelemetry.context"), "_RUNTIME_CONTEXT", None)
    variable = getattr(runtime, "_current_context", None)
    if isinstance(variable, ContextVar):
        return bool(cast("ContextVar[object]", variable).get(None))
    return True


class CorrelationFilter(logging.Filter):
    """Copy the correlation context onto each record; attach it to handlers.

    Sets ``record.requestId`` (``"-"`` when none is bound) and
    ``record.context``: a new dict of the bound fields, the record's
    per-line fields (from `CorrelationLogger`) and, when an OpenTelemetry
    span is active, ``traceId``. A record that already went through a
    `CorrelationFilter` keeps its values, so a handler behind a queue sees the
    context of the thread that logged. The filter never drops a record.

    .. versionadded:: 0.1.0
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``requestId`` and ``context`` on *record* and return True."""
        attributes = record.__dict__
        if _PARTS_ATTRIBUTE not in attributes:
            _correlate(attributes)
        return True


# What the filter saw: (context, request id, bound fields, line fields and trace id).
_Parts: TypeAlias = tuple[
    dict[str, object], str | None, Mapping[str, object] | None, Mapping[str, object] | None
]


def _correlate(attributes: dict[str, object]) -> _Parts:
    request_id, bound = _STATE.get()
    line: Mapping[str, object] | None = attributes.get(FIELDS_ATTRIBUTE)  # type: ignore[assignment]
    if "opentelemetry.trace" in sys.modules and _otel_context_may_hold_a_span():
        trace_id = current_trace_id()
        if trace_id is not None:
            line = {**line, "traceId": trace_id} if line else {"traceId": trace_id}
    # A dict of the record's own: the bound mapping is shared (and may not pickle, as
    # handlers that send records to other processes need).
    context = {**bound, **line} if line else dict(bound)
    parts = (context, request_id, bound or None, line)
    attributes["requestId"] = request_id or "-"
    attributes["context"] = context
    attributes[_PARTS_ATTRIBUTE] = parts
    return parts


def _context_of(record: logging.LogRecord) -> tuple[str, Mapping[str, object]]:
    attributes = record.__dict__
    if _PARTS_ATTRIBUTE not in attributes:
        _correlate(attributes)
    return attributes["requestId"], attributes["context"]


class CorrelationFormatter(logging.Formatter):
    r"""Render ``[requestId=a1b2c3d4] [orderId=123, mechanic=John] message``.

    With no bound id and no field the line is ``[requestId=-] message``. A key
    or value holding a space, ``,``, ``=``, ``[``, ``]``, ``"`` or a control
    character is double-quoted with backslash escapes, and a value longer than
    *max_value_length* is cut and marked ``...(+N chars)``. Control
    characters in the message are written as escapes (``\n``, ``\x1b``), so
    one record is one line; a traceback follows on lines indented by two
    spaces, which no record line starts with. When there is no field and the
    message itself starts with ``[``, an empty ``[]`` stands for the fields,
    so the message cannot pass for them.

    The record needs no `CorrelationFilter` (the formatter reads the context
    itself when the filter did not run), but attach one where records may be
    formatted in another thread or task.

    Args:
        fmt: A ``%``-style format with ``%(correlation)s`` where the
            bracketed context goes. Default: ``"%(correlation)s %(message)s"``.
        datefmt: Passed to `logging.Formatter`.
        max_value_length: The longest key or value written in full.

    Raises:
        TypeError: If *max_value_length* is not an int.
        ValueError: If *max_value_length* is below 1.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        *,
        max_value_length: int = DEFAULT_MAX_VALUE_LENGTH,
    ) -> None:
        super().__init__(fmt or "%(correlation)s %(message)s", datefmt)
        self._plain = fmt is None
        self._limit = check_positive_int("max_value_length", max_value_length)
        self._cache: tuple[str | None, Mapping[str, object] | None, str] = (
            None,
            None,
            "[requestId=-]",
        )

    def correlation(self, record: logging.LogRecord) -> str:
        """Return the bracketed context of *record*: ``[requestId=...] [key=value, ...]``."""
        return self._render(record)[0]

    def _render(self, record: logging.LogRecord) -> tuple[str, bool]:  # noqa: PLR0911 - one return per shape
        # The text and whether it has a fields bracket.
        attributes = record.__dict__
        parts: _Parts | None = attributes.get(_PARTS_ATTRIBUTE)
        if parts is None:
            parts = _correlate(attributes)
        context, request_id, bound, line = parts
        limit = self._limit
        if attributes.get("context") is not context or attributes.get("requestId") != (
            request_id or "-"
        ):
            # Another filter replaced the values (RedactingFilter does): render what is there.
            shown = render_value(attributes.get("requestId", "-"), limit)
            fields: object = attributes.get("context")
            if not isinstance(fields, Mapping) or not fields:
                return f"[requestId={shown}]", False
            body = _render_fields(cast("Mapping[str, object]", fields), limit)
            return f"[requestId={shown}] [{body}]", True
        # Bindings are immutable and outlive their log lines: reuse the last render.
        cached_id, cached_bound, head = self._cache
        if cached_bound is not bound or cached_id != request_id:
            head = self._head(request_id, bound)
        if line:
            if bound is None:
                return f"{head} [{_render_fields(line, limit)}]", True
            for key in line:
                if key in bound:  # an override keeps the bound key's place
                    body = _render_fields(context, limit)
                    return f"[requestId={request_id or '-'}] [{body}]", True
            return f"{head}, {_render_fields(line, limit)}]", True
        if bound is None:
            return head, False
        return f"{head}]", True

    def _head(self, request_id: str | None, bound: Mapping[str, object] | None) -> str:
        text = f"[requestId={request_id or '-'}]"
        if bound:
            text = f"{text} [{_render_fields(bound, self._limit)}"
        self._cache = (request_id, bound, text)
        return text

    def format(self, record: logging.LogRecord) -> str:
        """Return one line for *record* (plus an indented traceback when it has one)."""
        message = record.getMessage()
        record.message = message if message.isprintable() else escape_message(message)
        correlation, has_fields = self._render(record)
        if self._plain:
            if not has_fields and record.message.startswith("["):
                # Without this, a message "[orderId=9] ..." would read as a bound field.
                correlation += " []"
            line = f"{correlation} {record.message}"
        else:
            record.correlation = correlation
            if self.usesTime():
                record.asctime = self.formatTime(record, self.datefmt)
            line = self.formatMessage(record)
        if not (record.exc_info or record.exc_text or record.stack_info):
            return line
        extra = _extra_text(self, record)
        indented = "\n  ".join(escape_message(part) for part in extra.split("\n"))
        return f"{line}\n  {indented}"


def _extra_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    parts: list[str] = []
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts)


_JSON_INT_RANGE: Final = range(-(2**63), 2**64)


def _json_value(value: object, limit: int) -> object:
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in _JSON_INT_RANGE:
        return value
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is str:
        return _truncate(value, limit)
    # Other numbers (huge, inf, NaN) and objects become strings.
    return _truncate(_text(value), limit)


class JsonFormatter(logging.Formatter):
    """Render each record as one JSON object on one line.

    Keys: ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``,
    ``message``, ``requestId`` (``"-"`` when none), then the context fields,
    and ``exception`` / ``stack`` when the record has them. Numbers, booleans
    and ``None`` stay JSON values; anything else becomes a string cut at
    *max_value_length*. A field named like a top-level key is written as
    ``"field.<name>"`` so it never hides the record's own values. Non-ASCII
    characters are escaped, so the output is one line of ASCII.

    Args:
        max_value_length: The longest string value written in full.

    Raises:
        TypeError: If *max_value_length* is not an int.
        ValueError: If *max_value_length* is below 1.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, max_value_length: int = DEFAULT_MAX_VALUE_LENGTH) -> None:
        super().__init__()
        self._limit = check_positive_int("max_value_length", max_value_length)

    def format(self, record: logging.LogRecord) -> str:
        """Return *record* as one line of JSON."""
        request_id, context = _context_of(record)
        limit = self._limit
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id,
        }
        for key, value in context.items():
            name = key if key not in _JSON_RESERVED else f"field.{key}"
            document[name] = _json_value(value, limit)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str)


class RedactingFilter(logging.Filter):
    """Mask secrets in everything a handler is about to write; attach it to handlers.

    Acts on the rendered message (so a token passed as a ``%s`` argument, as
    in httpx's own ``HTTP Request: GET https://.../bot<token>/...`` line, is
    masked too), on the exception and stack text, and on string values of
    the per-line and context fields. It uses `redact`, so it masks Telegram
    bot tokens, ``Authorization``/``Bearer`` values, credentials in URLs and
    every `Secret` value; a field named ``token``, ``password``,
    ``authorization``, ``api_key`` (and the like) is masked whatever its
    value. It reads the correlation context itself when no
    `CorrelationFilter` ran before it, so the order of the two filters does
    not matter. The filter never drops a record.

    .. versionadded:: 0.1.0
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in *record* in place and return True."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - bad arguments: the handler's emit reports them
            message = None
        if message is not None:
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        _redact_record_fields(record.__dict__)
        return True


def _redact_record_fields(attributes: dict[str, object]) -> None:
    if _PARTS_ATTRIBUTE not in attributes:
        # Take the context now, so that it is masked in whatever order the filters run.
        _correlate(attributes)
    for name in (FIELDS_ATTRIBUTE, "context"):
        fields: object = attributes.get(name)
        # A dict first: isinstance against the Mapping ABC is slow.
        if fields and isinstance(fields, (dict, Mapping)):
            masked = _redact_fields(cast("Mapping[str, object]", fields))
            if masked is not fields:
                attributes[name] = masked


_PLAIN_FORMATTER: Final = logging.Formatter()
_KEPT_TYPES: Final = (int, float, bool, type(None))


def _redact_fields(fields: Mapping[str, object]) -> Mapping[str, object]:
    # Returns *fields* itself when nothing was masked, so formatters keep their fast path.
    masked: dict[str, object] = {}
    changed = False
    for key, value in fields.items():
        if key.lower() in DEFAULT_SECRET_KEYS:
            masked[key], changed = MASK, True
        elif type(value) is str:
            text = redact(value)
            masked[key], changed = text, changed or text != value
        elif isinstance(value, _KEPT_TYPES):
            masked[key] = value
        else:  # both formats write other values as their str(): mask that text
            masked[key], changed = redact(_text(value)), True
    return masked if changed else fields


class CorrelationLogger:
    """A logger whose methods take the line's fields as keyword arguments.

    ``log.info("Order created successfully", orderId=42, mechanic="John")``
    adds ``orderId`` and ``mechanic`` to that line only, next to the bound
    context. ``exc_info``, ``stack_info``, ``stacklevel`` and ``extra`` work
    as with `logging.Logger` (so they cannot be field names), and the record
    reports the caller's file and line. Get one with `get_logger`.

    Args:
        logger: The standard logger to write through, kept as the ``logger``
            attribute.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    @property
    def name(self) -> str:
        """The name of the underlying logger."""
        return self.logger.name

    def __repr__(self) -> str:
        return f"CorrelationLogger({self.logger.name!r})"

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - the logging module's spelling
        """Return whether a record of *level* would be processed."""
        return self.logger.isEnabledFor(level)

    def debug(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at DEBUG with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.DEBUG):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.DEBUG,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def info(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at INFO with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.INFO):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.INFO,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def warning(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at WARNING with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.WARNING):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.WARNING,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def error(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at ERROR with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.ERROR):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.ERROR,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def exception(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = True,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at ERROR with the current exception and *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.ERROR):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.ERROR,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def critical(
        self,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at CRITICAL with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(logging.CRITICAL):
            # The body is repeated in each method: a shared helper costs a call per line.
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                logging.CRITICAL,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)

    def log(
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: _ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> None:
        """Log *msg* at *level* with *fields* on this line."""
        logger = self.logger
        if logger.isEnabledFor(level):
            caller = logger.findCaller(stack_info, stacklevel + 1)
            record = logger.makeRecord(
                logger.name,
                level,
                caller[0],
                caller[1],
                msg,
                args,
                _exc_tuple(exc_info) if exc_info else None,
                caller[2],
                extra,
                caller[3],
            )
            if fields:
                record.__dict__[FIELDS_ATTRIBUTE] = fields
            logger.handle(record)


_SysExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


def _exc_tuple(exc_info: _ExcInfo) -> _SysExcInfo:
    if isinstance(exc_info, BaseException):
        return (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple):
        return exc_info
    return sys.exc_info()


def get_logger(name: str | None = None) -> CorrelationLogger:
    """Return a `CorrelationLogger` writing through ``logging.getLogger(name)``.

    >>> log = get_logger("felix_hub.orders")
    >>> log.name
    'felix_hub.orders'

    .. versionadded:: 0.1.0
    """
    return CorrelationLogger(logging.getLogger(name))


class _FelixHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler `configure_logging` installs (and replaces on a second call)."""


def configure_logging(
    level: int | str = "INFO",
    *,
    json: bool = False,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Set up the root logger to write correlated, redacted lines.

    Installs one handler on the root logger, with `CorrelationFilter`,
    `RedactingFilter` and `CorrelationFormatter` (or `JsonFormatter`), and
    sets the root level. Calling it again replaces that handler instead of
    adding another; other handlers and other loggers are left alone.

    Args:
        level: The root logger's level, as a name (``"INFO"``) or a number.
        json: Write JSON lines instead of text.
        stream: Where to write. Default: ``sys.stderr``.

    Returns:
        The installed handler.

    Raises:
        TypeError: If *level* is neither a str nor an int.
        ValueError: If *level* is not a known level name.

    .. versionadded:: 0.1.0
    """
    numeric = _level_number(level)
    handler = _FelixHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json else CorrelationFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _FelixHandler):
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler


def _level_number(level: object) -> int:
    if isinstance(level, bool) or not isinstance(level, int | str):
        raise TypeError(f"level must be a level name or an int, got {type(level).__name__}")
    if isinstance(level, int):
        return level
    names: Mapping[str, int] = logging.getLevelNamesMapping()
    number = names.get(level.upper())
    if number is None:
        raise ValueError(f"level must be one of {sorted(names)}, got {level!r}")
    return number
