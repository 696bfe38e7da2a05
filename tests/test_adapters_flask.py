"""The Flask extension with real Flask apps and their test clients."""

from __future__ import annotations

import io
import logging
import math
import re
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask, Response, jsonify
from prometheus_client import CollectorRegistry

from felix_reliability import (
    BreakerRegistry,
    CheckRule,
    CircuitBreaker,
    CorrelationFilter,
    CorrelationFormatter,
    DeadLetter,
    HealthMonitor,
    InMemoryMetrics,
    MemoryDeadLetterStore,
    Secret,
    current_request_id,
)
from felix_reliability._health import AlertSeverity
from felix_reliability.adapters.flask import CounterSource, FelixReliability, MetricsCounterSource
from felix_reliability.adapters.prometheus import PrometheusMetrics
from felix_reliability.testing import FakeClock

HEX32 = re.compile(r"[0-9a-f]{32}")
SEND = {"operation": "telegram.send_message"}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Capture the extension's log lines, rendered by the correlation formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(CorrelationFormatter())
    logger = logging.getLogger("felix_reliability.flask")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def make_app(
    *, config: dict[str, object] | None = None, testing: bool = True, **kwargs: Any
) -> tuple[Flask, FelixReliability]:
    app = Flask(__name__)
    app.testing = testing
    app.config.update(config or {})

    @app.get("/whoami")
    def whoami() -> Response:
        return jsonify(requestId=current_request_id())

    @app.get("/boom")
    def boom() -> Response:
        raise RuntimeError("view failed")

    @app.get("/exposed")
    def exposed() -> Response:
        response = jsonify(ok=True)
        response.headers["Access-Control-Expose-Headers"] = "X-Total"
        return response

    kwargs.setdefault("clock", FakeClock())
    extension = FelixReliability(app, **kwargs)
    return app, extension


# -- request ids ----------------------------------------------------------------


def test_request_id_header_is_bound_and_echoed() -> None:
    """A safe X-Request-ID is bound for the view and echoed in the response."""
    app, _ = make_app()
    response = app.test_client().get("/whoami", headers={"X-Request-ID": "req-1"})
    assert response.get_json()["requestId"] == "req-1"
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["Access-Control-Expose-Headers"] == "X-Request-ID"


def test_correlation_id_header_is_the_fallback() -> None:
    """Without X-Request-ID, X-Correlation-ID is used."""
    app, _ = make_app()
    response = app.test_client().get("/whoami", headers={"X-Correlation-ID": "corr:9"})
    assert response.headers["X-Request-ID"] == "corr:9"


def test_invalid_request_id_falls_back_to_correlation_id() -> None:
    """An unsafe X-Request-ID is skipped in favour of a safe X-Correlation-ID."""
    app, _ = make_app()
    response = app.test_client().get(
        "/whoami", headers={"X-Request-ID": "bad id", "X-Correlation-ID": "good"}
    )
    assert response.headers["X-Request-ID"] == "good"


def test_new_request_id_without_header() -> None:
    """Without a header the request gets a new 32-hex-character id."""
    app, _ = make_app()
    response = app.test_client().get("/whoami")
    assert HEX32.fullmatch(response.headers["X-Request-ID"])
    assert response.headers["X-Request-ID"] == response.get_json()["requestId"]


def test_untrusted_request_id_is_replaced() -> None:
    """With TRUST_REQUEST_ID off, the caller's id is ignored."""
    app, _ = make_app(config={"FELIX_RELIABILITY_TRUST_REQUEST_ID": False})
    response = app.test_client().get("/whoami", headers={"X-Request-ID": "req-1"})
    assert HEX32.fullmatch(response.headers["X-Request-ID"])


HOSTILE = [
    "abc\r\nSet-Cookie: stolen=1",
    "abc\nrequestId=forged",
    "x" * 10_240,
    "caf\u00e9-\u00fc",
    "Bearer 123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
]


@pytest.mark.parametrize("value", HOSTILE, ids=["crlf", "lf", "10kb", "non-ascii", "token"])
@pytest.mark.parametrize("header", ["HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID"])
def test_hostile_request_id_never_reaches_logs_or_headers(
    log_stream: io.StringIO, value: str, header: str
) -> None:
    """A hostile id is replaced; its raw value is in no log line and no response header."""
    app, _ = make_app()
    # environ_base hands the raw value to the app, as a WSGI server would.
    response = app.test_client().get("/whoami", environ_base={header: value})
    assert HEX32.fullmatch(response.headers["X-Request-ID"])
    assert all(value not in header_value for _, header_value in response.headers.items())
    logged = log_stream.getvalue()
    assert value not in logged
    assert "requestIdRejected=True" in logged
    assert len(logged.splitlines()) == 1


def test_expose_headers_are_appended_not_clobbered() -> None:
    """X-Request-ID is appended to the view's Access-Control-Expose-Headers."""
    app, _ = make_app()
    response = app.test_client().get("/exposed")
    assert response.headers["Access-Control-Expose-Headers"] == "X-Total, X-Request-ID"


def test_expose_headers_are_not_repeated() -> None:
    """A view that already exposes x-request-id keeps its header as it is."""
    app, _ = make_app()

    @app.get("/already")
    def already() -> Response:
        response = jsonify(ok=True)
        response.headers["Access-Control-Expose-Headers"] = "x-request-id"
        return response

    response = app.test_client().get("/already")
    assert response.headers["Access-Control-Expose-Headers"] == "x-request-id"


def test_teardown_resets_the_context_when_the_view_raises() -> None:
    """The binding is undone in teardown even when the view's exception propagates."""
    app, _ = make_app()
    with pytest.raises(RuntimeError, match="view failed"):
        app.test_client().get("/boom", headers={"X-Request-ID": "req-boom"})
    assert current_request_id() is None


def test_failed_view_gets_a_500_with_the_request_id(log_stream: io.StringIO) -> None:
    """Outside testing mode, a raising view answers 500 with the header and one log line."""
    app, _ = make_app(testing=False)
    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-500"
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[requestId=req-500]")
    assert "status=500" in lines[0]
    assert current_request_id() is None


def test_propagated_exception_is_logged_as_500(log_stream: io.StringIO) -> None:
    """When the exception propagates (testing), the teardown writes the line with the error type."""
    app, _ = make_app()
    with pytest.raises(RuntimeError):
        app.test_client().get("/boom", headers={"X-Request-ID": "req-x"})
    line = log_stream.getvalue().strip()
    assert "status=500" in line
    assert "error=RuntimeError" in line


def test_one_log_line_per_request(log_stream: io.StringIO) -> None:
    """Each request writes one line with method, path, status and duration, under its id."""
    clock = FakeClock()
    app, _ = make_app(clock=clock)

    @app.get("/slow")
    def slow() -> Response:
        clock.advance(0.25)
        return jsonify(ok=True)

    app.test_client().get("/slow", headers={"X-Request-ID": "req-slow"})
    expected = (
        "[requestId=req-slow] [method=GET, path=/slow, status=200, durationMs=250.0] "
        "GET /slow 200 250.0 ms"
    )
    assert expected == log_stream.getvalue().strip()


def test_hostile_path_is_escaped_in_the_log_line(log_stream: io.StringIO) -> None:
    """A path with an encoded line break cannot split or forge a log line."""
    app, _ = make_app()
    app.test_client().get("/nothing%0a[requestId=forged]")
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "\\n" in lines[0]


def test_authorization_header_is_never_logged(log_stream: io.StringIO) -> None:
    """The bearer token of a request does not appear in its log line."""
    app, _ = make_app(config={"FELIX_RELIABILITY_TOKEN": "s3cret-token"})
    app.test_client().get("/health", headers={"Authorization": "Bearer s3cret-token"})
    app.test_client().get("/health", headers={"Authorization": "Bearer wrong-token"})
    logged = log_stream.getvalue()
    assert "s3cret-token" not in logged
    assert "wrong-token" not in logged


def test_an_earlier_hook_that_answers_skips_the_binding() -> None:
    """If another before_request hook answers first, the response passes through unchanged."""
    app = Flask(__name__)

    @app.before_request
    def short_circuit() -> Response:
        return jsonify(early=True)

    FelixReliability(app, clock=FakeClock())
    response = app.test_client().get("/health")
    assert response.get_json() == {"early": True}
    assert "X-Request-ID" not in response.headers


# -- authentication -------------------------------------------------------------


PROTECTED = [
    "/health",
    "/metrics",
    "/api/metrics/dashboard",
    "/api/metrics/circuit-breakers",
    "/api/metrics/alerts",
    "/api/metrics/notifications/success-rate",
    "/api/metrics/notifications/failures",
    "/api/metrics/dead-letters",
]


@pytest.fixture
def secured() -> Flask:
    app, _ = make_app(
        config={"FELIX_RELIABILITY_TOKEN": Secret("s3cret-token")},
        dead_letters=MemoryDeadLetterStore(),
        prometheus_registry=CollectorRegistry(),
    )
    return app


@pytest.mark.parametrize("path", PROTECTED)
def test_token_required(secured: Flask, path: str) -> None:
    """Without the token every endpoint but ready and live answers 401 with WWW-Authenticate."""
    response = secured.test_client().get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", PROTECTED)
def test_token_accepted(secured: Flask, path: str) -> None:
    """With the right bearer token every endpoint answers 200."""
    response = secured.test_client().get(path, headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong", "Basic s3cret-token", "s3cret-token", "Bearer s3cret-token-and-more"],
)
def test_wrong_token_refused(secured: Flask, authorization: str) -> None:
    """A wrong token, a wrong scheme or a bare token answers 401."""
    response = secured.test_client().get("/health", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_non_ascii_token_refused_not_crashing(secured: Flask) -> None:
    """A non-ASCII Authorization value gets a 401, not a 500."""
    response = secured.test_client().get(
        "/health", environ_base={"HTTP_AUTHORIZATION": "Bearer caf\u00e9"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/health/ready", "/health/live"])
def test_ready_and_live_are_open(secured: Flask, path: str) -> None:
    """Readiness and liveness never ask for the token."""
    assert secured.test_client().get(path).status_code == 200


def test_plain_str_token() -> None:
    """The token may be a plain str; an empty one means no token."""
    app, _ = make_app(config={"FELIX_RELIABILITY_TOKEN": "abc"})
    assert app.test_client().get("/health").status_code == 401
    open_app, _ = make_app(config={"FELIX_RELIABILITY_TOKEN": ""})
    assert open_app.test_client().get("/health").status_code == 200


# -- health -----------------------------------------------------------------------


def test_health_fails_while_ready_passes() -> None:
    """A critical alert makes /health 503 while /health/ready (checks only) stays 200."""
    monitor = HealthMonitor(
        rules=[CheckRule("stuck_orders", lambda: 3, severity=AlertSeverity.CRITICAL)],
        checks={"database": lambda: True},
        clock=FakeClock(),
    )
    app, _ = make_app(monitor=monitor)
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.mimetype == "application/health+json"
    assert health.get_json()["status"] == "fail"
    assert "alert:stuck_orders" in health.get_json()["checks"]
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert {"database"} == set(ready.get_json()["checks"])
    assert client.get("/health/live").status_code == 200


def test_ready_fails_when_a_check_fails() -> None:
    """A failing dependency check makes /health/ready 503."""
    monitor = HealthMonitor(checks={"database": lambda: False}, clock=FakeClock())
    app, _ = make_app(monitor=monitor)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "fail"


def test_non_finite_values_are_json_null() -> None:
    """An infinite observed value is written as null, so the body stays valid JSON."""
    monitor = HealthMonitor(rules=[CheckRule("huge", lambda: math.inf)], clock=FakeClock())
    app, _ = make_app(monitor=monitor)
    body = app.test_client().get("/health").get_json()
    assert body["checks"]["alert:huge"][0]["observedValue"] is None


def test_running_monitor_serves_its_latest_report() -> None:
    """While the background thread runs, /health serves last_report without evaluating."""
    calls: list[int] = []

    def counted() -> float:
        calls.append(1)
        return 0

    monitor = HealthMonitor(rules=[CheckRule("counted", counted)], clock=FakeClock())
    app, _ = make_app(monitor=monitor)
    monitor.start(interval=3600)
    try:
        deadline = time.monotonic() + 0.2
        while monitor.last_report is None and time.monotonic() < deadline:
            time.sleep(0.001)
        app.test_client().get("/health")
        app.test_client().get("/api/metrics/alerts")
        assert len(calls) == 1
    finally:
        monitor.stop()


def test_custom_paths() -> None:
    """URL_PREFIX, HEALTH_PATH and METRICS_PATH move the endpoints."""
    app, _ = make_app(
        config={
            "FELIX_RELIABILITY_URL_PREFIX": "/ops/",
            "FELIX_RELIABILITY_HEALTH_PATH": "/status",
            "FELIX_RELIABILITY_METRICS_PATH": "/prom",
        },
        prometheus_registry=CollectorRegistry(),
    )
    client = app.test_client()
    assert client.get("/status").status_code == 200
    assert client.get("/status/ready").status_code == 200
    assert client.get("/ops/alerts").status_code == 200
    assert client.get("/prom").status_code == 200
    assert client.get("/health").status_code == 404


def test_root_paths() -> None:
    """A prefix or health path of "/" mounts at the root."""
    app, _ = make_app(
        config={"FELIX_RELIABILITY_URL_PREFIX": "/", "FELIX_RELIABILITY_HEALTH_PATH": "/"}
    )
    client = app.test_client()
    assert client.get("/alerts").status_code == 200
    assert client.get("/ready").status_code == 200


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"FELIX_RELIABILITY_URL_PREFIX": "api metrics"}, ValueError, "URL_PREFIX"),
        ({"FELIX_RELIABILITY_HEALTH_PATH": 3}, ValueError, "HEALTH_PATH"),
        ({"FELIX_RELIABILITY_TOKEN": 123}, TypeError, "TOKEN"),
        ({"FELIX_RELIABILITY_TRUST_REQUEST_ID": "yes"}, TypeError, "TRUST_REQUEST_ID"),
        ({"FELIX_RELIABILITY_NOTIFICATION_OPERATION": ""}, TypeError, "NOTIFICATION_OPERATION"),
        ({"FELIX_RELIABILITY_TIMEZONE": "Mars/Olympus"}, ValueError, "TIMEZONE"),
        ({"FELIX_RELIABILITY_TIMEZONE": "../etc/passwd"}, ValueError, "TIMEZONE"),
    ],
)
def test_bad_configuration_names_the_key(
    config: dict[str, object], error: type[Exception], match: str
) -> None:
    """init_app refuses a bad configuration value and names its key."""
    app = Flask(__name__)
    app.config.update(config)
    with pytest.raises(error, match=match):
        FelixReliability(app)


def test_registering_twice_is_refused() -> None:
    """init_app on an app that already has the extension raises RuntimeError."""
    app, extension = make_app()
    with pytest.raises(RuntimeError, match="already registered"):
        extension.init_app(app)


def test_counters_must_be_a_counter_source() -> None:
    """A counters object without counts() is refused at construction."""
    with pytest.raises(TypeError, match="counters"):
        FelixReliability(counters=object())  # type: ignore[arg-type]


def test_several_apps_in_one_process() -> None:
    """One extension serves two apps, each with its own configuration and state."""
    extension = FelixReliability(clock=FakeClock())
    first, second = Flask("first"), Flask("second")
    first.config["FELIX_RELIABILITY_TOKEN"] = "first-token"
    second.config["FELIX_RELIABILITY_URL_PREFIX"] = "/ops"
    extension.init_app(first)
    extension.init_app(second)
    assert first.extensions["felix_reliability"] is not second.extensions["felix_reliability"]
    assert first.test_client().get("/api/metrics/alerts").status_code == 401
    assert second.test_client().get("/ops/alerts").status_code == 200
    assert second.test_client().get("/api/metrics/alerts").status_code == 404
    authorized = {"Authorization": "Bearer first-token"}
    assert first.test_client().get("/api/metrics/alerts", headers=authorized).status_code == 200


def test_repr_names_the_parts() -> None:
    """The repr shows the monitor and the metrics."""
    assert repr(FelixReliability()).startswith("FelixReliability(monitor=HealthMonitor(")


# -- query validation -------------------------------------------------------------------


BAD_QUERIES = [
    "/api/metrics/notifications/success-rate?hours=abc",
    "/api/metrics/notifications/success-rate?hours=0",
    "/api/metrics/notifications/success-rate?hours=-1",
    "/api/metrics/notifications/success-rate?hours=2161",
    "/api/metrics/notifications/success-rate?hours=1.5",
    "/api/metrics/notifications/success-rate?hours=" + "9" * 10_000,
    "/api/metrics/notifications/success-rate?hours=%D9%A3",
    "/api/metrics/notifications/failures?hours=",
    "/api/metrics/dead-letters?limit=0",
    "/api/metrics/dead-letters?limit=1001",
    "/api/metrics/dead-letters?offset=-1",
    "/api/metrics/counters/orders?days=0",
    "/api/metrics/counters/orders?days=367",
    "/api/metrics/counters/orders?step=2x",
    "/api/metrics/counters/orders?step=0d",
    "/api/metrics/counters/orders?days=30&step=7d",
    "/api/metrics/counters/orders?days=7&step=2w",
    "/api/metrics/counters/orders?tz=Mars/Olympus",
    "/api/metrics/counters/orders?tz=../../etc/passwd",
    "/api/metrics/counters/orders?tz=" + "A" * 10_000,
    "/api/metrics/counters/orders?days=91",
    "/api/metrics/counters/bad%20name",
    "/api/metrics/counters/" + "a" * 101,
]


@pytest.mark.parametrize("url", BAD_QUERIES)
def test_bad_query_is_a_json_400(url: str) -> None:
    """Bad, out-of-range or huge query values answer 400 with a JSON error, never 500."""
    metrics = InMemoryMetrics(clock=FakeClock())
    metrics.increment("orders")
    app, _ = make_app(metrics=metrics, dead_letters=MemoryDeadLetterStore())
    response = app.test_client().get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert len(body["message"]) < 200


# -- the JSON API ----------------------------------------------------------------------


def test_success_rate_and_failures_of_notifications() -> None:
    """The notification endpoints read felix_calls and felix_dead_letters of the operation."""
    metrics = InMemoryMetrics(clock=FakeClock())
    for _ in range(3):
        metrics.increment("felix_calls", labels={**SEND, "outcome": "success"})
    metrics.increment("felix_calls", labels={**SEND, "outcome": "failure"})
    metrics.increment("felix_calls", labels={"operation": "other", "outcome": "failure"})
    metrics.increment("felix_dead_letters", labels={**SEND, "reason": "circuit_open"})
    metrics.increment("felix_dead_letters", labels={"operation": "other", "reason": "x"})
    metrics.increment("felix_dead_letters", labels={**SEND})
    app, _ = make_app(metrics=metrics)
    client = app.test_client()
    rate = client.get("/api/metrics/notifications/success-rate?hours=24").get_json()
    assert rate == {
        "operation": "telegram.send_message",
        "hours": 24,
        "successes": 3.0,
        "failures": 1.0,
        "successRate": 0.75,
    }
    failures = client.get("/api/metrics/notifications/failures").get_json()
    assert failures["hours"] == 1
    assert failures["failures"] == 1.0
    assert failures["deadLettersByReason"] == {"circuit_open": 1.0}


def test_old_dead_letter_reasons_drop_out_of_the_window() -> None:
    """Reasons with nothing in the window are left out."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    metrics.increment("felix_dead_letters", labels={**SEND, "reason": "circuit_open"})
    clock.advance(7200)
    app, _ = make_app(metrics=metrics, clock=clock)
    failures = app.test_client().get("/api/metrics/notifications/failures").get_json()
    assert failures["deadLettersByReason"] == {}


def test_success_rate_without_calls_is_null() -> None:
    """Without notifications the rate is null."""
    app, _ = make_app()
    body = app.test_client().get("/api/metrics/notifications/success-rate").get_json()
    assert body["successRate"] is None


def test_notification_operation_is_configurable() -> None:
    """NOTIFICATION_OPERATION chooses the operation the notification endpoints read."""
    metrics = InMemoryMetrics(clock=FakeClock())
    metrics.increment("felix_calls", labels={"operation": "sms.send", "outcome": "success"})
    app, _ = make_app(
        metrics=metrics, config={"FELIX_RELIABILITY_NOTIFICATION_OPERATION": "sms.send"}
    )
    body = app.test_client().get("/api/metrics/notifications/success-rate").get_json()
    assert (body["operation"], body["successRate"]) == ("sms.send", 1.0)


def test_dead_letters_listing() -> None:
    """dead-letters lists the store's letters with limit and offset, and the count."""
    store = MemoryDeadLetterStore()
    for number in range(3):
        store.put(
            DeadLetter.create(
                operation="telegram.send_message",
                payload={"chat_id": 42, "text": f"order {number}"},
                reason="circuit_open",
                clock=FakeClock(),
            )
        )
    app, _ = make_app(dead_letters=store)
    body = app.test_client().get("/api/metrics/dead-letters?limit=2&offset=1").get_json()
    assert (body["count"], body["limit"], body["offset"]) == (3, 2, 1)
    assert [letter["payload"]["text"] for letter in body["deadLetters"]] == ["order 1", "order 2"]


def test_dead_letters_without_a_store_is_404() -> None:
    """Without a store, dead-letters answers 404 with a JSON error."""
    app, _ = make_app()
    response = app.test_client().get("/api/metrics/dead-letters")
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")


def test_circuit_breakers_and_dashboard() -> None:
    """circuit-breakers lists the snapshots; the dashboard gathers everything."""
    registry = BreakerRegistry()
    breaker = registry.register(CircuitBreaker(name="telegram", clock=FakeClock()))
    breaker.force_open()
    store = MemoryDeadLetterStore()
    app, _ = make_app(registry=registry, dead_letters=store)
    client = app.test_client()
    breakers = client.get("/api/metrics/circuit-breakers").get_json()["circuitBreakers"]
    assert [(b["name"], b["state"]) for b in breakers] == [("telegram", "open")]
    dashboard = client.get("/api/metrics/dashboard").get_json()
    assert {
        "status",
        "time",
        "alerts",
        "circuitBreakers",
        "notifications",
        "deadLetters",
    } == set(dashboard)
    assert dashboard["deadLetters"] == 0
    assert dashboard["circuitBreakers"][0]["name"] == "telegram"
    assert dashboard["notifications"]["last24h"]["hours"] == 24


def test_dashboard_without_store_or_registry() -> None:
    """Without a store and a registry, the dashboard shows null and an empty list."""
    app, _ = make_app()
    dashboard = app.test_client().get("/api/metrics/dashboard").get_json()
    assert (dashboard["deadLetters"], dashboard["circuitBreakers"]) == (None, [])


def test_alerts_endpoint() -> None:
    """alerts lists the firing alerts with severity, message and values."""
    monitor = HealthMonitor(
        rules=[CheckRule("stuck_orders", lambda: 2, message="{value:g} stuck orders")],
        clock=FakeClock(),
    )
    app, _ = make_app(monitor=monitor)
    body = app.test_client().get("/api/metrics/alerts").get_json()
    assert body["status"] == "warn"
    assert body["alerts"] == [
        {
            "name": "stuck_orders",
            "severity": "warning",
            "message": "2 stuck orders",
            "observed": 2.0,
            "threshold": 0.0,
        }
    ]


def test_prometheus_text() -> None:
    """With a registry, /metrics serves prometheus_client's text."""
    registry = CollectorRegistry()
    PrometheusMetrics(registry).increment("felix_calls", labels={**SEND, "outcome": "success"})
    app, _ = make_app(prometheus_registry=registry)
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert b"felix_calls_total{" in response.data


def test_no_prometheus_route_without_registry() -> None:
    """Without a registry there is no /metrics."""
    app, _ = make_app()
    assert app.test_client().get("/metrics").status_code == 404


# -- counters ---------------------------------------------------------------------------


def test_in_memory_counter_series() -> None:
    """counters/<name> reads the in-memory day buckets, labelled with local dates."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    metrics.increment("orders")
    clock.advance(86_400)
    metrics.increment("orders", 2)
    app, _ = make_app(metrics=metrics, clock=clock)
    body = app.test_client().get("/api/metrics/counters/orders?days=3").get_json()
    assert [point["value"] for point in body["points"]] == [0.0, 1.0, 2.0]
    assert body["total"] == 3.0
    assert (body["name"], body["days"], body["step"], body["tz"]) == ("orders", 3, "1d", "UTC")
    today = datetime.fromtimestamp(clock.wall()).astimezone().date()
    assert body["points"][-1]["end"] in {
        (today + timedelta(days=offset)).isoformat() for offset in (0, 1, 2)
    }


def test_unknown_counter_is_404() -> None:
    """A counter the source does not know answers 404."""
    app, _ = make_app()
    response = app.test_client().get("/api/metrics/counters/orders")
    assert response.status_code == 404


class RecordingSource:
    """A counter source that records the periods it was asked for."""

    def __init__(self, values: Sequence[float] | None = None) -> None:
        self.asked: list[tuple[str, Sequence[tuple[datetime, datetime]]]] = []
        self.values = values

    def counts(
        self, name: str, periods: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[float] | None:
        self.asked.append((name, periods))
        return self.values if self.values is not None else [1.0] * len(periods)


def test_custom_source_gets_local_midnights() -> None:
    """A custom source receives consecutive local-midnight periods in the requested zone."""
    source = RecordingSource()
    assert isinstance(source, CounterSource)
    clock = FakeClock(wall_start=1_767_225_600.0)  # 2026-01-01T00:00:00Z
    app, _ = make_app(counters=source, clock=clock)
    body = (
        app.test_client()
        .get("/api/metrics/counters/orders?days=14&step=1w&tz=America/New_York")
        .get_json()
    )
    _, periods = source.asked[0]
    assert [start.date().isoformat() for start, _ in periods] == ["2025-12-18", "2025-12-25"]
    assert all(start.hour == 0 and start.tzinfo is not None for start, _ in periods)
    assert periods[0][1] == periods[1][0]
    assert (body["step"], body["tz"], body["total"]) == ("7d", "America/New_York", 2.0)
    assert body["points"] == [
        {"start": "2025-12-18", "end": "2025-12-25", "value": 1.0},
        {"start": "2025-12-25", "end": "2026-01-01", "value": 1.0},
    ]


def test_default_timezone_from_config() -> None:
    """FELIX_RELIABILITY_TIMEZONE is the counters' default tz."""
    source = RecordingSource()
    app, _ = make_app(counters=source, config={"FELIX_RELIABILITY_TIMEZONE": "Europe/Berlin"})
    body = app.test_client().get("/api/metrics/counters/orders?days=1").get_json()
    assert body["tz"] == "Europe/Berlin"
    assert str(source.asked[0][1][0][0].tzinfo) == "Europe/Berlin"


def test_source_with_wrong_number_of_values_is_a_bug() -> None:
    """A source returning the wrong number of values raises TypeError (a server error)."""
    app, _ = make_app(counters=RecordingSource([1.0]))
    with pytest.raises(TypeError, match="2 periods"):
        app.test_client().get("/api/metrics/counters/orders?days=2")


def test_metrics_counter_source_edges() -> None:
    """The in-memory source answers [] for no periods and refuses unequal periods."""
    metrics = InMemoryMetrics(clock=FakeClock())
    metrics.increment("orders")
    source = MetricsCounterSource(metrics)
    assert source.counts("orders", []) == []
    start = datetime(2026, 1, 1).astimezone()
    periods = [
        (start, start + timedelta(days=1)),
        (start + timedelta(days=1), start + timedelta(days=3)),
    ]
    with pytest.raises(ValueError, match="same number of days"):
        source.counts("orders", periods)
