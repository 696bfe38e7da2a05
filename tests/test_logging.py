"""Correlated log lines: the text and JSON formats, get_logger, redaction and setup."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.handlers
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

from felix_reliability import (
    CorrelationFilter,
    CorrelationFormatter,
    CorrelationLogger,
    JsonFormatter,
    RedactingFilter,
    Secret,
    bind_context,
    configure_logging,
    current_trace_id,
    get_context,
    get_logger,
    new_request_id,
    propagate,
    redact,
    sanitize_request_id,
)
from felix_reliability._logging import escape_message, render_value
from felix_reliability._secrets import _PATTERNS
from tests.strategies_logging import field_values, fields, log_text

TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MASK = "[REDACTED]"


class Capture:
    """A logger with one handler writing into a buffer."""

    def __init__(self, name: str, formatter: logging.Formatter, *filters: logging.Filter) -> None:
        self.buffer = io.StringIO()
        self.handler = logging.StreamHandler(self.buffer)
        self.handler.setFormatter(formatter)
        for item in filters:
            self.handler.addFilter(item)
        self.logger = logging.getLogger(name)
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.handler)
        self.log = get_logger(name)

    def lines(self) -> list[str]:
        """Return what was written, as lines, and empty the buffer."""
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.splitlines()

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = True
        self.logger.setLevel(logging.NOTSET)


@pytest.fixture
def text() -> Iterator[Capture]:
    capture = Capture("test.text", CorrelationFormatter(), CorrelationFilter())
    yield capture
    capture.close()


@pytest.fixture
def jsonl() -> Iterator[Capture]:
    capture = Capture("test.json", JsonFormatter(), CorrelationFilter())
    yield capture
    capture.close()


@pytest.fixture
def root_setup() -> Iterator[None]:
    """Restore the root logger's handlers and level after configure_logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


# --- the text format -------------------------------------------------------------------


def test_seed_format(text: Capture) -> None:
    """The line reads exactly as the contract's example."""
    with bind_context(request_id="a1b2c3d4", orderId=123):
        text.log.info("Order created successfully", mechanic="John")
    assert text.lines() == [
        "[requestId=a1b2c3d4] [orderId=123, mechanic=John] Order created successfully"
    ]


def test_no_id_and_no_field(text: Capture) -> None:
    """Without a binding the line is '[requestId=-] message'."""
    text.log.info("message")
    assert text.lines() == ["[requestId=-] message"]


def test_id_without_fields(text: Capture) -> None:
    """A bound id without fields has no fields bracket."""
    with bind_context(request_id="r1"):
        text.log.warning("hello")
    assert text.lines() == ["[requestId=r1] hello"]


def test_line_fields_without_binding(text: Capture) -> None:
    """Fields given for the line alone still get a bracket."""
    text.log.info("hi", mechanic="John", orderId=5)
    assert text.lines() == ["[requestId=-] [mechanic=John, orderId=5] hi"]


def test_line_fields_are_for_that_line_only(text: Capture) -> None:
    """The next line does not carry the previous line's fields."""
    with bind_context(request_id="r1", orderId=1):
        text.log.info("first", mechanic="John")
        text.log.info("second")
    assert text.lines() == [
        "[requestId=r1] [orderId=1, mechanic=John] first",
        "[requestId=r1] [orderId=1] second",
    ]


def test_line_field_overrides_a_bound_one_in_place(text: Capture) -> None:
    """A line field with a bound name replaces the value where the bound key stands."""
    with bind_context(request_id="r1", orderId=1, step="send"):
        text.log.info("x", orderId=2)
    assert text.lines() == ["[requestId=r1] [orderId=2, step=send] x"]


def test_a_value_cannot_forge_a_field(text: Capture) -> None:
    """Separators in a value put it in quotes."""
    text.log.info("x", mechanic="John, orderId=999")
    assert text.lines() == ['[requestId=-] [mechanic="John, orderId=999"] x']


def test_quoted_values_escape_quotes_backslashes_and_controls(text: Capture) -> None:
    """Inside quotes, quote, backslash and control characters are escaped."""
    text.log.info("x", note='a "b" \\ c\nd\x1b\u2028')
    assert text.lines() == ['[requestId=-] [note="a \\"b\\" \\\\ c\\nd\\x1b\\u2028"] x']


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("", '""'),
        ("a=b", '"a=b"'),
        ("[x]", '"[x]"'),
        ("tab\there", '"tab\\there"'),
        ("C:\\path", "C:\\path"),
        ("Jörg", "Jörg"),
        (True, "True"),
        (None, "None"),
        (1.5, "1.5"),
        ([1, 2], '"[1, 2]"'),
    ],
)
def test_render_value(value: object, rendered: str) -> None:
    """Values are quoted only when they hold a separator, a quote or a control character."""
    assert rendered == render_value(value)


def test_an_int_too_long_to_print_is_shown_as_unprintable() -> None:
    """An int over Python's digit limit does not lose the line."""
    assert render_value(-(10**5000)) == '"<unprintable int>"'


def test_over_long_values_are_cut_with_a_marker() -> None:
    """A value over the limit keeps its start and says how much was cut."""
    formatter = CorrelationFormatter(max_value_length=10)
    capture = Capture("test.long", formatter)
    try:
        capture.log.info("x", blob="y" * 15, number=10**20)
        assert capture.lines() == [
            '[requestId=-] [blob="yyyyyyyyyy...(+5 chars)", number="1000000000...(+11 chars)"] x'
        ]
    finally:
        capture.close()


def test_keys_that_are_not_identifiers_are_quoted(text: Capture) -> None:
    """A key given through ** that holds separators is quoted like a value."""
    with bind_context(**{"a b": 1, "k=v": 2}):
        text.log.info("x")
    assert text.lines()[0].endswith('] ["a b"=1, "k=v"=2] x')


def test_message_control_characters_are_escaped(text: Capture) -> None:
    """Newlines and other control characters in the message cannot start a new line."""
    text.log.info("line1\nline2\r\x1b[31m\u2028end\x85")
    assert text.lines() == ["[requestId=-] line1\\nline2\\r\\x1b[31m\\u2028end\\x85"]


def test_printable_unicode_in_the_message_is_kept() -> None:
    """Escaping leaves printable text, including non-ASCII and odd spaces, alone."""
    assert escape_message("Grüße\u00a0\u200b") == "Grüße\u00a0\u200b"


def test_a_message_cannot_pass_for_fields(text: Capture) -> None:
    """With no field, a message starting with '[' follows an empty fields bracket."""
    text.log.info("[orderId=999] fake")
    with bind_context(request_id="r1", orderId=1):
        text.log.info("[orderId=999] fake")
    assert text.lines() == [
        "[requestId=-] [] [orderId=999] fake",
        "[requestId=r1] [orderId=1] [orderId=999] fake",
    ]


def test_percent_arguments_are_rendered(text: Capture) -> None:
    """Positional %-style arguments work as with logging."""
    text.log.info("sent %d of %s", 3, "five")
    assert text.lines() == ["[requestId=-] sent 3 of five"]


def test_traceback_lines_are_indented(text: Capture) -> None:
    """A traceback follows the line, each of its lines indented so none passes for a record."""
    try:
        raise ValueError("bad\n[requestId=evil] forged")
    except ValueError:
        text.log.exception("failed", orderId=1)
    lines = text.lines()
    assert lines[0] == "[requestId=-] [orderId=1] failed"
    assert len(lines) > 3
    assert all(line.startswith("  ") for line in lines[1:])
    assert "  Traceback (most recent call last):" in lines
    assert "  ValueError: bad" in lines
    assert "  [requestId=evil] forged" in lines


def test_stack_info_is_indented(text: Capture) -> None:
    """stack_info=True adds the stack below the line, indented."""
    text.log.info("here", stack_info=True)
    lines = text.lines()
    assert lines[0] == "[requestId=-] here"
    assert lines[1] == "  Stack (most recent call last):"
    assert all(line.startswith("  ") for line in lines[1:])


def test_custom_format_places_the_correlation() -> None:
    """A fmt with %(correlation)s, level and time is honoured."""
    formatter = CorrelationFormatter("%(asctime)s %(levelname)s %(correlation)s %(message)s")
    capture = Capture("test.fmt", formatter)
    try:
        with bind_context(request_id="r1", orderId=1):
            capture.log.error("boom\nx")
        [line] = capture.lines()
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d [\d:,]+ ERROR \[requestId=r1\] \[orderId=1\] boom\\nx", line
        )
    finally:
        capture.close()


def test_formatter_works_without_the_filter() -> None:
    """The formatter reads the context itself when no filter ran."""
    capture = Capture("test.nofilter", CorrelationFormatter())
    try:
        with bind_context(request_id="r2", orderId=2):
            capture.log.info("x")
        assert capture.lines() == ["[requestId=r2] [orderId=2] x"]
    finally:
        capture.close()


def test_formatter_renders_the_same_binding_again_and_a_new_one(text: Capture) -> None:
    """The cached render of a binding is reused and replaced when the binding changes."""
    with bind_context(request_id="r1", orderId=1):
        text.log.info("a")
        text.log.info("b")
    with bind_context(request_id="r1", orderId=2):
        text.log.info("c")
    with bind_context(request_id="r3", orderId=2):
        text.log.info("d")
    assert text.lines() == [
        "[requestId=r1] [orderId=1] a",
        "[requestId=r1] [orderId=1] b",
        "[requestId=r1] [orderId=2] c",
        "[requestId=r3] [orderId=2] d",
    ]


def _load_socket_payload(payload: bytes) -> dict[str, object]:
    """Read back what SocketHandler sent, as the stdlib's socket receiver does."""
    import pickle

    return pickle.loads(payload[4:])  # type: ignore[no-any-return]  # noqa: S301 - our own bytes


def _record(msg: str = "x") -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, (), None)


def test_filter_keeps_the_context_of_the_thread_that_logged() -> None:
    """A record filtered inside a binding keeps it when formatted elsewhere (queue handlers)."""
    record = _record()
    with bind_context(request_id="r1", orderId=1):
        assert CorrelationFilter().filter(record)
    assert record.requestId == "r1"
    assert dict(record.context) == {"orderId": 1}
    with bind_context(request_id="other"):
        CorrelationFilter().filter(record)
        assert CorrelationFormatter().format(record) == "[requestId=r1] [orderId=1] x"


def test_filter_sets_a_dash_without_a_request_id() -> None:
    """Outside a binding requestId is '-' and the context is empty."""
    record = _record()
    CorrelationFilter().filter(record)
    assert (record.requestId, dict(record.context)) == ("-", {})


def test_record_context_is_the_records_own_copy() -> None:
    """Changing record.context does not change the binding."""
    record = _record()
    with bind_context(orderId=1):
        CorrelationFilter().filter(record)
        record.context["orderId"] = 2
        assert get_context()["orderId"] == 1


def test_filtered_records_still_travel_to_other_processes() -> None:
    """The stdlib SocketHandler can still serialize a filtered record, and it formats the same."""
    for line_fields in ({}, {"mechanic": "John"}):
        record = _record()
        record.felix_fields = line_fields
        with bind_context(request_id="r1", orderId=1):
            CorrelationFilter().filter(record)
        payload = logging.handlers.SocketHandler("127.0.0.1", 9).makePickle(record)
        copy = logging.makeLogRecord(_load_socket_payload(payload))
        assert CorrelationFormatter().format(copy) == CorrelationFormatter().format(record)
    outside = _record()
    CorrelationFilter().filter(outside)
    assert logging.handlers.SocketHandler("127.0.0.1", 9).makePickle(outside)


def test_values_replaced_after_the_filter_are_rendered_safely() -> None:
    """A requestId or context set by another filter is rendered, quoted where needed."""
    record = _record()
    CorrelationFilter().filter(record)
    record.requestId = "evil] [orderId=1"
    record.context = {"a": "b c"}
    assert CorrelationFormatter().format(record) == '[requestId="evil] [orderId=1"] [a="b c"] x'
    record.context = "not a mapping"
    assert CorrelationFormatter().format(record) == '[requestId="evil] [orderId=1"] x'


def test_formatter_validates_max_value_length() -> None:
    """max_value_length must be an int of at least 1, named in the error."""
    with pytest.raises(ValueError, match="max_value_length"):
        CorrelationFormatter(max_value_length=0)
    with pytest.raises(TypeError, match="max_value_length"):
        JsonFormatter(max_value_length="5")  # type: ignore[arg-type]


def test_a_broken_str_does_not_lose_the_line(text: Capture) -> None:
    """A value whose __str__ raises is shown as unprintable."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError

    text.log.info("x", value=Broken())
    assert text.lines() == ['[requestId=-] [value="<unprintable Broken>"] x']


# --- get_logger ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("debug", "DEBUG"),
        ("info", "INFO"),
        ("warning", "WARNING"),
        ("error", "ERROR"),
        ("critical", "CRITICAL"),
    ],
)
def test_each_level_method_logs_with_fields(method: str, level: str) -> None:
    """Every level method writes at its level with the line's fields."""
    capture = Capture(
        "test.levels", CorrelationFormatter("%(levelname)s %(correlation)s %(message)s")
    )
    try:
        getattr(capture.log, method)("m", orderId=1)
        capture.log.log(logging.getLevelNamesMapping()[level], "n", orderId=2)
        getattr(capture.log, method)("bare")
        assert capture.lines() == [
            f"{level} [requestId=-] [orderId=1] m",
            f"{level} [requestId=-] [orderId=2] n",
            f"{level} [requestId=-] bare",
        ]
    finally:
        capture.close()


def test_disabled_levels_write_nothing() -> None:
    """Below the logger's level, no method writes (and no record is made)."""
    capture = Capture("test.disabled", CorrelationFormatter())
    capture.logger.setLevel(logging.CRITICAL + 1)
    try:
        log = capture.log
        for method in (log.debug, log.info, log.warning, log.error, log.exception, log.critical):
            method("x", orderId=1)
        log.log(logging.INFO, "x")
        assert capture.lines() == []
        assert not log.isEnabledFor(logging.CRITICAL)
    finally:
        capture.close()


def test_records_name_the_caller() -> None:
    """funcName and lineno are the caller's, also with stacklevel."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.caller")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        log = get_logger("test.caller")

        def helper() -> None:
            log.info("from helper", stacklevel=2)

        line = sys._getframe().f_lineno + 1
        log.info("here")
        helper_line = sys._getframe().f_lineno + 1
        helper()
        for method in (log.debug, log.warning, log.error, log.exception, log.critical):
            method("m")
        log.log(logging.INFO, "m")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert (records[0].funcName, records[0].lineno) == ("test_records_name_the_caller", line)
    assert records[1].lineno == helper_line
    assert all(record.pathname == __file__ for record in records)
    assert all(record.funcName == "test_records_name_the_caller" for record in records)


def test_extra_and_exc_info_keep_working() -> None:
    """extra sets record attributes; exc_info accepts True, an exception and a tuple."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.extra")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    error = ValueError("v")
    try:
        log = get_logger("test.extra")
        log.info("x", extra={"custom": 7}, orderId=1)
        try:
            raise error
        except ValueError:
            log.error("y", exc_info=True)  # noqa: G201 - exc_info=True is what is tested
            log.error("z", exc_info=sys.exc_info())  # noqa: G201 - the tuple form is tested
        log.error("w", exc_info=error)
    finally:
        logger.removeHandler(handler)
    assert records[0].custom == 7
    assert records[0].felix_fields == {"orderId": 1}
    assert [record.exc_info[1] if record.exc_info else None for record in records[1:]] == [
        error,
        error,
        error,
    ]


def test_get_logger_wraps_the_named_logger() -> None:
    """get_logger returns a CorrelationLogger over logging.getLogger(name)."""
    log = get_logger("test.named")
    assert isinstance(log, CorrelationLogger)
    assert log.logger is logging.getLogger("test.named")
    assert (log.name, repr(log)) == ("test.named", "CorrelationLogger('test.named')")
    assert get_logger().logger is logging.getLogger()


def test_any_standard_handler_shows_the_message_and_fields_by_name() -> None:
    """A plain Formatter still works; with the filter it can name requestId and context."""
    capture = Capture(
        "test.std",
        logging.Formatter("%(levelname)s %(requestId)s %(message)s"),
        CorrelationFilter(),
    )
    try:
        with bind_context(request_id="r1"):
            capture.log.info("plain", orderId=1)
        assert capture.lines() == ["INFO r1 plain"]
    finally:
        capture.close()


# --- JSON ---------------------------------------------------------------------------------


def test_json_lines_parse_back(jsonl: Capture) -> None:
    """Each record is one JSON object with the contract's keys and the fields."""
    with bind_context(request_id="a1b2c3d4", orderId=123):
        jsonl.log.info("Order created successfully", mechanic="John")
    [line] = jsonl.lines()
    document = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", document.pop("time"))
    assert document == {
        "level": "INFO",
        "logger": "test.json",
        "message": "Order created successfully",
        "requestId": "a1b2c3d4",
        "orderId": 123,
        "mechanic": "John",
    }


def test_json_without_binding_and_with_odd_values(jsonl: Capture) -> None:
    """requestId is '-'; non-JSON values become strings; fields never hide top-level keys."""

    class Thing:
        def __str__(self) -> str:
            return "thing"

    jsonl.log.warning(
        "hé\n",
        ok=True,
        none=None,
        ratio=0.5,
        inf=float("inf"),
        obj=Thing(),
        message="mine",
        big=2**70,
        huge=10**5000,
    )
    [line] = jsonl.lines()
    assert line.isascii()
    document = json.loads(line)
    assert document["requestId"] == "-"
    assert document["message"] == "hé\n"
    assert document["field.message"] == "mine"
    assert (document["ok"], document["none"], document["ratio"]) == (True, None, 0.5)
    assert (document["inf"], document["obj"]) == ("inf", "thing")
    assert (document["big"], document["huge"]) == (str(2**70), "<unprintable int>")


def test_json_cuts_long_strings() -> None:
    """String values over the limit are cut with the marker."""
    capture = Capture("test.jsonlong", JsonFormatter(max_value_length=3))
    try:
        capture.log.info("x", blob="abcdef")
        assert json.loads(capture.lines()[0])["blob"] == "abc...(+3 chars)"
    finally:
        capture.close()


def test_json_exception_and_stack(jsonl: Capture) -> None:
    """Exception and stack text are keys of the same one-line object."""
    try:
        raise KeyError("k")
    except KeyError:
        jsonl.log.exception("failed", stack_info=True)
    [line] = jsonl.lines()
    document = json.loads(line)
    assert document["exception"].startswith("Traceback")
    assert "KeyError: 'k'" in document["exception"]
    assert document["stack"].startswith("Stack (most recent call last):")


# --- properties ---------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = text[index + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            index += 2
        else:
            width = 2 if code == "x" else 4
            out.append(chr(int(text[index + 2 : index + 2 + width], 16)))
            index += 2 + width
    return "".join(out)


def _token(line: str, index: int) -> tuple[str, int]:
    """Read one key or value at index; return it unescaped and the index after it."""
    if line[index] == '"':
        end = index + 1
        while line[end] != '"':
            end += 2 if line[end] == "\\" else 1
        return _unescape(line[index + 1 : end]), end + 1
    end = index
    while line[end] not in "=,]":
        end += 1
    return line[index:end], end


def parse_line(line: str) -> tuple[str, list[tuple[str, str]], str]:
    """Parse a default-format line into (request id, fields, message), strictly."""
    assert line.startswith("[requestId=")
    request_id, index = _token(line, len("[requestId="))
    assert line[index] == "]"
    index += 1
    pairs: list[tuple[str, str]] = []
    if line.startswith(" [", index):
        index += 2
        if line[index] == "]":
            index += 1
        else:
            while True:
                key, index = _token(line, index)
                assert line[index] == "="
                value, index = _token(line, index + 1)
                pairs.append((key, value))
                if line[index] == "]":
                    index += 1
                    break
                assert line.startswith(", ", index)
                index += 2
    assert line[index] == " "
    return request_id, pairs, line[index + 1 :]


def _expected_text(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}...(+{len(text) - limit} chars)"


@given(bound=fields, line_fields=fields, message=log_text)
def test_text_lines_are_one_line_with_exactly_the_bound_fields(
    bound: dict[str, object], line_fields: dict[str, object], message: str
) -> None:
    """Whatever the keys, values and message, one line comes out and it parses back."""
    capture = Capture("test.prop.text", CorrelationFormatter(), CorrelationFilter())
    try:
        with bind_context(request_id="r1", **bound):
            capture.log.info(message, **line_fields)
        output = capture.buffer.getvalue()
    finally:
        capture.close()
    assert output.endswith("\n")
    assert len(output[:-1].splitlines()) == 1
    request_id, pairs, rendered_message = parse_line(output[:-1])
    expected = {**bound, **line_fields}
    assert request_id == "r1"
    assert [key for key, _ in pairs] == [_expected_text(key) for key in expected]
    assert [value for _, value in pairs] == [_expected_text(value) for value in expected.values()]
    assert rendered_message == escape_message(message)


@given(bound=fields, line_fields=fields, message=log_text)
def test_json_lines_are_one_line_of_valid_json(
    bound: dict[str, object], line_fields: dict[str, object], message: str
) -> None:
    """Whatever is logged, the JSON output is one line that parses, with every field."""
    capture = Capture("test.prop.json", JsonFormatter(), CorrelationFilter())
    try:
        with bind_context(request_id="r1", **bound):
            capture.log.info(message, **line_fields)
        output = capture.buffer.getvalue()
    finally:
        capture.close()
    assert len(output.splitlines()) == 1
    document = json.loads(output)
    assert (document["message"], document["requestId"]) == (message, "r1")
    top_level = {"time", "level", "logger", "message", "requestId"}
    reserved = top_level | {"exception", "stack"}
    names = {key if key not in reserved else f"field.{key}" for key in {**bound, **line_fields}}
    assert names == set(document) - top_level


@given(field_values)
def test_rendered_values_never_hold_a_separator_outside_quotes(value: object) -> None:
    """A rendered value is either free of separators or a single quoted string."""
    rendered = render_value(value)
    if rendered.startswith('"'):
        assert _token(rendered + "]", 0) == (_expected_text(value), len(rendered))
    else:
        assert not re.search(r'[\s,=\[\]"]', rendered)
        assert len(rendered.splitlines()) == 1


@given(st.text())
def test_escaped_messages_are_one_line(message: str) -> None:
    """Escaping leaves no line break of any kind."""
    assert len(escape_message(message + "x").splitlines()) == 1


# --- redaction ----------------------------------------------------------------------------


def test_redacting_filter_masks_arguments_exceptions_stacks_and_fields() -> None:
    """A token in an argument, a traceback, a stack or a field value is masked."""
    capture = Capture("test.redact", CorrelationFormatter(), CorrelationFilter(), RedactingFilter())
    try:
        with bind_context(request_id="r1", url=f"https://api.telegram.org/bot{TOKEN}/getMe"):
            try:
                raise RuntimeError(f"failed for {TOKEN}")
            except RuntimeError:
                capture.log.exception("GET %s", f"/bot{TOKEN}/x", auth="Bearer abc.def")
        lines = capture.lines()
    finally:
        capture.close()
    assert lines[0] == (
        f'[requestId=r1] [url="https://api.telegram.org/bot{MASK}/getMe", auth="Bearer {MASK}"]'
        f" GET /bot{MASK}/x"
    )
    assert f"  RuntimeError: failed for {MASK}" in lines
    assert not any(TOKEN in line or "abc.def" in line for line in lines)


def _redact_without_needles(text: str) -> str:
    for pattern, replacement, _needle, _ignore_case in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_SECRET_PIECES = st.sampled_from(
    [
        TOKEN,
        "Authorization: ",
        "AUTHOR\u0130ZAT\u0130ON=",
        "author\u0131zation:",
        "Bearer ",
        "BEARER\t",
        "://",
        "https://u:p@h/",
        "@",
        ":",
        "\u017f",
        "\u212a",
        "\u0131",
        "\u0130",
        " ",
        "bot",
        "x",
    ]
)


@given(st.lists(_SECRET_PIECES | log_text, max_size=8).map("".join))
def test_needles_never_skip_a_pattern_that_would_match(text: str) -> None:
    """The cheap substring tests in redact() give the same result as running every pattern."""
    assert redact(text) == _redact_without_needles(text)


def test_filter_order_does_not_matter_for_redaction() -> None:
    """With RedactingFilter first, the bound context is still masked."""
    capture = Capture("test.order", CorrelationFormatter(), RedactingFilter(), CorrelationFilter())
    try:
        with bind_context(request_id="r1", bot_url=f"/bot{TOKEN}/x"):
            capture.log.info("x")
        assert capture.lines() == [f'[requestId=r1] [bot_url="/bot{MASK}/x"] x']
    finally:
        capture.close()


def test_redacting_filter_masks_registered_secrets_in_stack_info() -> None:
    """A Secret's value in stack text is masked."""
    secret = Secret("s3cr3t-value-123")
    record = _record(f"uses {secret.reveal()}")
    record.stack_info = f"Stack: {secret.reveal()}"
    assert RedactingFilter().filter(record)
    assert (record.getMessage(), record.stack_info) == (f"uses {MASK}", f"Stack: {MASK}")


def test_redacting_filter_leaves_clean_records_as_they_are() -> None:
    """A record without secrets keeps its message template and arguments."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "sent %d", (3,), None)
    RedactingFilter().filter(record)
    assert (record.msg, record.args, record.getMessage()) == ("sent %d", (3,), "sent 3")


def test_redacting_filter_masks_secret_named_fields_and_object_values() -> None:
    """A field named like a secret is masked whatever its value; objects are masked as text."""
    record = _record()
    record.felix_fields = {
        "token": "abc",
        "Password": 1234,
        "url": ["https://user:pw@host/x"],
        "count": 3,
        "ratio": 0.5,
        "none": None,
    }
    RedactingFilter().filter(record)
    assert record.felix_fields == {
        "token": MASK,
        "Password": MASK,
        "url": f"['https://{MASK}@host/x']",
        "count": 3,
        "ratio": 0.5,
        "none": None,
    }


def test_redacting_filter_leaves_bad_arguments_to_the_handler() -> None:
    """A message whose arguments do not fit is left alone; the handler reports it as usual."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%d", ("x",), None)
    assert RedactingFilter().filter(record)
    assert (record.msg, record.args) == ("%d", ("x",))


class _OkHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _OkHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_httpx_request_line_with_a_bot_token_is_masked(local_server: str, root_setup: None) -> None:
    """httpx's own INFO line for a real request to a bot-token URL reaches the log masked."""
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    with bind_context(request_id="r1", orderId=5):
        response = httpx.get(f"{local_server}/bot{TOKEN}/getMe")
    assert response.json() == {"ok": True}
    output = buffer.getvalue()
    assert TOKEN not in output
    expected = f'HTTP Request: GET {local_server}/bot{MASK}/getMe "HTTP/1.0 200 OK"'
    assert f"[requestId=r1] [orderId=5] {expected}" in output.splitlines()


# --- configure_logging --------------------------------------------------------------------


def test_configure_logging_is_idempotent_and_leaves_others_alone(root_setup: None) -> None:
    """A second call replaces our handler; other handlers and loggers are untouched."""
    root = logging.getLogger()
    other = logging.getLogger("test.other")
    other.setLevel(logging.ERROR)
    before = list(root.handlers)
    first = configure_logging("DEBUG", stream=io.StringIO())
    buffer = io.StringIO()
    second = configure_logging(logging.WARNING, json=True, stream=buffer)
    try:
        assert [handler for handler in root.handlers if handler not in before] == [second]
        assert first not in root.handlers
        assert root.level == logging.WARNING
        assert other.level == logging.ERROR
        with bind_context(request_id="r1"):
            get_logger("test.cfg").warning("w", token=TOKEN)
        document = json.loads(buffer.getvalue())
        assert (document["requestId"], document["token"]) == ("r1", MASK)
        assert isinstance(second.formatter, JsonFormatter)
    finally:
        other.setLevel(logging.NOTSET)


def test_configure_logging_rejects_bad_levels(root_setup: None) -> None:
    """An unknown level name is a ValueError, another type a TypeError, both naming level."""
    with pytest.raises(ValueError, match="level"):
        configure_logging("LOUD")
    with pytest.raises(TypeError, match="level"):
        configure_logging(True)
    with pytest.raises(TypeError, match="level"):
        configure_logging(1.5)  # type: ignore[arg-type]


def test_configure_logging_defaults_to_stderr(root_setup: None) -> None:
    """Without a stream the handler writes to sys.stderr, in text."""
    handler = configure_logging()
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr
    assert isinstance(handler.formatter, CorrelationFormatter)
    assert logging.getLogger().level == logging.INFO


# --- OpenTelemetry ------------------------------------------------------------------------


def test_trace_id_of_an_active_span_is_a_field(text: Capture, jsonl: Capture) -> None:
    """Inside a real SDK span, current_trace_id and both formats carry its trace id."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        trace_id = f"{span.get_span_context().trace_id:032x}"
        assert current_trace_id() == trace_id
        with bind_context(request_id="r1", orderId=1):
            text.log.info("x")
            jsonl.log.info("x")
        text.log.info("y", mechanic="John")
    assert text.lines() == [
        f"[requestId=r1] [orderId=1, traceId={trace_id}] x",
        f"[requestId=-] [mechanic=John, traceId={trace_id}] y",
    ]
    assert json.loads(jsonl.lines()[0])["traceId"] == trace_id


def test_no_trace_id_without_a_span(text: Capture) -> None:
    """With OpenTelemetry imported but no active span there is no traceId."""
    assert current_trace_id() is None
    text.log.info("x")
    assert text.lines() == ["[requestId=-] x"]


def test_unknown_opentelemetry_runtime_falls_back_to_the_public_api(
    text: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If OpenTelemetry's context internals differ, the public API decides (no span: no id)."""
    import opentelemetry.context

    real = opentelemetry.context._RUNTIME_CONTEXT

    class OtherRuntime:  # the public API works; the ContextVar internal is not there
        def __getattr__(self, name: str) -> object:
            if name == "_current_context":
                raise AttributeError(name)
            return getattr(real, name)

    monkeypatch.setattr(opentelemetry.context, "_RUNTIME_CONTEXT", OtherRuntime())
    text.log.info("x")
    assert text.lines() == ["[requestId=-] x"]


def test_logging_works_without_opentelemetry() -> None:
    """With opentelemetry not importable, lines are written and there is no trace id."""
    code = (
        "import sys, io; sys.modules['opentelemetry'] = None\n"
        "from felix_reliability import configure_logging, get_logger, bind_context,"
        " current_trace_id\n"
        "buffer = io.StringIO(); configure_logging(stream=buffer)\n"
        "with bind_context(request_id='r1'): get_logger('x').info('hi', a=1)\n"
        "print(current_trace_id(), buffer.getvalue().strip())\n"
    )
    src = str(Path(__file__).parents[1] / "src")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src},
    )
    assert result.stdout.strip() == "None [requestId=r1] [a=1] hi"


def test_context_values_are_exposed_as_a_mapping(text: Capture) -> None:
    """record.context is a Mapping of the bound and line fields."""
    record = _record()
    record.felix_fields = {"mechanic": "John"}
    with bind_context(orderId=1):
        CorrelationFilter().filter(record)
    assert isinstance(record.context, Mapping)
    assert dict(record.context) == {"orderId": 1, "mechanic": "John"}


def test_no_trace_id_while_opentelemetry_is_not_imported(
    text: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until opentelemetry.trace is imported no span can be active, and nothing is imported."""
    monkeypatch.delitem(sys.modules, "opentelemetry.trace")
    assert current_trace_id() is None
    text.log.info("x")
    assert text.lines() == ["[requestId=-] x"]
    assert "opentelemetry.trace" not in sys.modules


def test_correlation_returns_the_bracketed_context() -> None:
    """correlation() gives the part before the message, for custom formatters."""
    record = _record()
    with bind_context(request_id="r1", orderId=1):
        assert CorrelationFormatter().correlation(record) == "[requestId=r1] [orderId=1]"


def test_lines_from_eight_threads_carry_their_own_fields(text: Capture) -> None:
    """Work handed to 8 threads at once through propagate logs the submitter's context."""
    barrier = threading.Barrier(8)

    def work(index: int) -> None:
        with bind_context(worker=index):
            barrier.wait(timeout=5)
            text.log.info("done")

    with bind_context(request_id="r1", orderId=7):
        wrapped = propagate(work)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(wrapped, range(8)))
    assert sorted(text.lines()) == sorted(
        f"[requestId=r1] [orderId=7, worker={index}] done" for index in range(8)
    )


def test_lines_from_concurrent_tasks_are_isolated(text: Capture) -> None:
    """Concurrent asyncio tasks log their own bindings."""

    async def task(order_id: int) -> None:
        with bind_context(request_id=f"r{order_id}", orderId=order_id):
            await asyncio.sleep(0)
            text.log.info("step")

    async def main() -> None:
        await asyncio.gather(*(task(index) for index in range(5)))

    asyncio.run(main())
    assert sorted(text.lines()) == [f"[requestId=r{i}] [orderId={i}] step" for i in range(5)]


def test_a_rejected_incoming_id_is_replaced_and_never_logged(text: Capture) -> None:
    """An unsafe incoming id gives way to a new one; its raw text appears nowhere."""
    incoming = "evil\n[requestId=forged]"
    with bind_context(request_id=sanitize_request_id(incoming) or new_request_id()):
        text.log.info("handled")
    [line] = text.lines()
    assert re.fullmatch(r"\[requestId=[0-9a-f]{32}\] handled", line)
