"""A fake Telegram Bot API server on 127.0.0.1 for tests: real HTTP, scripted faults.

Only the standard library is used, so `felix_reliability.testing` stays
importable without httpx.
"""

from __future__ import annotations

import contextlib
import http
import http.server
import json
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Final, Literal, Self, cast

import attrs

from felix_reliability._validation import (
    check_fraction,
    check_non_negative_float,
    check_positive_int,
)

__all__ = ["FakeTelegramServer", "FaultKind", "ReceivedMessage"]

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "bad_gateway",
    "bad_request",
    "forbidden",
    "not_found",
    "reset_before",
    "reset_after",
    "slow",
]
"""The faults `FakeTelegramServer.set_fault_rate` draws from."""

# Every kind but "slow", which costs real time.
_DEFAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "rate_limit",
    "server_error",
    "bad_gateway",
    "bad_request",
    "forbidden",
    "not_found",
    "reset_before",
    "reset_after",
)
DEFAULT_TOKEN: Final = "123456789:AAFakeTokenForFelixReliabilityTests0"  # noqa: S105 - a fake
MAX_TEXT_LENGTH: Final = 4096
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"

_DESCRIPTIONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "Bad Request: chat not found",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
)
_PATH: Final = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)/?$")
_INTEGER: Final = re.compile(r"^-?\d{1,20}$")
_MAX_BODY: Final = 1 << 20
_RANDOM_RETRY_AFTER: Final = 1


@attrs.frozen
class ReceivedMessage:
    """A sendMessage request the fake server accepted and recorded.

    Attributes:
        chat_id: The target chat: an int when it looks like one, else the
            string as sent (``"@channel"``).
        text: The message text.
        params: Every other parameter of the request (``parse_mode``, ...).
        message_id: The id the server answered (or would have answered) with.
        idempotency_key: The ``Idempotency-Key`` request header, if any.
    """

    chat_id: int | str
    text: str
    params: Mapping[str, object]
    message_id: int
    idempotency_key: str | None = None

    @property
    def key(self) -> str | tuple[int | str, str]:
        """The identity used to count duplicates: the idempotency key, else (chat_id, text)."""
        if self.idempotency_key is not None:
            return self.idempotency_key
        return (self.chat_id, self.text)


@attrs.frozen
class _Fault:
    kind: str
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0
    html: bool = False


@attrs.define
class _Scripted:
    fault: _Fault
    chat_id: int | str | None
    remaining: int | None


@attrs.define
class _Answer:
    """What the handler does with one request, decided under the server lock."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    reset: bool = False
    delay: float = 0.0


def _normalize_chat_id(value: object) -> int | str:
    text = str(value)
    return int(text) if _INTEGER.match(text) else text


def _proxy_page(status: int) -> bytes:
    """Return the HTML error page nginx serves when the API behind it is down."""
    try:
        title = f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n"
        f"<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def _envelope_error(
    status: int, description: str, parameters: Mapping[str, object] | None = None
) -> _Answer:
    body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
    if parameters is not None:
        body["parameters"] = dict(parameters)
    return _Answer(status=status, body=json.dumps(body).encode())


def _fault_answer(fault: _Fault) -> _Answer:
    if fault.kind == "reset_before":
        return _Answer(reset=True)
    if fault.html:
        return _Answer(
            status=fault.status, body=_proxy_page(fault.status), content_type="text/html"
        )
    parameters = None if fault.retry_after is None else {"retry_after": fault.retry_after}
    return _envelope_error(fault.status, fault.description, parameters)


_ALL_KINDS: Final[tuple[FaultKind, ...]] = (*_DEFAULT_KINDS, "slow")
_RANDOM_FAULTS: Final[Mapping[str, _Fault]] = MappingProxyType(
    {
        "rate_limit": _Fault(
            "rate_limit",
            429,
            f"Too Many Requests: retry after {_RANDOM_RETRY_AFTER}",
            retry_after=_RANDOM_RETRY_AFTER,
        ),
        "server_error": _Fault("server_error", 500, _DESCRIPTIONS[500]),
        "bad_gateway": _Fault("server_error", 502, _DESCRIPTIONS[502], html=True),
        "bad_request": _Fault("rejected", 400, _DESCRIPTIONS[400]),
        "forbidden": _Fault("rejected", 403, _DESCRIPTIONS[403]),
        "not_found": _Fault("rejected", 404, _DESCRIPTIONS[404]),
        "reset_before": _Fault("reset_before"),
        "reset_after": _Fault("reset_after"),
    }
)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _HTTPServer  # pyright: ignore[reportIncompatibleVariableOverride] - set by our server
    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegram/1.0"
    sys_version = ""
    # Buffered, so the headers and the body leave in one segment: no delayed-ACK stalls.
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Log nothing: the request line holds the bot token."""

    def do_GET(self) -> None:
        """Answer a Bot API call with its parameters in the query string."""
        self._serve(b"")

    def do_POST(self) -> None:
        """Answer a Bot API call with a JSON or form-encoded body."""
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(min(length, _MAX_BODY)))

    def _serve(self, body: bytes) -> None:
        fake = self.server.fake
        answer = fake._answer(  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - part of the fake
            self.path,
            body,
            self.headers.get("Content-Type") or "",
            self.headers.get(IDEMPOTENCY_HEADER),
        )
        closing = fake._closing  # noqa: SLF001  # pyright: ignore[reportPrivateUsage] - same
        if answer.delay and closing.wait(answer.delay):
            answer = _Answer(reset=True)
        if answer.reset:
            self._reset()
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a RST instead of a FIN: a real reset.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()


class _HTTPServer(http.server.ThreadingHTTPServer):
    """Serves each connection in a daemon thread that `close_connections` can end and join."""

    def __init__(self, fake: FakeTelegramServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]  # TCP only
        """Serve the connection in a tracked daemon thread."""
        worker = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="FakeTelegramServer connection",
            daemon=True,
        )
        with self._connections_lock:
            self._workers = {thread for thread in self._workers if thread.is_alive()}
            self._workers.add(worker)
            self._connections.add(request)
        worker.start()

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]  # TCP only
        """Forget the connection, then close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection and join the threads serving them."""
        with self._connections_lock:
            connections = list(self._connections)
            workers = list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join()

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore clients that went away; a test server must stay quiet."""


class FakeTelegramServer:
    """A real HTTP server on 127.0.0.1 that speaks the Telegram Bot API, for tests.

    It answers ``sendMessage`` (JSON, form-encoded or query-string
    parameters) with the Bot API envelope, records every message it
    accepted, counts duplicates, checks the bot token, and plays scripted
    faults. Use it as a context manager; `base_url` and `token` are what a
    notifier needs::

        with FakeTelegramServer() as server:
            notifier = TelegramNotifier(server.token, base_url=server.base_url)
            notifier.send_message(42, "hello")
            assert [m.text for m in server.messages] == ["hello"]

    Duplicates: two recorded messages are the same message when they carry
    the same ``Idempotency-Key`` request header, or, without that header,
    the same ``chat_id`` and ``text``. Telegram ignores the header, so a
    client may always send it.

    Faults for upcoming requests are queued with `rate_limit`,
    `server_error`, `reject`, `reset_connection` and `slow`; each takes
    ``times`` (how many requests it answers; `None` for every one until
    `clear_faults`) and ``chat_id`` (only requests to that chat). The oldest
    matching fault answers a request. `migrate` marks a chat as upgraded,
    `start_outage` fails everything, and `set_fault_rate` adds seeded random
    faults. The token check comes after an outage and before every other
    fault, as at Telegram's edge. The server never logs (its request lines
    hold the token).

    Args:
        token: The bot token the server accepts; any other answers 401.
            `None` accepts every token.

    .. versionadded:: 0.1.0
    """

    def __init__(self, token: str | None = DEFAULT_TOKEN) -> None:
        if token is not None and not isinstance(token, str):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise TypeError(f"token must be a str or None, got {type(token).__name__}")
        self._expected_token = token
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._messages: list[ReceivedMessage] = []
        self._keys: Counter[object] = Counter()
        self._next_id: dict[int | str, int] = {}
        self._script: list[_Scripted] = []
        self._migrated: dict[int | str, int] = {}
        self._outage: Literal["bad_gateway", "reset"] | None = None
        self._fault_rate = 0.0
        self._fault_kinds: tuple[FaultKind, ...] = _DEFAULT_KINDS
        self._slow_delay = 0.0
        self._fault_log: list[tuple[str, int | str | None]] = []
        self._random = random.Random(0)  # noqa: S311 - fault injection, not cryptography
        self._request_count = 0
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        """Start serving in a daemon thread; return the server.

        Raises:
            RuntimeError: If the server was already started.
        """
        if self._server is not None:
            raise RuntimeError("the FakeTelegramServer is already started")
        self._closing.clear()
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeTelegramServer",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, interrupt slow answers and join every thread. Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._closing.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """The ``http://127.0.0.1:<port>`` address to use as the API base URL.

        Raises:
            RuntimeError: If the server is not running.
        """
        if self._server is None:
            raise RuntimeError("the FakeTelegramServer is not started")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def token(self) -> str:
        """The token the server expects (the default test token when it accepts any)."""
        return DEFAULT_TOKEN if self._expected_token is None else self._expected_token

    # What was received

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A copy of the messages accepted so far, in order."""
        with self._lock:
            return list(self._messages)

    @property
    def request_count(self) -> int:
        """How many HTTP requests arrived, whatever their answer."""
        with self._lock:
            return self._request_count

    @property
    def fault_log(self) -> list[tuple[str, int | str | None]]:
        """The faults played so far, in order, as ``(kind, chat_id)``.

        Kinds: ``"rate_limit"``, ``"server_error"`` (also proxy pages),
        ``"rejected"`` (permanent 4xx), ``"reset_before"``, ``"reset_after"``,
        ``"slow"``, ``"migrated"`` and ``"outage"`` (whose chat is `None`).
        """
        with self._lock:
            return list(self._fault_log)

    def count(self, chat_id: int | str, text: str) -> int:
        """Return how many times *text* was accepted for *chat_id*."""
        wanted = _normalize_chat_id(chat_id)
        with self._lock:
            return sum(1 for m in self._messages if m.chat_id == wanted and m.text == text)

    def duplicates(self) -> dict[object, int]:
        """Return each message key seen more than once and how many times it was seen.

        A key is a message's ``Idempotency-Key`` header, or ``(chat_id, text)``.
        """
        with self._lock:
            return {key: seen for key, seen in self._keys.items() if seen > 1}

    @property
    def duplicate_count(self) -> int:
        """How many accepted messages repeated an earlier one (0 when all are distinct)."""
        with self._lock:
            return sum(seen - 1 for seen in self._keys.values())

    def clear(self) -> None:
        """Forget the recorded messages, the fault log and the request count (faults stay)."""
        with self._lock:
            self._messages.clear()
            self._keys.clear()
            self._fault_log.clear()
            self._request_count = 0

    # Scripted faults

    def rate_limit(
        self, retry_after: int = 5, *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """Answer 429 ``Too Many Requests`` with ``parameters.retry_after``.

        Raises:
            ValueError: If *retry_after* is negative.
        """
        if isinstance(retry_after, bool) or not isinstance(retry_after, int):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise TypeError(f"retry_after must be an int, got {type(retry_after).__name__}")
        if retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after!r}")
        description = f"Too Many Requests: retry after {retry_after}"
        self._push(_Fault("rate_limit", 429, description, retry_after=retry_after), times, chat_id)

    def server_error(
        self,
        status: int = 500,
        *,
        html: bool = False,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer with a 5xx: a JSON envelope, or an nginx HTML page when *html* is true.

        Raises:
            ValueError: If *status* is not in 500..599.
        """
        if not 500 <= status <= 599:  # noqa: PLR2004 - the 5xx range
            raise ValueError(f"status must be in 500..599, got {status!r}")
        description = _DESCRIPTIONS.get(status, "Internal Server Error")
        self._push(_Fault("server_error", status, description, html=html), times, chat_id)

    def reject(
        self,
        error_code: int = 403,
        description: str | None = None,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer with a permanent 4xx error envelope (403 blocked by the user by default).

        Args:
            error_code: 400..499 except 429 (use `rate_limit`).
            description: The ``description``; a realistic one by default.
            times: How many requests to answer so; `None` for all.
            chat_id: Only requests to this chat.

        Raises:
            ValueError: If *error_code* is not a 4xx other than 429.
        """
        if not 400 <= error_code <= 499 or error_code == 429:  # noqa: PLR2004 - the 4xx range
            raise ValueError(f"error_code must be a 4xx other than 429, got {error_code!r}")
        text = description if description is not None else _DESCRIPTIONS.get(error_code)
        text = text if text is not None else "Bad Request"
        self._push(_Fault("rejected", error_code, text), times, chat_id)

    def reset_connection(
        self,
        *,
        after_processing: bool = False,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Reset the connection without an answer.

        Before processing, nothing is recorded; after processing, the message
        is recorded (delivered) and then the connection is reset.
        """
        kind = "reset_after" if after_processing else "reset_before"
        self._push(_Fault(kind), times, chat_id)

    def slow(
        self, delay: float, *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """Record the message, then wait *delay* seconds before answering.

        `close` interrupts the wait (the client then sees a reset), so a test
        never hangs on a slow answer.

        Raises:
            ValueError: If *delay* is negative or not finite.
        """
        seconds = check_non_negative_float("delay", delay)
        self._push(_Fault("slow", delay=seconds), times, chat_id)

    def migrate(self, chat_id: int | str, new_chat_id: int) -> None:
        """Mark *chat_id* as upgraded to the supergroup *new_chat_id*.

        Every later message to *chat_id* gets 400 with
        ``parameters.migrate_to_chat_id``; *new_chat_id* works normally.
        """
        with self._lock:
            self._migrated[_normalize_chat_id(chat_id)] = new_chat_id

    def start_outage(self, kind: Literal["bad_gateway", "reset"] = "bad_gateway") -> None:
        """Fail every request (502 HTML from the proxy, or a reset) until `end_outage`."""
        if kind not in {"bad_gateway", "reset"}:
            raise ValueError(f"kind must be 'bad_gateway' or 'reset', got {kind!r}")
        with self._lock:
            self._outage = kind

    def end_outage(self) -> None:
        """End the outage started by `start_outage`."""
        with self._lock:
            self._outage = None

    def set_fault_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: tuple[FaultKind, ...] | None = None,
        slow_delay: float = 0.05,
    ) -> None:
        """Answer a fraction *rate* of requests with a random fault, reproducibly.

        Random faults apply after scripted ones. Rate-limit faults ask for a
        1 s wait (``parameters.retry_after = 1``); ``bad_gateway`` is a proxy's
        HTML 502. ``set_fault_rate(0)`` turns random faults off.

        Args:
            rate: The probability of a fault per request, 0..1.
            seed: Seeds the random choices, so a chaos run can be replayed.
            kinds: The faults to draw from; by default every `FaultKind`
                but ``"slow"``, which costs real time.
            slow_delay: The delay of a random ``"slow"`` answer, in seconds.

        Raises:
            ValueError: If *rate* is outside 0..1 or *kinds* is empty or unknown.
        """
        fraction = 0.0 if rate == 0 else check_fraction("rate", rate)
        delay = check_non_negative_float("slow_delay", slow_delay)
        chosen = _DEFAULT_KINDS if kinds is None else tuple(kinds)
        unknown = [kind for kind in chosen if kind not in _ALL_KINDS]
        if not chosen or unknown:
            raise ValueError(f"kinds must be a non-empty tuple of FaultKind, got {kinds!r}")
        with self._lock:
            self._fault_rate = fraction
            self._fault_kinds = chosen
            self._slow_delay = delay
            self._random = random.Random(seed)  # noqa: S311 - fault injection

    def clear_faults(self) -> None:
        """Drop scripted faults, migrations, the outage and the random fault rate."""
        with self._lock:
            self._script.clear()
            self._migrated.clear()
            self._outage = None
            self._fault_rate = 0.0

    def _push(self, fault: _Fault, times: int | None, chat_id: int | str | None) -> None:
        remaining = None if times is None else check_positive_int("times", times)
        target = None if chat_id is None else _normalize_chat_id(chat_id)
        with self._lock:
            self._script.append(_Scripted(fault, target, remaining))

    # Serving (called from handler threads)

    def _answer(  # noqa: PLR0911 - one return per kind of answer
        self, path: str, body: bytes, content_type: str, idempotency_key: str | None
    ) -> _Answer:
        with self._lock:
            self._request_count += 1
            if self._outage is not None:
                self._fault_log.append(("outage", None))
            if self._outage == "reset":
                return _Answer(reset=True)
            if self._outage == "bad_gateway":
                return _Answer(status=502, body=_proxy_page(502), content_type="text/html")
            url = urllib.parse.urlsplit(path)
            match = _PATH.match(url.path)
            if match is None:
                return _envelope_error(404, "Not Found")
            if self._expected_token is not None and match["token"] != self._expected_token:
                return _envelope_error(401, "Unauthorized")
            if match["method"] != "sendMessage":
                return _envelope_error(404, "Not Found: method not found")
            params = _parse_params(url.query, body, content_type)
            if params is None:
                return _envelope_error(400, "Bad Request: can't parse request body")
            return self._send_message(params, idempotency_key)

    def _send_message(  # noqa: PLR0911 - one return per kind of answer
        self, params: dict[str, object], idempotency_key: str | None
    ) -> _Answer:
        raw_chat = params.pop("chat_id", None)
        if raw_chat in {None, ""}:
            return _envelope_error(400, "Bad Request: chat_id is empty")
        chat_id = _normalize_chat_id(raw_chat)
        fault = self._take_fault(chat_id)
        if fault is not None:
            self._fault_log.append((fault.kind, chat_id))
        if fault is not None and fault.kind not in {"slow", "reset_after"}:
            return _fault_answer(fault)
        if chat_id in self._migrated:
            self._fault_log.append(("migrated", chat_id))
            return _envelope_error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        text = params.pop("text", None)
        if not isinstance(text, str) or not text:
            return _envelope_error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            return _envelope_error(400, "Bad Request: message is too long")
        message_id = self._next_id.get(chat_id, 0) + 1
        self._next_id[chat_id] = message_id
        message = ReceivedMessage(
            chat_id, text, MappingProxyType(params), message_id, idempotency_key
        )
        self._messages.append(message)
        self._keys[message.key] += 1
        if fault is not None and fault.kind == "reset_after":
            return _Answer(reset=True)
        result = {
            "message_id": message_id,
            "from": {"id": _bot_id(self.token), "is_bot": True, "first_name": "Fake Bot"},
            "chat": {"id": chat_id, "type": "private" if isinstance(chat_id, int) else "channel"},
            "date": int(time.time()),
            "text": text,
        }
        answer = _Answer(body=json.dumps({"ok": True, "result": result}).encode())
        answer.delay = fault.delay if fault is not None else 0.0
        return answer

    def _take_fault(self, chat_id: int | str) -> _Fault | None:
        for index, entry in enumerate(self._script):
            if entry.chat_id is not None and entry.chat_id != chat_id:
                continue
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining == 0:
                    del self._script[index]
            return entry.fault
        if self._fault_rate and self._random.random() < self._fault_rate:
            kind = self._random.choice(self._fault_kinds)
            if kind == "slow":
                return _Fault("slow", delay=self._slow_delay)
            return _RANDOM_FAULTS[kind]
        return None

    def __repr__(self) -> str:
        state = "stopped" if self._server is None else self.base_url
        return f"FakeTelegramServer({state}, messages={len(self._messages)})"


def _bot_id(token: str) -> int:
    head = token.partition(":")[0]
    return int(head) if head.isdigit() else 1


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, object] | None:
    params: dict[str, object] = dict(urllib.parse.parse_qsl(query))
    if not body:
        return params
    if content_type.startswith("application/json"):
        try:
            decoded: object = json.loads(body)
        except ValueError:
            return None
        if not isinstance(decoded, dict):
            return None
        fields = cast("dict[object, object]", decoded)
        params.update((str(key), value) for key, value in fields.items())
        return params
    try:
        params.update(urllib.parse.parse_qsl(body.decode(), strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None
    return params
