"""The Bot API helpers: envelopes, errors, classification and log redaction, over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import pickle
import traceback
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from felix_reliability._secrets import Secret
from felix_reliability._telegram_api import (
    HTTPX_LOGGERS,
    TelegramAPIError,
    TelegramNetworkError,
    _RedactingFilter,
    breaker_outcome,
    call_api,
    call_api_async,
    install_httpx_log_redaction,
    is_retryable,
    network_error,
    parse_response,
    parse_seconds,
)
from felix_reliability.exceptions import ConfigurationError
from felix_reliability.testing import FakeTelegramServer

# An odd shape on purpose: `redact` cannot recognise it without the Secret registry.
TOKEN = "555:token-of-an-unusual-shape-for-tests"
OTHER_TOKEN = "555:another-unusual-token-value-xx"


@pytest.fixture
def server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer(TOKEN) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def call(client: httpx.Client, server: FakeTelegramServer, **kwargs: object) -> dict[str, object]:
    options: dict[str, object] = {
        "base_url": server.base_url,
        "token": TOKEN,
        "method": "sendMessage",
        "params": {"chat_id": 42, "text": "hi"},
        "timeout": 5.0,
    }
    options.update(kwargs)
    return call_api(client, **options)  # type: ignore[arg-type]


def failure_of(client: httpx.Client, server: FakeTelegramServer, **kwargs: object) -> Exception:
    with pytest.raises(Exception) as info:
        call(client, server, **kwargs)
    return info.value


def assert_token_free(exc: BaseException) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    assert [text for text in texts if TOKEN in text or "/bot" in text] == []
    assert exc.__context__ is None
    assert exc.__cause__ is None


def response(status: int, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=content, headers={"Content-Type": content_type})


# Envelope parsing


def test_success_returns_the_result(server, client) -> None:
    """ok: true returns the message object."""
    result = call(client, server)
    assert (result["message_id"], result["text"]) == (1, "hi")


def test_secret_token_and_trailing_slash_work(server, client) -> None:
    """The token may be a Secret and the base URL may end with a slash."""
    result = call(client, server, token=Secret(TOKEN), base_url=server.base_url + "/")
    assert result["message_id"] == 1


def test_async_call_returns_the_result(server) -> None:
    """call_api_async works the same with an AsyncClient."""

    async def main() -> dict[str, object]:
        async with httpx.AsyncClient() as http:
            return await call_api_async(
                http,
                base_url=server.base_url,
                token=TOKEN,
                method="sendMessage",
                params={"chat_id": 1, "text": "async"},
                timeout=5.0,
            )

    assert asyncio.run(main())["text"] == "async"


def test_429_carries_retry_after(server, client) -> None:
    """A 429 envelope becomes an error with retry_after in seconds."""
    server.rate_limit(5)
    error = failure_of(client, server)
    assert isinstance(error, TelegramAPIError)
    assert (
        error.error_code,
        error.status_code,
        error.retry_after,
        error.migrate_to_chat_id,
        error.envelope,
    ) == (429, 429, 5.0, None, True)
    assert str(error) == "Telegram error 429: Too Many Requests: retry after 5"


def test_migration_carries_the_new_chat_id(server, client) -> None:
    """migrate_to_chat_id is read from parameters."""
    server.migrate(42, -100777)
    error = failure_of(client, server)
    assert isinstance(error, TelegramAPIError)
    assert (error.error_code, error.migrate_to_chat_id) == (400, -100777)


def test_wrong_token_is_401(server, client) -> None:
    """A rejected token gives error_code 401 and a token-free message."""
    error = failure_of(client, server, token=OTHER_TOKEN)
    assert isinstance(error, TelegramAPIError)
    assert error.error_code == 401


def test_html_502_is_a_clear_error_with_the_status(server, client) -> None:
    """A proxy's HTML 502 is not JSON: the error names the status and content type."""
    server.server_error(502, html=True)
    error = failure_of(client, server)
    assert isinstance(error, TelegramAPIError)
    assert (error.error_code, error.status_code, error.envelope) == (502, 502, False)
    assert error.description == "HTTP 502 with a body that is not JSON (text/html)"
    assert_token_free(error)


def test_envelope_is_read_before_the_status_code() -> None:
    """ok: true on a 500 is a success; ok: false on a 200 is an error."""
    ok = response(500, b'{"ok": true, "result": {"message_id": 3}}')
    assert parse_response(ok) == {"message_id": 3}
    with pytest.raises(TelegramAPIError) as info:
        parse_response(response(200, b'{"ok": false, "error_code": 403, "description": "no"}'))
    assert (info.value.error_code, info.value.status_code) == (403, 200)


@pytest.mark.parametrize(
    ("content", "description"),
    [
        (b"", "HTTP 503 with a body that is not JSON (application/json)"),
        (b"{broken", "HTTP 503 with a body that is not JSON (application/json)"),
        (b"[1]", "HTTP 503 with JSON that is not a Bot API envelope"),
        (b'{"ok": "yes"}', "HTTP 503 with JSON that is not a Bot API envelope"),
        (b'{"ok": true, "result": true}', "HTTP 503: ok without a result object"),
    ],
)
def test_malformed_bodies_are_clear_errors(content, description) -> None:
    """Broken or unexpected bodies never crash: they raise with the status code."""
    with pytest.raises(TelegramAPIError) as info:
        parse_response(response(503, content))
    assert (503, description, False) == (
        info.value.error_code,
        info.value.description,
        info.value.envelope,
    )


def test_missing_content_type_is_named() -> None:
    """Without a content type the error says so."""
    with pytest.raises(TelegramAPIError, match="no content type"):
        parse_response(httpx.Response(502, content=b"<html>"))


def test_envelope_with_odd_fields_falls_back_safely() -> None:
    """A missing error_code uses the status; bad description/parameters are ignored."""
    body = b'{"ok": false, "error_code": true, "description": 5, "parameters": [1]}'
    with pytest.raises(TelegramAPIError) as info:
        parse_response(response(400, body))
    error = info.value
    assert (
        error.error_code,
        error.description,
        error.retry_after,
        error.migrate_to_chat_id,
    ) == (400, "no description", None, None)


def test_description_is_redacted() -> None:
    """A token echoed in a description is masked."""
    secret = Secret("555:echoed-token-in-a-description-x")
    body = (
        b'{"ok": false, "error_code": 400, "description": "bad ' + secret.reveal().encode() + b'"}'
    )
    with pytest.raises(TelegramAPIError) as info:
        parse_response(response(400, body))
    assert secret.reveal() not in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5.0),
        (0, 0.0),
        (1.5, 1.5),
        ("3", 3.0),
        (1e300, 1e300),
        (-1, None),
        (True, None),
        (None, None),
        ("soon", None),
        (float("nan"), None),
        (float("inf"), None),
        (10**400, None),
        ([5], None),
    ],
)
def test_parse_seconds(value, expected) -> None:
    """retry_after becomes a finite float >= 0, or None; nothing is clamped."""
    assert expected == parse_seconds(value)


@given(st.one_of(st.integers(), st.floats(), st.text(), st.none(), st.booleans()))
def test_parse_seconds_is_total(value) -> None:
    """parse_seconds never raises and returns None or a finite float >= 0."""
    seconds = parse_seconds(value)
    assert seconds is None or (seconds >= 0 and seconds != float("inf"))


def test_api_errors_pickle() -> None:
    """Errors survive a round trip through pickle (dead letters may cross processes)."""
    error = TelegramAPIError(
        429, "slow down", status_code=429, retry_after=2.0, migrate_to_chat_id=None, envelope=True
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own data
    assert (str(error), copy.retry_after, copy.status_code) == (str(copy), 2.0, 429)
    network = TelegramNetworkError("read", "ReadError")
    assert str(network) == str(pickle.loads(pickle.dumps(network)))  # noqa: S301 - same


# Network errors carry no token


def test_reset_before_answer_is_a_read_error(server, client) -> None:
    """A reset is a 'read' network error: maybe delivered; the httpx cause is dropped."""
    server.reset_connection()
    error = failure_of(client, server)
    assert isinstance(error, TelegramNetworkError)
    assert (
        error.kind,
        error.error_type,
        error.may_have_been_delivered,
        error.is_timeout,
    ) == ("read", "ReadError", True, False)
    assert_token_free(error)


def test_read_timeout_is_a_read_timeout(server, client) -> None:
    """A slow answer past the timeout is a read timeout."""
    server.slow(0.2)
    error = failure_of(client, server, timeout=0.05)
    assert isinstance(error, TelegramNetworkError)
    assert (
        error.kind,
        error.is_timeout,
        error.may_have_been_delivered,
    ) == ("read_timeout", True, True)
    assert_token_free(error)


def test_connect_error_when_nobody_listens(client) -> None:
    """A closed port is a connect error: nothing was sent."""
    server = FakeTelegramServer(TOKEN).start()
    base_url = server.base_url
    server.close()
    with pytest.raises(TelegramNetworkError) as info:
        call_api(
            client,
            base_url=base_url,
            token=TOKEN,
            method="sendMessage",
            params={},
            timeout=1.0,
        )
    assert (info.value.kind, info.value.may_have_been_delivered) == ("connect", False)
    assert_token_free(info.value)


def test_async_network_errors_are_token_free(server) -> None:
    """The async call drops the httpx cause too."""
    server.reset_connection()

    async def main() -> None:
        async with httpx.AsyncClient() as http:
            await call_api_async(
                http,
                base_url=server.base_url,
                token=TOKEN,
                method="sendMessage",
                params={"chat_id": 1, "text": "x"},
                timeout=5.0,
            )

    with pytest.raises(TelegramNetworkError) as info:
        asyncio.run(main())
    assert_token_free(info.value)


@pytest.mark.parametrize("async_", [False, True])
@pytest.mark.parametrize("base_url", ["http://a:b:c", "http://" + "a" * 70 + ".org"])
def test_invalid_base_url_is_a_token_free_configuration_error(async_, base_url) -> None:
    """A base URL httpx cannot parse raises ConfigurationError without the URL."""
    options = {
        "base_url": base_url,
        "token": TOKEN,
        "method": "sendMessage",
        "params": {},
        "timeout": 1.0,
    }

    async def main() -> None:
        async with httpx.AsyncClient() as http:
            await call_api_async(http, **options)  # type: ignore[arg-type]

    def run() -> None:
        if async_:
            asyncio.run(main())
            return
        with httpx.Client() as http:
            call_api(http, **options)  # type: ignore[arg-type]

    # The async transport reports an unencodable host as a connect error instead.
    with pytest.raises((ConfigurationError, TelegramNetworkError)) as info:
        run()
    if isinstance(info.value, ConfigurationError):
        assert str(info.value) == "base_url does not make a valid URL with the token ([REDACTED])"
    assert base_url.startswith("http://" + "a" * 70) or isinstance(info.value, ConfigurationError)
    assert_token_free(info.value)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("x"), "connect"),
        (httpx.ConnectTimeout("x"), "connect"),
        (httpx.PoolTimeout("x"), "connect"),
        (httpx.UnsupportedProtocol("x"), "connect"),
        (httpx.WriteError("x"), "write"),
        (httpx.WriteTimeout("x"), "write"),
        (httpx.ReadTimeout("x"), "read_timeout"),
        (httpx.ReadError("x"), "read"),
        (httpx.RemoteProtocolError("x"), "read"),
    ],
)
def test_network_error_kinds(exc, kind) -> None:
    """Each httpx error maps to whether the request could have reached Telegram."""
    assert kind == network_error(exc).kind


# Classification


def api_error(code: int, *, envelope: bool = True) -> TelegramAPIError:
    return TelegramAPIError(code, "d", status_code=code, envelope=envelope)


@pytest.mark.parametrize(
    ("exc", "retry_plain", "retry_idempotent", "outcome"),
    [
        (api_error(429), True, True, "ignored"),
        (api_error(500), True, True, "failure"),
        (api_error(502, envelope=False), True, True, "failure"),
        (api_error(401), False, False, "failure"),
        (api_error(400), False, False, "success"),
        (api_error(403), False, False, "success"),
        (api_error(404), False, False, "success"),
        (api_error(200, envelope=False), False, True, "failure"),
        (TelegramNetworkError("connect", "ConnectError"), True, True, "failure"),
        (TelegramNetworkError("connect", "ConnectTimeout"), True, True, "failure"),
        (TelegramNetworkError("write", "WriteError"), True, True, "failure"),
        (TelegramNetworkError("read_timeout", "ReadTimeout"), False, True, "failure"),
        (TelegramNetworkError("read", "ReadError"), False, True, "failure"),
        (httpx.ConnectError("x"), True, True, "failure"),
        (httpx.ReadTimeout("x"), False, True, "failure"),
        (ValueError("bug"), False, False, "failure"),
    ],
)
def test_classification(exc, retry_plain, retry_idempotent, outcome) -> None:
    """is_retryable and breaker_outcome follow the Telegram contract."""
    assert (retry_plain, retry_idempotent, outcome) == (
        is_retryable(exc, idempotent=False),
        is_retryable(exc, idempotent=True),
        breaker_outcome(exc),
    )


def test_connect_timeout_counts_as_a_timeout() -> None:
    """is_timeout covers connect and write timeouts too."""
    assert network_error(httpx.ConnectTimeout("x")).is_timeout


# Log redaction


@pytest.fixture
def capture_all() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(level)


def test_httpx_records_are_redacted(server, capture_all) -> None:
    """After install, no httpx/httpcore record at any level holds the token."""
    token = Secret(TOKEN)
    install_httpx_log_redaction()
    with httpx.Client() as http:
        http.post(f"{server.base_url}/bot{token.reveal()}/sendMessage", json={"chat_id": 1})
    messages = [record.getMessage() for record in capture_all]
    assert any("HTTP Request: POST" in message and "[REDACTED]" in message for message in messages)
    assert any(record.name.startswith("httpcore") for record in capture_all)
    assert [message for message in messages if TOKEN in message] == []


def test_install_is_idempotent() -> None:
    """Installing twice leaves one redaction filter per logger."""
    install_httpx_log_redaction()
    install_httpx_log_redaction()
    counts = [
        sum(isinstance(f, _RedactingFilter) for f in logging.getLogger(name).filters)
        for name in HTTPX_LOGGERS
    ]
    assert counts == [1] * len(HTTPX_LOGGERS)


def test_records_without_secrets_keep_their_message(capture_all) -> None:
    """Records with nothing to mask keep their message and arguments."""
    install_httpx_log_redaction()
    logging.getLogger("httpx").info("plain message")
    logging.getLogger("httpx").info("value %s", 5)
    assert capture_all[1].args == (5,)
    assert [record.getMessage() for record in capture_all] == ["plain message", "value 5"]
