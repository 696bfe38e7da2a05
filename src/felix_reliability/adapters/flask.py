"""Request ids, health endpoints and the metrics API for Flask applications.

`FelixReliability` follows Flask's extension conventions: create it once,
call `FelixReliability.init_app` for each application (or pass the app to the
constructor), and it keeps nothing of an application on itself: the
per-application state lives in ``app.extensions["felix_reliability"]``.

For every request it binds a request id (the caller's ``X-Request-ID`` or
``X-Correlation-ID`` when it is safe, else a new one) with `bind_context`,
echoes it in the ``X-Request-ID`` response header and writes one log line.
It serves ``/health`` (the full report), ``/health/ready`` (dependency
checks only), ``/health/live``, a JSON API under ``/api/metrics`` and, when
a Prometheus registry is given, the Prometheus text at ``/metrics``.

Configuration keys, read by `FelixReliability.init_app`:

- ``FELIX_RELIABILITY_TOKEN`` (default None): the bearer token asked for
  everything but ``/health/ready`` and ``/health/live``; a str or a `Secret`.
- ``FELIX_RELIABILITY_URL_PREFIX`` (``"/api/metrics"``): where the JSON API lives.
- ``FELIX_RELIABILITY_HEALTH_PATH`` (``"/health"``): the health report; readiness
  and liveness are at ``<path>/ready`` and ``<path>/live``.
- ``FELIX_RELIABILITY_METRICS_PATH`` (``"/metrics"``): the Prometheus text, when
  a Prometheus registry is given.
- ``FELIX_RELIABILITY_TRUST_REQUEST_ID`` (True): take the caller's request id;
  turn it off when the app faces untrusted clients with no proxy in front.
- ``FELIX_RELIABILITY_NOTIFICATION_OPERATION`` (``"telegram.send_message"``):
  the ``operation`` label the notification endpoints read.
- ``FELIX_RELIABILITY_TIMEZONE`` (``"UTC"``): the default ``tz`` of ``counters``.

Needs the ``flask`` extra.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final, Protocol, cast, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from flask import Blueprint, Flask, Response, current_app, request

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._correlation import bind_context, new_request_id, sanitize_request_id
from felix_reliability._health import Alert, HealthMonitor, HealthReport
from felix_reliability._in_memory_metrics import InMemoryMetrics
from felix_reliability._logging import escape_message, get_logger
from felix_reliability._metrics import CALLS, DEAD_LETTERS
from felix_reliability._secrets import Secret

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["CounterSource", "FelixReliability", "MetricsCounterSource"]

EXTENSION_KEY: Final = "felix_reliability"
_CONFIG: Final = "FELIX_RELIABILITY_"
_ENVIRON_KEY: Final = "felix_reliability.request"
_REQUEST_ID_HEADERS: Final = ("X-Request-ID", "X-Correlation-ID")
_HEALTH_JSON: Final = "application/health+json"
_PROMETHEUS_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"
_MAX_HOURS: Final = 90 * 24
_MAX_DAYS: Final = 366
_MAX_LIMIT: Final = 1000
_MAX_OFFSET: Final = 1_000_000
_MAX_PARAM_LENGTH: Final = 64
_MAX_LOGGED_PATH: Final = 200
_COUNTER_NAME: Final = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.]{0,99}")
_STEP: Final = re.compile(r"([1-9][0-9]{0,2})([dw])")
_TIMEZONE: Final = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_PATH: Final = re.compile(r"/[A-Za-z0-9_./-]*")
_log = get_logger("felix_reliability.flask")


@runtime_checkable
class CounterSource(Protocol):
    """Where ``counters/<name>`` reads its numbers: implement it over your own data.

    The default, `MetricsCounterSource`, reads the in-memory metrics of this
    process. An application with several workers plugs in a source over its
    database (``SELECT count(*) ... WHERE created_at >= ? AND created_at <
    ?``), so every worker gives the same answer.

    .. versionadded:: 0.1.0
    """

    def counts(
        self, name: str, periods: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[float] | None:
        """Return one number per period, in order, or None for an unknown counter.

        Args:
            name: The counter asked for (``[A-Za-z_:][A-Za-z0-9_:.]*``, at
                most 100 characters).
            periods: Consecutive ``[start, end)`` pairs of aware datetimes
                at local midnights of the requested time zone, oldest first;
                the last one holds today.

        Raises:
            ValueError: When the source cannot answer for these periods
                (the API answers 400 with the message).
        """
        ...


class _DeadLetter(Protocol):
    def to_dict(self) -> Mapping[str, object]: ...


class _DeadLetterListing(Protocol):
    def list(self, *, limit: int, offset: int) -> Sequence[_DeadLetter]: ...

    def count(self) -> int: ...


class _BreakerSnapshot(Protocol):
    def to_dict(self) -> Mapping[str, object]: ...


class _BreakerSnapshots(Protocol):
    def snapshots(self) -> Sequence[_BreakerSnapshot]: ...


@attrs.frozen
class MetricsCounterSource:
    """A `CounterSource` over `InMemoryMetrics`: the counters of this process.

    The in-memory day buckets are 24-hour periods of the process's monotonic
    clock ending now, not calendar days: each period's number is the sum of
    the buckets of the same length ending with the current one, and the time
    zone only labels them. A name never recorded is unknown (None). At most
    90 days are kept.

    Args:
        metrics: The collector to read.

    .. versionadded:: 0.1.0
    """

    metrics: InMemoryMetrics

    def counts(
        self, name: str, periods: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[float] | None:
        """Return the in-memory sums of *name*, one per period, or None if never recorded.

        Raises:
            ValueError: If the periods are not of one whole number of days, or
                cover more than the 90 days kept.
        """
        if name not in self.metrics.names():
            return None
        if not periods:
            return []
        lengths = {round((end - start).total_seconds() / 86_400) for start, end in periods}
        if len(lengths) != 1:
            raise ValueError("the periods must all have the same number of days")
        step_days = lengths.pop()
        if step_days < 1 or step_days * len(periods) > 90:  # noqa: PLR2004 - the 90 days kept
            raise ValueError("the in-memory metrics keep at most 90 days")
        return self.metrics.series(name, step=step_days * 86_400, count=len(periods))


class _BadRequest(Exception):  # noqa: N818 - an internal signal, never raised to callers
    """A query parameter out of range: answered as a 400 JSON error."""


@attrs.frozen
class _State:
    """What `FelixReliability.init_app` keeps in ``app.extensions``."""

    monitor: HealthMonitor
    registry: _BreakerSnapshots | None
    metrics: InMemoryMetrics
    dead_letters: _DeadLetterListing | None
    counters: CounterSource
    prometheus: CollectorRegistry | None
    clock: Clock
    token: bytes | None
    trust_request_id: bool
    operation: str
    timezone: str


@attrs.define
class _RequestState:
    """One request's binding, kept in the WSGI environ until teardown."""

    binding: bind_context
    request_id: str
    started: float
    rejected: bool
    logged: bool = False


def _config(app: Flask) -> Mapping[str, object]:
    return cast("Mapping[str, object]", app.config)


def _config_path(app: Flask, key: str, default: str) -> str:
    value = _config(app).get(_CONFIG + key, default)
    if not isinstance(value, str) or not _PATH.fullmatch(value):
        raise ValueError(
            f"{_CONFIG}{key} must be a path such as {default!r} (letters, digits, '_', '.', "
            f"'-', '/'), got {value!r}"
        )
    return "/" + value.strip("/") if value.strip("/") else ""


def _config_token(app: Flask) -> bytes | None:
    value: object = _config(app).get(_CONFIG + "TOKEN")
    if value is None or value == "":
        return None
    if isinstance(value, Secret):
        value = value.reveal()
    if not isinstance(value, str):
        raise TypeError(
            f"{_CONFIG}TOKEN must be a str, a Secret or None, got {type(value).__name__}"
        )
    return value.encode()


def _config_bool(app: Flask, key: str, *, default: bool) -> bool:
    value: object = _config(app).get(_CONFIG + key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{_CONFIG}{key} must be a bool, got {value!r}")
    return value


def _config_text(app: Flask, key: str, default: str) -> str:
    value: object = _config(app).get(_CONFIG + key, default)
    if not isinstance(value, str) or not value:
        raise TypeError(f"{_CONFIG}{key} must be a non-empty str, got {value!r}")
    return value


class FelixReliability:
    """Mount request ids, request logging, health and the metrics API on Flask apps.

    ``FelixReliability(app, ...)`` or, with an application factory, create it
    once and call `init_app` per application. One instance may serve several
    applications; each keeps its own configuration and state in
    ``app.extensions["felix_reliability"]``. Register it before other
    extensions so that their ``before_request`` hooks already see the
    request id.

    Health: ``/health`` serves the monitor's full report (checks and alerts,
    503 when it fails), ``/health/ready`` its dependency checks only (what a
    load balancer should probe: an outage of Telegram must not pull every
    instance), ``/health/live`` only that the process answers. While the
    monitor's background thread runs (`HealthMonitor.start`), ``/health`` and
    the API serve its latest report instead of evaluating on the request.

    The JSON API under the URL prefix: ``dashboard``, ``circuit-breakers``,
    ``alerts``, ``notifications/success-rate?hours=24``,
    ``notifications/failures?hours=1``, ``dead-letters?limit=100&offset=0``
    and ``counters/<name>?days=30&step=1d&tz=UTC``. Bad or out-of-range
    query parameters get a 400 JSON error.

    Args:
        app: An application to initialise now.
        monitor: The health monitor; default one over *metrics* with the
            default rules.
        registry: The circuit breakers (anything with ``snapshots()``), for
            ``circuit-breakers`` and the dashboard.
        metrics: The in-memory metrics read for notifications (default: a new
            `InMemoryMetrics`, available as the ``metrics`` attribute).
        dead_letters: The dead-letter store (anything with ``list(*, limit,
            offset)`` and ``count()``), for ``dead-letters``.
        counters: Where ``counters/<name>`` reads (default:
            `MetricsCounterSource` over *metrics*).
        prometheus_registry: A prometheus_client registry to serve as text
            at ``/metrics``; without it there is no ``/metrics``.
        clock: Time for request durations and counter dates.

    Raises:
        TypeError: If *counters* has no ``counts`` method.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        monitor: HealthMonitor | None = None,
        registry: _BreakerSnapshots | None = None,
        metrics: InMemoryMetrics | None = None,
        dead_letters: _DeadLetterListing | None = None,
        counters: CounterSource | None = None,
        prometheus_registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = SystemClock() if clock is None else clock
        self.metrics = InMemoryMetrics(clock=self.clock) if metrics is None else metrics
        self.monitor = (
            HealthMonitor(metrics=self.metrics, clock=self.clock) if monitor is None else monitor
        )
        self.registry = registry
        self.dead_letters = dead_letters
        if counters is not None and not isinstance(counters, CounterSource):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise TypeError(f"counters must have a counts() method, got {counters!r}")
        self.counters: CounterSource = (
            MetricsCounterSource(self.metrics) if counters is None else counters
        )
        self.prometheus_registry = prometheus_registry
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the configuration, register the hooks, routes and blueprint on *app*.

        Raises:
            RuntimeError: If the extension is already registered on *app*.
            ValueError: If a path in the configuration is not a plain path.
            TypeError: If a configuration value has the wrong type.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("felix_reliability is already registered on this application")
        prefix = _config_path(app, "URL_PREFIX", "/api/metrics")
        health = _config_path(app, "HEALTH_PATH", "/health")
        metrics_path = _config_path(app, "METRICS_PATH", "/metrics")
        timezone = _config_text(app, "TIMEZONE", "UTC")
        if _zone(timezone) is None:
            raise ValueError(
                "FELIX_RELIABILITY_TIMEZONE must be an IANA time zone such as Europe/Berlin"
            )
        app.extensions[EXTENSION_KEY] = _State(
            monitor=self.monitor,
            registry=self.registry,
            metrics=self.metrics,
            dead_letters=self.dead_letters,
            counters=self.counters,
            prometheus=self.prometheus_registry,
            clock=self.clock,
            token=_config_token(app),
            trust_request_id=_config_bool(app, "TRUST_REQUEST_ID", default=True),
            operation=_config_text(app, "NOTIFICATION_OPERATION", "telegram.send_message"),
            timezone=timezone,
        )
        app.before_request(_bind_request)
        app.after_request(_finish_response)
        app.teardown_request(_teardown_request)

        health_routes = Blueprint("felix_reliability_health", __name__)
        health_routes.add_url_rule("", "health", _protected(_health))
        health_routes.add_url_rule("/ready", "ready", _ready)
        health_routes.add_url_rule("/live", "live", _live)
        app.register_blueprint(health_routes, url_prefix=health or "/")

        api = Blueprint("felix_reliability", __name__)
        for rule, endpoint, view in _API_ROUTES:
            api.add_url_rule(rule, endpoint, _protected(view))
        app.register_blueprint(api, url_prefix=prefix or "/")
        if self.prometheus_registry is not None:
            app.add_url_rule(
                metrics_path or "/", "felix_reliability_metrics", _protected(_prometheus)
            )

    def __repr__(self) -> str:
        return f"FelixReliability(monitor={self.monitor!r}, metrics={self.metrics!r})"


def _state() -> _State:
    state: _State = current_app.extensions[EXTENSION_KEY]
    return state


# -- request ids and the request log line ----------------------------------


def _incoming_request_id(trust: bool) -> tuple[str, bool]:
    """Return (request id, whether a header was given and rejected)."""
    if not trust:
        return new_request_id(), False
    rejected = False
    for header in _REQUEST_ID_HEADERS:
        value = request.headers.get(header)
        if value is None:
            continue
        safe = sanitize_request_id(value)
        if safe is not None:
            return safe, rejected
        rejected = True
    return new_request_id(), rejected


def _bind_request() -> None:
    state = _state()
    request_id, rejected = _incoming_request_id(state.trust_request_id)
    binding = bind_context(request_id=request_id)
    binding.__enter__()
    request.environ[_ENVIRON_KEY] = _RequestState(
        binding, request_id, state.clock.monotonic(), rejected
    )


def _request_state() -> _RequestState | None:
    found = request.environ.get(_ENVIRON_KEY)
    return found if isinstance(found, _RequestState) else None


def _finish_response(response: Response) -> Response:
    current = _request_state()
    if current is None:  # another before_request hook answered before ours ran
        return response
    response.headers["X-Request-ID"] = current.request_id
    exposed = response.headers.get("Access-Control-Expose-Headers", "")
    names = {part.strip().lower() for part in exposed.split(",")}
    if "x-request-id" not in names:
        response.headers["Access-Control-Expose-Headers"] = (
            f"{exposed}, X-Request-ID" if exposed.strip() else "X-Request-ID"
        )
    _log_request(current, response.status_code)
    return response


def _teardown_request(error: BaseException | None) -> None:
    current = _request_state()
    if current is None:
        return
    try:
        if not current.logged:  # the view raised past Flask's handlers
            _log_request(current, 500, error)
    finally:
        del request.environ[_ENVIRON_KEY]
        current.binding.__exit__(None, None, None)


def _log_request(current: _RequestState, status: int, error: BaseException | None = None) -> None:
    current.logged = True
    duration_ms = round((_state().clock.monotonic() - current.started) * 1000, 3)
    method = escape_message(request.method[:_MAX_PARAM_LENGTH])
    path = escape_message(request.path[:_MAX_LOGGED_PATH])
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "durationMs": duration_ms,
    }
    if current.rejected:
        fields["requestIdRejected"] = True
    if error is not None:
        fields["error"] = type(error).__name__
    _log.info("%s %s %d %.1f ms", method, path, status, duration_ms, **fields)


# -- authentication ---------------------------------------------------------


def _unauthorized() -> Response:
    response = _json({"error": "unauthorized", "message": "a valid bearer token is required"}, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="felix-reliability"'
    return response


def _authorized(token: bytes) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token)


def _protected(view: Callable[..., Response]) -> Callable[..., Response]:
    def protected(**kwargs: str) -> Response:
        token = _state().token
        if token is not None and not _authorized(token):
            return _unauthorized()
        try:
            return view(**kwargs)
        except _BadRequest as exc:
            return _json({"error": "bad_request", "message": str(exc)}, 400)

    protected.__name__ = view.__name__
    protected.__doc__ = view.__doc__
    return protected


# -- responses and parameters -----------------------------------------------


def _json(
    payload: Mapping[str, object], status: int = 200, mimetype: str = "application/json"
) -> Response:
    body = json.dumps(_json_safe(payload), allow_nan=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=mimetype)


def _json_safe(value: object) -> object:
    """Return *value* with non-finite floats as None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {str(key): _json_safe(item) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in cast("Sequence[object]", value)]
    return value


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if len(raw) > _MAX_PARAM_LENGTH or not raw.isascii() or not raw.isdigit():
        raise _BadRequest(f"{name} must be an integer from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be an integer from {low} to {high}")
    return value


def _zone(key: str) -> tzinfo | None:
    """Return the time zone named *key* (IANA name or UTC), or None if there is none."""
    if key.upper() == "UTC":
        return UTC
    if not _TIMEZONE.fullmatch(key) or ".." in key or key.startswith("/"):
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _report() -> HealthReport:
    monitor = _state().monitor
    latest = monitor.last_report
    if monitor.running and latest is not None:
        return latest
    return monitor.evaluate()


def _alert_dict(alert: Alert) -> dict[str, object]:
    return {
        "name": alert.name,
        "severity": alert.severity.value,
        "message": alert.message,
        "observed": alert.observed,
        "threshold": alert.threshold,
    }


# -- health -----------------------------------------------------------------


def _health() -> Response:
    report = _report()
    return _json(report.to_dict(), report.http_status, _HEALTH_JSON)


def _ready() -> Response:
    report = _state().monitor.ready()
    return _json(report.to_dict(), report.http_status, _HEALTH_JSON)


def _live() -> Response:
    report = _state().monitor.live()
    return _json(report.to_dict(), report.http_status, _HEALTH_JSON)


def _prometheus() -> Response:
    from prometheus_client import generate_latest  # noqa: PLC0415 - only apps that serve it need it

    registry = _state().prometheus
    assert registry is not None  # noqa: S101 - the route exists only with a registry
    return Response(generate_latest(registry), mimetype=_PROMETHEUS_TEXT)


# -- the JSON API -------------------------------------------------------------


def _breakers() -> list[Mapping[str, object]]:
    registry = _state().registry
    return [] if registry is None else [snapshot.to_dict() for snapshot in registry.snapshots()]


def _notifications(hours: int) -> dict[str, object]:
    state = _state()
    labels = {"operation": state.operation}
    successes, failures = state.metrics.outcomes(CALLS, hours * 3600, labels)
    total = successes + failures
    return {
        "operation": state.operation,
        "hours": hours,
        "successes": successes,
        "failures": failures,
        "successRate": None if total == 0 else successes / total,
    }


def _dashboard() -> Response:
    state = _state()
    report = _report()
    return _json(
        {
            "status": report.status.value,
            "time": _iso(report.time),
            "alerts": [_alert_dict(alert) for alert in report.alerts],
            "circuitBreakers": _breakers(),
            "notifications": {"last24h": _notifications(24), "last1h": _notifications(1)},
            "deadLetters": None if state.dead_letters is None else state.dead_letters.count(),
        }
    )


def _circuit_breakers() -> Response:
    return _json({"circuitBreakers": _breakers()})


def _alerts() -> Response:
    report = _report()
    return _json(
        {
            "status": report.status.value,
            "time": _iso(report.time),
            "alerts": [_alert_dict(alert) for alert in report.alerts],
        }
    )


def _success_rate() -> Response:
    return _json(_notifications(_int_param("hours", 24, 1, _MAX_HOURS)))


def _failures() -> Response:
    state = _state()
    hours = _int_param("hours", 1, 1, _MAX_HOURS)
    result = _notifications(hours)
    reasons: dict[str, float] = {}
    for labels in state.metrics.label_sets(DEAD_LETTERS):
        reason = labels.get("reason")
        if labels.get("operation") == state.operation and reason is not None:
            reasons[reason] = state.metrics.total(DEAD_LETTERS, labels, hours * 3600)
    result["deadLettersByReason"] = {key: value for key, value in reasons.items() if value}
    return _json(result)


def _dead_letters() -> Response:
    store = _state().dead_letters
    limit = _int_param("limit", 100, 1, _MAX_LIMIT)
    offset = _int_param("offset", 0, 0, _MAX_OFFSET)
    if store is None:
        return _json({"error": "not_found", "message": "no dead-letter store is configured"}, 404)
    letters = [dict(letter.to_dict()) for letter in store.list(limit=limit, offset=offset)]
    return _json({"count": store.count(), "limit": limit, "offset": offset, "deadLetters": letters})


def _step_days(raw: str) -> int:
    match = _STEP.fullmatch(raw)
    if match is None:
        raise _BadRequest("step must be a number of days or weeks such as 1d or 1w")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def _periods(days: int, step: int, zone: tzinfo, now: float) -> list[tuple[datetime, datetime]]:
    today = datetime.fromtimestamp(now, zone).date()
    count = days // step
    first = today - timedelta(days=count * step - 1)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone)

    return [
        (
            midnight(first + timedelta(days=index * step)),
            midnight(first + timedelta(days=(index + 1) * step)),
        )
        for index in range(count)
    ]


def _counter(name: str) -> Response:
    state = _state()
    if not _COUNTER_NAME.fullmatch(name):
        raise _BadRequest(
            "the counter name must be [A-Za-z_:][A-Za-z0-9_:.]*, up to 100 characters"
        )
    days = _int_param("days", 30, 1, _MAX_DAYS)
    step_text = request.args.get("step", "1d")
    step = _step_days(step_text[:_MAX_PARAM_LENGTH])
    if step > days or days % step:
        raise _BadRequest("days must be a multiple of step")
    tz_name = request.args.get("tz", state.timezone)
    zone = _zone(tz_name[: _MAX_PARAM_LENGTH + 1])
    if zone is None:
        raise _BadRequest("tz must be an IANA time zone such as Europe/Berlin")
    periods = _periods(days, step, zone, state.clock.wall())
    try:
        values = state.counters.counts(name, periods)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None
    if values is None:
        return _json({"error": "not_found", "message": "no such counter"}, 404)
    if len(values) != len(periods):
        raise TypeError(
            f"the counter source returned {len(values)} values for {len(periods)} periods"
        )
    points = [
        {"start": start.date().isoformat(), "end": end.date().isoformat(), "value": float(value)}
        for (start, end), value in zip(periods, values, strict=True)
    ]
    return _json(
        {
            "name": name,
            "days": days,
            "step": f"{step}d",
            "tz": "UTC" if zone is UTC else tz_name,
            "total": sum(float(value) for value in values if math.isfinite(value)),
            "points": points,
        }
    )


_API_ROUTES: Final[tuple[tuple[str, str, Callable[..., Response]], ...]] = (
    ("/dashboard", "dashboard", _dashboard),
    ("/circuit-breakers", "circuit_breakers", _circuit_breakers),
    ("/alerts", "alerts", _alerts),
    ("/notifications/success-rate", "notification_success_rate", _success_rate),
    ("/notifications/failures", "notification_failures", _failures),
    ("/dead-letters", "dead_letters", _dead_letters),
    ("/counters/<name>", "counter", _counter),
)
