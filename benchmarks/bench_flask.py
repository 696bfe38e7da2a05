"""Flask rows: what the extension adds to a request (request id, binding, header, log line)."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g, request
from harness import Case, Row

from felix_reliability import CorrelationFilter, CorrelationFormatter
from felix_reliability.adapters.flask import FelixReliability

_LOGGERS = ("felix_reliability.flask", "bench.flask.handrolled")


class _NullStream:
    """A text stream that drops what it is given, so only the logging work is timed."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _setup_logging() -> None:
    ours = logging.getLogger(_LOGGERS[0])
    if not ours.handlers:
        handler = logging.StreamHandler(_NullStream())
        handler.addFilter(CorrelationFilter())
        handler.setFormatter(CorrelationFormatter())
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False
    theirs = logging.getLogger(_LOGGERS[1])
    if not theirs.handlers:
        handler = logging.StreamHandler(_NullStream())
        handler.setFormatter(logging.Formatter("[requestId=%(request_id)s] %(message)s"))
        theirs.addHandler(handler)
        theirs.setLevel(logging.INFO)
        theirs.propagate = False


def _bare_app() -> Flask:
    app = Flask("bench_bare")

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    return app


def _ours_app() -> Flask:
    app = _bare_app()
    FelixReliability(app)
    return app


def _handrolled_app() -> Flask:
    """What teams write by hand: uuid4 in g, a response header, a log line."""
    app = _bare_app()
    log = logging.getLogger(_LOGGERS[1])

    @app.before_request
    def assign() -> None:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.request_id
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"request_id": g.request_id},
        )
        return response

    return app


def _runner(app: Flask) -> Case:
    client = app.test_client()

    def run(n: int) -> None:
        get = client.get
        for _ in range(n):
            get("/ping")

    return Case(app.name, run)


def rows() -> list[Row]:
    """Return this module's rows."""
    _setup_logging()
    ours = _runner(_ours_app())
    handrolled = _runner(_handrolled_app())
    return [
        Row(
            title="Flask request: FelixReliability vs a hand-rolled request-id hook (test client)",
            ours=Case("felix FelixReliability", ours.run),
            peers=(Case("hand-rolled uuid4+g+log", handrolled.run),),
            baseline=Case("bare Flask app", _runner(_bare_app()).run),
            targets={"hand-rolled uuid4+g+log": 2.0},
            operations=1_000,
            note="overhead over a bare app's request; ours validates the id, binds the context,"
            " exposes the header and writes a correlated line",
        ),
    ]
