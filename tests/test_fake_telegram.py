"""FakeTelegramServer: a real HTTP server on 127.0.0.1 speaking the Bot API, with faults."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from felix_reliability._fake_telegram import DEFAULT_TOKEN, ReceivedMessage
from felix_reliability.testing import FakeTelegramServer

TOKEN = "987654321:ZYXwvuTSRqpONMlkjIHGfedCBA0123456789"
WRONG_TOKEN = "1:wrong"


@pytest.fixture
def server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer(TOKEN) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


def url(server: FakeTelegramServer, method: str = "sendMessage", token: str = TOKEN) -> str:
    return f"{server.base_url}/bot{token}/{method}"


def send(
    client: httpx.Client, server: FakeTelegramServer, chat_id: object = 42, text: str = "hi"
) -> httpx.Response:
    return client.post(url(server), json={"chat_id": chat_id, "text": text})


def test_send_message_answers_the_bot_api_envelope(server, client) -> None:
    """A JSON sendMessage is answered ok with the message object."""
    response = send(client, server)
    body = response.json()
    assert response.status_code == 200
    assert True is body["ok"]
    assert body["result"]["chat"] == {"id": 42, "type": "private"}
    assert (body["result"]["text"], body["result"]["message_id"]) == ("hi", 1)
    assert isinstance(body["result"]["date"], int)
    assert body["result"]["from"]["id"] == 987654321


def test_form_encoded_and_query_string_are_accepted(server, client) -> None:
    """Form bodies and GET query strings work as at Telegram; extra params are recorded."""
    client.post(url(server), data={"chat_id": "7", "text": "form", "parse_mode": "HTML"})
    client.get(url(server), params={"chat_id": "@news", "text": "query"})
    expected = [
        ReceivedMessage(7, "form", {"parse_mode": "HTML"}, 1),
        ReceivedMessage("@news", "query", {}, 1),
    ]
    actual = [
        ReceivedMessage(m.chat_id, m.text, dict(m.params), m.message_id) for m in server.messages
    ]
    assert expected == actual
    assert (
        client.get(url(server), params={"chat_id": "@x", "text": "t"}).json()["result"]["chat"][
            "type"
        ]
        == "channel"
    )


def test_message_ids_count_per_chat(server, client) -> None:
    """Each chat has its own message_id sequence."""
    ids = [send(client, server, chat).json()["result"]["message_id"] for chat in (1, 1, 2)]
    assert ids == [1, 2, 1]


def test_wrong_token_is_unauthorized_and_not_recorded(server, client) -> None:
    """Another token is answered 401 Unauthorized; nothing is recorded."""
    response = client.post(url(server, token=WRONG_TOKEN), json={"chat_id": 1, "text": "x"})
    assert (
        response.status_code,
        response.json(),
    ) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert server.messages == []
    assert server.request_count == 1


def test_token_none_accepts_any_token(client) -> None:
    """token=None accepts any token; `token` then returns the default test token."""
    with FakeTelegramServer(None) as server:
        assert server.token == DEFAULT_TOKEN
        response = client.post(url(server, token=WRONG_TOKEN), json={"chat_id": 1, "text": "x"})
    assert response.status_code == 200


def test_token_must_be_a_string() -> None:
    """A non-string token is a TypeError."""
    with pytest.raises(TypeError, match="token"):
        FakeTelegramServer(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [
        ("/nothing", 404, "Not Found"),
        (f"/bot{TOKEN}/getUpdates", 404, "Not Found: method not found"),
    ],
)
def test_unknown_paths_and_methods_are_404(server, client, path, status, description) -> None:
    """Only sendMessage under /bot<token>/ is served."""
    body = client.post(server.base_url + path, json={}).json()
    assert (status, description) == (body["error_code"], body["description"])


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "", "text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 1}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": 5}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": "x" * 4097}, "Bad Request: message is too long"),
    ],
)
def test_invalid_messages_are_400(server, client, payload, description) -> None:
    """Missing chat_id or text and over-long texts are rejected as Telegram does."""
    response = client.post(url(server), json=payload)
    assert (400, description) == (response.status_code, response.json()["description"])
    assert server.messages == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{broken", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"no-equals-sign", "application/x-www-form-urlencoded"),
    ],
)
def test_unparsable_bodies_are_400(server, client, content, content_type) -> None:
    """Bodies that are neither a JSON object nor a form are a 400."""
    response = client.post(url(server), content=content, headers={"Content-Type": content_type})
    assert response.json()["description"] == "Bad Request: can't parse request body"


def test_text_of_4096_characters_is_accepted(server, client) -> None:
    """4096 characters is the limit, inclusive."""
    assert send(client, server, text="x" * 4096).status_code == 200


def test_duplicates_by_chat_and_text(server, client) -> None:
    """The same text to the same chat twice is one duplicate."""
    for chat, text in [(1, "a"), (1, "a"), (2, "a"), (1, "b"), (1, "a")]:
        send(client, server, chat, text)
    assert server.duplicates() == {(1, "a"): 3}
    assert server.duplicate_count == 2
    assert server.count("1", "a") == 3


def test_duplicates_by_idempotency_key(server, client) -> None:
    """With an Idempotency-Key header, the key alone identifies the message."""
    for key, text in [("order-1", "a"), ("order-2", "a"), ("order-1", "changed")]:
        client.post(
            url(server), json={"chat_id": 1, "text": text}, headers={"Idempotency-Key": key}
        )
    assert server.duplicates() == {"order-1": 2}
    assert server.messages[0].key == "order-1"


def test_clear_forgets_messages_and_counts(server, client) -> None:
    """clear() empties the record but keeps scripted faults."""
    send(client, server)
    server.rate_limit()
    server.clear()
    assert (server.messages, server.request_count, server.duplicate_count) == ([], 0, 0)
    assert send(client, server).status_code == 429


def test_rate_limit_answers_429_with_retry_after(server, client) -> None:
    """A scripted 429 carries the realistic description and parameters.retry_after."""
    server.rate_limit(7)
    response = send(client, server)
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert send(client, server).status_code == 200


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_rate_limit_validates_retry_after(server, bad) -> None:
    """retry_after must be an int >= 0."""
    with pytest.raises((TypeError, ValueError), match="retry_after"):
        server.rate_limit(bad)


def test_faults_answer_times_requests(server, client) -> None:
    """times=N answers N requests, then the server is healthy again."""
    server.server_error(503, times=2)
    statuses = [send(client, server).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_times_none_answers_until_clear_faults(server, client) -> None:
    """times=None repeats the fault until clear_faults()."""
    server.server_error(times=None)
    assert [send(client, server).status_code for _ in range(2)] == [500, 500]
    server.clear_faults()
    assert send(client, server).status_code == 200


def test_times_is_validated(server) -> None:
    """times must be an int >= 1 (or None)."""
    with pytest.raises(ValueError, match="times"):
        server.server_error(times=0)


def test_faults_for_one_chat_leave_others_alone(server, client) -> None:
    """A chat-scoped fault only answers requests to that chat, oldest matching first."""
    server.reject(403, chat_id=2)
    server.server_error(502)
    assert [send(client, server, chat).status_code for chat in (1, 2, 2)] == [502, 403, 200]


def test_server_error_envelope_and_html(server, client) -> None:
    """5xx come as an envelope, or as the proxy's HTML page when html=True."""
    server.server_error(500)
    server.server_error(502, html=True)
    server.server_error(599)
    first, second, third = (send(client, server) for _ in range(3))
    assert first.json()["description"] == "Internal Server Error"
    assert (second.status_code, second.headers["content-type"]) == (502, "text/html")
    assert b"502 Bad Gateway" in second.content
    assert (third.status_code, third.json()["description"]) == (599, "Internal Server Error")
    server.server_error(503, html=True)
    server.server_error(599, html=True)
    assert b"<title>503 Service Unavailable</title>" in send(client, server).content
    assert b"<title>599</title>" in send(client, server).content


def test_server_error_status_is_validated(server) -> None:
    """server_error only takes 5xx."""
    with pytest.raises(ValueError, match="status"):
        server.server_error(404)


@pytest.mark.parametrize(
    ("code", "description"),
    [
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: bot was blocked by the user"),
        (404, "Not Found"),
        (418, "Bad Request"),
    ],
)
def test_reject_uses_realistic_descriptions(server, client, code, description) -> None:
    """Permanent errors carry Telegram's wording by default."""
    server.reject(code)
    response = send(client, server)
    assert (code, description) == (response.status_code, response.json()["description"])
    assert server.messages == []


def test_reject_takes_a_custom_description(server, client) -> None:
    """A caller-given description is used as is."""
    server.reject(400, "Bad Request: can't parse entities")
    assert send(client, server).json()["description"] == "Bad Request: can't parse entities"


@pytest.mark.parametrize("code", [399, 429, 500])
def test_reject_validates_the_code(server, code) -> None:
    """reject takes 4xx other than 429."""
    with pytest.raises(ValueError, match="error_code"):
        server.reject(code)


def test_migrate_answers_migrate_to_chat_id(server, client) -> None:
    """A migrated chat is answered 400 with parameters.migrate_to_chat_id, every time."""
    server.migrate(-100, -1001234)
    body = send(client, server, -100).json()
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1001234},
    }
    assert send(client, server, "-100").status_code == 400
    assert send(client, server, -1001234).status_code == 200


def test_reset_before_processing_records_nothing(server, client) -> None:
    """A reset before processing closes the connection unanswered; nothing is delivered."""
    server.reset_connection()
    with pytest.raises(httpx.ReadError):
        send(client, server)
    assert (server.messages, server.request_count) == ([], 1)


def test_reset_after_processing_records_the_message(server, client) -> None:
    """A reset after processing delivers the message, then closes unanswered."""
    server.reset_connection(after_processing=True)
    with pytest.raises(httpx.ReadError):
        send(client, server)
    assert [m.text for m in server.messages] == ["hi"]
    assert send(client, server).status_code == 200


def test_slow_answer_times_the_client_out_but_delivers(server) -> None:
    """A slow answer delivers the message and answers after the delay: a read timeout."""
    server.slow(0.2)
    with httpx.Client(timeout=0.05) as http, pytest.raises(httpx.ReadTimeout):
        send(http, server)
    assert [m.text for m in server.messages] == ["hi"]


def test_slow_answer_arrives_after_the_delay(server, client) -> None:
    """A patient client gets the normal answer after the delay."""
    server.slow(0.05)
    started = time.monotonic()
    response = send(client, server)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.05


def test_slow_delay_is_validated(server) -> None:
    """A negative delay is refused."""
    with pytest.raises(ValueError, match="delay"):
        server.slow(-1)


def test_close_interrupts_a_slow_answer() -> None:
    """close() ends a 60 s slow answer at once: the client sees a reset, the test never hangs."""
    server = FakeTelegramServer(TOKEN).start()
    server.slow(60)
    errors: list[BaseException] = []

    def call() -> None:
        with httpx.Client(timeout=10) as http:
            try:
                send(http, server)
            except httpx.HTTPError as exc:
                errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.messages:
        time.sleep(0.001)
    started = time.monotonic()
    server.close()
    caller.join()
    assert time.monotonic() - started < 1
    assert len(errors) == 1


@pytest.mark.parametrize(("kind", "error"), [("bad_gateway", None), ("reset", httpx.ReadError)])
def test_outage_fails_everything_until_it_ends(server, client, kind, error) -> None:
    """During an outage every request fails (502 HTML or reset), even with a wrong token."""
    server.start_outage(kind)
    for _ in range(2):
        if error is None:
            response = client.post(url(server, token=WRONG_TOKEN), json={})
            assert (response.status_code, response.headers["content-type"]) == (502, "text/html")
        else:
            with pytest.raises(error):
                send(client, server)
    server.end_outage()
    assert send(client, server).status_code == 200
    assert (len(server.messages), server.request_count) == (1, 3)


def test_outage_kind_is_validated(server) -> None:
    """Only the two outage kinds exist."""
    with pytest.raises(ValueError, match="kind"):
        server.start_outage("down")  # type: ignore[arg-type]


def test_clear_faults_ends_outage_migrations_and_random_faults(server, client) -> None:
    """clear_faults() drops every kind of fault."""
    server.start_outage()
    server.migrate(1, 2)
    server.set_fault_rate(1.0)
    server.clear_faults()
    assert send(client, server, 1).status_code == 200


def test_fault_rate_is_reproducible_with_a_seed(client) -> None:
    """The same seed gives the same faults; about the requested fraction fail."""

    def run() -> list[int]:
        with FakeTelegramServer(TOKEN) as server:
            server.set_fault_rate(0.3, seed=7, kinds=("rate_limit", "server_error", "forbidden"))
            return [send(client, server, text=str(index)).status_code for index in range(200)]

    first, second = run(), run()
    assert first == second
    assert 40 <= sum(status != 200 for status in first) <= 80
    assert {200, 429, 500, 403} == set(first)


def test_fault_rate_draws_every_kind(server, client) -> None:
    """With every kind, resets (before and after) and all error codes appear."""
    server.set_fault_rate(1.0, seed=1)
    seen: set[object] = set()
    for index in range(80):
        try:
            seen.add(send(client, server, text=str(index)).status_code)
        except httpx.ReadError:
            seen.add("reset")
    assert {429, 500, 502, 400, 403, 404, "reset"} == seen
    assert 0 < len(server.messages) < 80
    server.set_fault_rate(0)
    assert send(client, server).status_code == 200


@pytest.mark.parametrize(
    ("rate", "kinds"), [(1.5, None), (-0.1, None), (0.5, ()), (0.5, ("meteor",))]
)
def test_fault_rate_is_validated(server, rate, kinds) -> None:
    """The rate lies in 0..1 and kinds are known FaultKinds."""
    with pytest.raises(ValueError, match=r"rate|kinds"):
        server.set_fault_rate(rate, kinds=kinds)


def test_lifecycle_errors_and_idempotent_close() -> None:
    """base_url needs a running server, start twice is an error, close twice is fine."""
    server = FakeTelegramServer(TOKEN)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url
    assert repr(server) == "FakeTelegramServer(stopped, messages=0)"
    server.close()
    server.start()
    assert repr(server).startswith("FakeTelegramServer(http://127.0.0.1:")
    with pytest.raises(RuntimeError, match="already started"):
        server.start()
    server.close()
    server.close()


def test_close_joins_every_thread_even_with_idle_keep_alive_connections(client) -> None:
    """After close() the thread count is back to its baseline, with clients still open."""
    baseline = threading.active_count()
    with FakeTelegramServer(TOKEN) as server:
        for _ in range(3):
            send(client, server)
        other = httpx.Client()
        send(other, server)
        server.reset_connection(after_processing=True)
        with pytest.raises(httpx.ReadError):
            send(client, server)
    assert baseline == threading.active_count()
    other.close()


def test_server_listens_on_loopback_with_a_free_port(server) -> None:
    """The server binds 127.0.0.1 on a port chosen by the OS."""
    host, port = server.base_url.removeprefix("http://").split(":")
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(port)), timeout=1):
        pass


def test_a_client_that_disconnects_before_the_answer_is_ignored_quietly(capfd) -> None:
    """A client gone before a slow answer causes no traceback on stderr."""
    baseline = threading.active_count()
    server = FakeTelegramServer(TOKEN).start()
    server.slow(0.05)
    host, port = server.base_url.removeprefix("http://").split(":")
    body = json.dumps({"chat_id": 1, "text": "gone"}).encode()
    with socket.create_connection((host, int(port)), timeout=1) as raw:
        raw.sendall(
            f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        while not server.messages:
            time.sleep(0.001)
    # Let the slow answer hit the closed socket: wait for its connection thread to end.
    deadline = time.monotonic() + 2
    while threading.active_count() > baseline + 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.close()
    assert threading.active_count() == baseline
    assert capfd.readouterr().err == ""


def test_the_server_never_logs_the_token(server, client, caplog, capfd) -> None:
    """No server-side record and no stderr output mentions the token.

    (httpx's client-side records are redacted by install_httpx_log_redaction,
    tested in test_telegram_api.py.)
    """
    with caplog.at_level(logging.DEBUG):
        send(client, server)
        client.post(url(server, token=WRONG_TOKEN), json={})
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert all(TOKEN not in record.getMessage() for record in server_records)
    assert TOKEN not in capfd.readouterr().err


def test_fault_log_lists_every_fault_played(server, client) -> None:
    """fault_log records scripted faults, migrations and outages, in order."""
    server.rate_limit(chat_id=1)
    server.reject(403)
    server.migrate(3, 30)
    server.reset_connection(after_processing=True, chat_id=4)
    send(client, server, 1)
    send(client, server, 2)
    send(client, server, 3)
    with pytest.raises(httpx.ReadError):
        send(client, server, 4)
    server.start_outage()
    send(client, server, 5)
    assert server.fault_log == [
        ("rate_limit", 1),
        ("rejected", 2),
        ("migrated", 3),
        ("reset_after", 4),
        ("outage", None),
    ]
    server.clear()
    assert server.fault_log == []


def test_random_slow_answers_use_slow_delay(server) -> None:
    """ "slow" is drawn only when asked for, with the given delay: a short client timeout trips."""
    server.set_fault_rate(1.0, kinds=("slow",), slow_delay=0.1)
    with httpx.Client(timeout=0.02) as http, pytest.raises(httpx.ReadTimeout):
        send(http, server)
    assert [m.text for m in server.messages] == ["hi"]
    assert server.fault_log == [("slow", 42)]


def test_slow_is_not_a_default_random_fault(server, client) -> None:
    """By default random faults never cost real time."""
    server.set_fault_rate(1.0, seed=3)
    for index in range(60):
        with contextlib.suppress(httpx.ReadError):
            send(client, server, text=str(index))
    assert "slow" not in {kind for kind, _ in server.fault_log}


def test_slow_delay_of_random_faults_is_validated(server) -> None:
    """slow_delay must be a finite number >= 0."""
    with pytest.raises(ValueError, match="slow_delay"):
        server.set_fault_rate(0.5, slow_delay=-1)
