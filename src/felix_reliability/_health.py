"""Alert rules over the metrics, dependency checks, and the health report.

A `HealthMonitor` evaluates rules (each returns the alerts it sees now) and
checks (dependency probes run in worker threads with a timeout) into a
`HealthReport`. Alert edges (new, escalated, resolved) go to ``on_alert``
callbacks from `HealthMonitor.run_once`, which the background thread of
`HealthMonitor.start` calls, so callbacks never run on a request path.
"""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import attrs

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._in_memory_metrics import InMemoryMetrics
from felix_reliability._metrics import CALLS, Labels
from felix_reliability._validation import (
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "Alert",
    "AlertChange",
    "AlertEvent",
    "AlertRule",
    "AlertSeverity",
    "BreakerOpenRule",
    "BurnRatePair",
    "BurnRateRule",
    "CheckResult",
    "CheckRule",
    "DeadLetterBacklogRule",
    "FailureSpikeRule",
    "HealthMonitor",
    "HealthReport",
    "HealthStatus",
    "SuccessRateRule",
]

_log = logging.getLogger("felix_reliability.health")
_MAX_WINDOW = 90 * 86_400


class AlertSeverity(enum.Enum):
    """How bad an alert is: a warning turns the report WARN, critical turns it FAIL.

    .. versionadded:: 0.1.0
    """

    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 1 for a warning and 2 for critical, for comparisons."""
        return 1 if self is AlertSeverity.WARNING else 2


class HealthStatus(enum.Enum):
    """The health+json status: ``pass``, ``warn`` or ``fail``.

    .. versionadded:: 0.1.0
    """

    PASS = "pass"  # noqa: S105 - a status word, not a password
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        """Return 0, 1 or 2, worst highest."""
        return {HealthStatus.PASS: 0, HealthStatus.WARN: 1, HealthStatus.FAIL: 2}[self]

    @staticmethod
    def worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
        """Return the worst of *statuses* (PASS when there are none)."""
        return max(statuses, key=lambda status: status.rank, default=HealthStatus.PASS)


def _status_of(severity: AlertSeverity) -> HealthStatus:
    return HealthStatus.WARN if severity is AlertSeverity.WARNING else HealthStatus.FAIL


@attrs.frozen
class Alert:
    """One rule firing now.

    Attributes:
        name: Stable identity of the alert (edges are tracked by name).
        severity: Warning or critical.
        message: A human sentence, without ids, URLs or error texts.
        observed: The measured value, when there is one.
        threshold: The threshold it crossed, when there is one.

    .. versionadded:: 0.1.0
    """

    name: str
    severity: AlertSeverity
    message: str
    observed: float | None = None
    threshold: float | None = None


class AlertChange(enum.Enum):
    """The edge an `AlertEvent` reports.

    .. versionadded:: 0.1.0
    """

    NEW = "new"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


@attrs.frozen
class AlertEvent:
    """What an ``on_alert`` callback receives.

    Attributes:
        change: New, escalated or resolved.
        alert: The alert; for RESOLVED, the alert as last notified.
        at: The wall-clock time of the evaluation, epoch seconds.

    .. versionadded:: 0.1.0
    """

    change: AlertChange
    alert: Alert
    at: float


@runtime_checkable
class AlertRule(Protocol):
    """What `HealthMonitor` evaluates: write your own rules against this.

    .. versionadded:: 0.1.0
    """

    @property
    def name(self) -> str:
        """Return the rule's name (used when the rule itself raises)."""
        ...

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        """Return the alerts firing now (empty when all is well)."""
        ...


class _BreakerState(Protocol):
    @property
    def value(self) -> str: ...


class _BreakerSnapshot(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> _BreakerState: ...


class _BreakerRegistry(Protocol):
    def snapshots(self) -> Iterable[_BreakerSnapshot]: ...


class _CountingStore(Protocol):
    def count(self) -> int: ...


def _check_window(name: str, value: float) -> float:
    seconds = check_positive_float(name, value)
    if seconds > _MAX_WINDOW:
        raise ValueError(f"{name} must be at most 90 days in seconds, got {value!r}")
    return seconds


def _check_severity(value: object) -> AlertSeverity:
    if not isinstance(value, AlertSeverity):
        raise TypeError(f"severity must be an AlertSeverity, got {value!r}")
    return value


def _labels_text(metric: str, labels: Labels | None) -> str:
    if not labels:
        return metric
    pairs = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{metric}{{{pairs}}}"


@attrs.frozen
class SuccessRateRule:
    """Alert when the success rate of *metric* over *window* drops.

    The rate is success / (success + failure) over the ``outcome`` label. It
    warns strictly below *warning_below* and is critical strictly below
    *critical_below* (99.0% exactly is fine), and says nothing while fewer
    than *min_events* calls happened in the window.

    Args:
        metric: The counter with an ``outcome`` label.
        labels: Only series with these label pairs (e.g. one operation).
        warning_below: Warn below this rate.
        critical_below: Critical below this rate (<= *warning_below*).
        window: Seconds looked back.
        min_events: Fewest calls in the window for a verdict.
        name: The alert name.

    Raises:
        ValueError: On a rate outside (0, 1], thresholds in the wrong order, a
            window that is not positive or above 90 days, or min_events < 1.

    .. versionadded:: 0.1.0
    """

    metric: str = CALLS
    labels: Mapping[str, str] | None = None
    warning_below: float = attrs.field(default=0.99, converter=float)
    critical_below: float = attrs.field(default=0.95, converter=float)
    window: float = 3600.0
    min_events: int = 20
    name: str = "success_rate"

    def __attrs_post_init__(self) -> None:
        check_fraction("warning_below", self.warning_below)
        check_fraction("critical_below", self.critical_below)
        if self.critical_below > self.warning_below:
            raise ValueError(
                f"critical_below ({self.critical_below!r}) must be <= warning_below "
                f"({self.warning_below!r})"
            )
        _check_window("window", self.window)
        check_positive_int("min_events", self.min_events)

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        """Return a warning or critical alert when the rate is low enough."""
        successes, failures = metrics.outcomes(self.metric, self.window, self.labels)
        events = successes + failures
        if events < self.min_events:
            return []
        rate = successes / events
        if rate < self.critical_below:
            severity, threshold = AlertSeverity.CRITICAL, self.critical_below
        elif rate < self.warning_below:
            severity, threshold = AlertSeverity.WARNING, self.warning_below
        else:
            return []
        message = (
            f"success rate of {_labels_text(self.metric, self.labels)} is {rate:.2%} over "
            f"{self.window:g} s ({events:g} calls), below {threshold:.2%}"
        )
        return [Alert(self.name, severity, message, rate, threshold)]


@attrs.frozen
class FailureSpikeRule:
    """Alert (critical) when *critical_at* or more failures happened in *window*.

    Args:
        metric: The counter with an ``outcome`` label.
        labels: Only series with these label pairs.
        critical_at: Failures that make it critical (10 means 10 is critical, 9 not).
        window: Seconds looked back.
        name: The alert name.

    Raises:
        ValueError: If *critical_at* < 1 or the window is out of range.

    .. versionadded:: 0.1.0
    """

    metric: str = CALLS
    labels: Mapping[str, str] | None = None
    critical_at: int = 10
    window: float = 3600.0
    name: str = "failure_spike"

    def __attrs_post_init__(self) -> None:
        check_positive_int("critical_at", self.critical_at)
        _check_window("window", self.window)

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        """Return a critical alert when the failures reach *critical_at*."""
        _, failures = metrics.outcomes(self.metric, self.window, self.labels)
        if failures < self.critical_at:
            return []
        message = (
            f"{failures:g} failures of {_labels_text(self.metric, self.labels)} in the last "
            f"{self.window:g} s (critical at {self.critical_at})"
        )
        return [Alert(self.name, AlertSeverity.CRITICAL, message, failures, self.critical_at)]


@attrs.frozen
class BreakerOpenRule:
    """Warn for each open circuit breaker of *registry*.

    *registry* is anything with ``snapshots()`` returning items with ``name``
    and ``state`` (an enum whose value is ``"open"`` when open), such as the
    breaker registry. Each open breaker gives one alert named
    ``breaker_open:<breaker name>``.

    .. versionadded:: 0.1.0
    """

    registry: _BreakerRegistry
    severity: AlertSeverity = attrs.field(default=AlertSeverity.WARNING, converter=_check_severity)
    name: str = "breaker_open"

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:  # noqa: ARG002 - protocol
        """Return one alert per open breaker."""
        return [
            Alert(
                f"{self.name}:{snapshot.name}",
                self.severity,
                f"circuit breaker {snapshot.name!r} is open",
            )
            for snapshot in self.registry.snapshots()
            if snapshot.state.value == "open"
        ]


@attrs.frozen
class DeadLetterBacklogRule:
    """Alert while dead letters wait in *store*.

    Warns when ``store.count()`` is above *warning_above* and is critical
    above *critical_above*.

    Args:
        store: Anything with ``count() -> int``, such as a dead-letter store.
        warning_above: Warn above this many letters (default 0: any letter).
        critical_above: Critical above this many (default 100).
        name: The alert name.

    Raises:
        ValueError: If a threshold is negative or critical is below warning.

    .. versionadded:: 0.1.0
    """

    store: _CountingStore
    warning_above: float = 0
    critical_above: float = 100
    name: str = "dead_letter_backlog"

    def __attrs_post_init__(self) -> None:
        check_non_negative_float("warning_above", self.warning_above)
        check_non_negative_float("critical_above", self.critical_above, allow_inf=True)
        if self.critical_above < self.warning_above:
            raise ValueError(
                f"critical_above ({self.critical_above!r}) must be >= warning_above "
                f"({self.warning_above!r})"
            )

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:  # noqa: ARG002 - protocol
        """Return an alert when the backlog is above a threshold."""
        backlog = self.store.count()
        if backlog > self.critical_above:
            severity, threshold = AlertSeverity.CRITICAL, self.critical_above
        elif backlog > self.warning_above:
            severity, threshold = AlertSeverity.WARNING, self.warning_above
        else:
            return []
        message = f"{backlog} dead letters waiting (above {threshold:g})"
        return [Alert(self.name, severity, message, float(backlog), float(threshold))]


@attrs.frozen
class CheckRule:
    """Alert when an application number, ``fn()``, is above *above*.

    For rules such as "orders stuck more than 24 h in new".

    Args:
        name: The alert name.
        fn: Returns the number to watch.
        above: Alert when ``fn()`` is strictly above this.
        severity: The alert's severity (default warning).
        message: The alert text; ``{value}`` and ``{above}`` are filled in.

    .. versionadded:: 0.1.0
    """

    name: str
    fn: Callable[[], float]
    above: float = 0
    severity: AlertSeverity = attrs.field(default=AlertSeverity.WARNING, converter=_check_severity)
    message: str = "{name} is {value:g} (above {above:g})"

    def __attrs_post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"fn must be callable, got {self.fn!r}")

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:  # noqa: ARG002 - protocol
        """Return an alert when ``fn()`` is above *above*."""
        value = float(self.fn())
        if value <= self.above:
            return []
        text = self.message.format(name=self.name, value=value, above=self.above)
        return [Alert(self.name, self.severity, text, value, float(self.above))]


@attrs.frozen
class BurnRatePair:
    """One multi-window burn-rate condition: both windows burn at *factor* or faster.

    Args:
        long_window: The long window in seconds (e.g. 3600).
        short_window: The short window in seconds (e.g. 300), which makes
            the alert stop soon after the burn stops.
        factor: The burn rate (error rate / error budget) to reach.
        severity: The alert's severity when this pair fires.

    .. versionadded:: 0.1.0
    """

    long_window: float
    short_window: float
    factor: float
    severity: AlertSeverity = AlertSeverity.CRITICAL

    def __attrs_post_init__(self) -> None:
        _check_window("long_window", self.long_window)
        _check_window("short_window", self.short_window)
        check_positive_float("factor", self.factor)
        _check_severity(self.severity)
        if self.short_window > self.long_window:
            raise ValueError(
                f"short_window ({self.short_window!r}) must be <= long_window "
                f"({self.long_window!r})"
            )


def _to_pairs(pairs: Iterable[BurnRatePair]) -> tuple[BurnRatePair, ...]:
    return tuple(pairs)


_DEFAULT_PAIRS = (
    BurnRatePair(3600, 300, 14.4, AlertSeverity.CRITICAL),
    BurnRatePair(21_600, 1800, 6.0, AlertSeverity.WARNING),
)


@attrs.frozen
class BurnRateRule:
    """Alert when the error budget of an SLO burns too fast, over two windows.

    The burn rate of a window is its failure rate divided by ``1 - slo``. A
    pair fires when both its long and its short window burn at *factor* or
    faster, and the long window saw at least *min_events* calls. The defaults
    are the SRE workbook's: 1 h and 5 min at 14.4 (2% of a 30-day budget in
    an hour: critical) and 6 h and 30 min at 6 (5% in six hours: warning).

    Args:
        slo: The success objective, in (0, 1).
        metric: The counter with an ``outcome`` label.
        labels: Only series with these label pairs.
        pairs: The window pairs; the most severe firing pair wins.
        min_events: Fewest calls in the long window for a verdict.
        name: The alert name.

    Raises:
        ValueError: If *slo* is not in (0, 1), *pairs* is empty or
            *min_events* < 1.

    .. versionadded:: 0.1.0
    """

    slo: float = attrs.field(default=0.99, converter=float)
    metric: str = CALLS
    labels: Mapping[str, str] | None = None
    pairs: tuple[BurnRatePair, ...] = attrs.field(default=_DEFAULT_PAIRS, converter=_to_pairs)
    min_events: int = 20
    name: str = "burn_rate"

    def __attrs_post_init__(self) -> None:
        check_fraction("slo", self.slo)
        if self.slo >= 1:
            raise ValueError(f"slo must be below 1, got {self.slo!r}")
        if not self.pairs:
            raise ValueError("pairs must not be empty")
        check_positive_int("min_events", self.min_events)

    def _burn(self, metrics: InMemoryMetrics, window: float) -> tuple[float, float] | None:
        successes, failures = metrics.outcomes(self.metric, window, self.labels)
        events = successes + failures
        if events == 0:
            return None
        return failures / events / (1 - self.slo), events

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        """Return one alert for the most severe pair that burns too fast."""
        worst: Alert | None = None
        for pair in self.pairs:
            long_burn = self._burn(metrics, pair.long_window)
            short_burn = self._burn(metrics, pair.short_window)
            if long_burn is None or short_burn is None or long_burn[1] < self.min_events:
                continue
            # Burn rates are quotients of floats: "at the factor" must survive rounding.
            if not all(
                burn >= pair.factor or math.isclose(burn, pair.factor, rel_tol=1e-9)
                for burn in (long_burn[0], short_burn[0])
            ):
                continue
            if worst is not None and worst.severity.rank >= pair.severity.rank:
                continue
            message = (
                f"{_labels_text(self.metric, self.labels)} burns its {self.slo:.2%} error "
                f"budget {long_burn[0]:.1f}x over {pair.long_window:g} s and "
                f"{short_burn[0]:.1f}x over {pair.short_window:g} s (alert at {pair.factor:g}x)"
            )
            worst = Alert(self.name, pair.severity, message, long_burn[0], pair.factor)
        return [] if worst is None else [worst]


@attrs.frozen
class CheckResult:
    """The outcome of one dependency check.

    Attributes:
        name: The check's name.
        status: PASS or FAIL.
        output: Why it failed (an exception type or "timed out"), or "".
        duration: Seconds the check took, or None when it did not finish.

    .. versionadded:: 0.1.0
    """

    name: str
    status: HealthStatus
    output: str = ""
    duration: float | None = None


def _no_checks() -> dict[str, CheckResult]:
    return {}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@attrs.frozen
class HealthReport:
    """The result of `HealthMonitor.evaluate`, `ready` or `live`.

    Attributes:
        status: The worst of the checks and the alerts.
        checks: The dependency checks, by name.
        alerts: The alerts firing now.
        time: Wall-clock time of the evaluation, epoch seconds.

    .. versionadded:: 0.1.0
    """

    status: HealthStatus
    checks: Mapping[str, CheckResult] = attrs.field(factory=_no_checks)
    alerts: tuple[Alert, ...] = ()
    time: float = 0.0

    @property
    def http_status(self) -> int:
        """Return 503 when the status is FAIL, else 200."""
        return 503 if self.status is HealthStatus.FAIL else 200

    def to_dict(self) -> dict[str, object]:
        """Return the report in the ``application/health+json`` shape.

        Dependency checks appear under their names with ``componentType``
        ``"component"``; alerts under ``alert:<name>`` with ``componentType``
        ``"alert"``, their ``observedValue`` and ``threshold``.
        """
        stamp = _iso(self.time)
        checks: dict[str, list[dict[str, object]]] = {}
        for name, result in self.checks.items():
            entry: dict[str, object] = {
                "componentType": "component",
                "status": result.status.value,
                "time": stamp,
            }
            if result.duration is not None:
                entry["observedValue"] = result.duration
                entry["observedUnit"] = "s"
            if result.output:
                entry["output"] = result.output
            checks[name] = [entry]
        for alert in self.alerts:
            entry = {
                "componentType": "alert",
                "status": _status_of(alert.severity).value,
                "severity": alert.severity.value,
                "output": alert.message,
                "time": stamp,
            }
            if alert.observed is not None:
                entry["observedValue"] = alert.observed
            if alert.threshold is not None:
                entry["threshold"] = alert.threshold
            checks[f"alert:{alert.name}"] = [entry]
        result_dict: dict[str, object] = {"status": self.status.value, "checks": checks}
        if self.alerts:
            result_dict["notes"] = [alert.message for alert in self.alerts]
        return result_dict


class _Run:
    """One execution of a check in its worker thread."""

    __slots__ = ("done", "duration", "error", "passed", "thread")

    def __init__(self, name: str, fn: Callable[[], object]) -> None:
        self.done = False
        self.passed = False
        self.error = ""
        self.duration = 0.0
        self.thread = threading.Thread(
            target=_run_check, args=(fn, self), name=f"felix-check-{name}", daemon=True
        )


def _run_check(fn: Callable[[], object], run: _Run) -> None:
    started = time.perf_counter()
    try:
        outcome = fn()
    except Exception as exc:  # noqa: BLE001 - a failing check fails alone
        run.error = f"raised {type(exc).__name__}"
    else:
        run.passed = outcome is not False
        if not run.passed:
            run.error = "returned False"
    run.duration = time.perf_counter() - started
    run.done = True


def _default_rules(metrics: InMemoryMetrics | None) -> tuple[AlertRule, ...]:
    if metrics is None:
        return ()
    return (SuccessRateRule(), FailureSpikeRule(), BurnRateRule())


class HealthMonitor:
    """Evaluate alert rules and dependency checks into a `HealthReport`.

    Checks run in parallel, each in its own daemon worker thread, and are
    waited for *check_timeout* seconds in all; a check that raises, returns
    False or does not finish in time fails alone. A check still running from
    an earlier evaluation is not started again: it fails as "still running"
    until it returns, so a hung dependency never piles up threads.

    ``on_alert`` callbacks receive `AlertEvent` edges from `run_once` (which
    the background thread of `start` calls): NEW when an alert appears,
    ESCALATED when it turns critical, RESOLVED when it disappears. A NEW or
    RESOLVED edge waits until *alert_cooldown* seconds passed since the last
    event of that alert, so a flapping alert notifies at most once per
    cooldown; an escalation is never held back.

    Args:
        metrics: What the rules read; None gives an empty collector.
        rules: The alert rules; None means the defaults when *metrics* is
            given (`SuccessRateRule`, `FailureSpikeRule` and `BurnRateRule`
            on ``felix_calls``) and none otherwise.
        checks: Dependency probes by name; a probe passes by returning and
            fails by raising or returning False.
        check_timeout: Seconds to wait for the checks of one evaluation.
        clock: Time source for timestamps and cooldowns.
        on_alert: Callbacks for alert edges.
        alert_cooldown: Seconds between NEW/RESOLVED events of one alert.

    Attributes:
        last_report: The latest `evaluate` result (None before the first), so
            a request handler can serve what the background thread computed.

    Raises:
        ValueError: If *check_timeout* is not positive or the cooldown negative.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        metrics: InMemoryMetrics | None = None,
        rules: Iterable[AlertRule] | None = None,
        checks: Mapping[str, Callable[[], object]] | None = None,
        check_timeout: float = 2.0,
        clock: Clock | None = None,
        on_alert: Iterable[Callable[[AlertEvent], object]] = (),
        alert_cooldown: float = 300.0,
    ) -> None:
        self._clock: Clock = SystemClock() if clock is None else clock
        self._metrics = InMemoryMetrics(clock=self._clock) if metrics is None else metrics
        self._rules: tuple[AlertRule, ...] = (
            _default_rules(metrics) if rules is None else tuple(rules)
        )
        self._checks: dict[str, Callable[[], object]] = dict(checks or {})
        self._check_timeout = check_positive_float("check_timeout", check_timeout)
        self._on_alert = list(on_alert)
        self._cooldown = check_non_negative_float("alert_cooldown", alert_cooldown)
        self._runs: dict[str, _Run] = {}
        self._runs_lock = threading.Lock()
        self._edge_lock = threading.Lock()
        self._notified: dict[str, Alert] = {}
        self._last_event: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self.last_report: HealthReport | None = None

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """Return the rules this monitor evaluates."""
        return self._rules

    def add_alert_callback(self, callback: Callable[[AlertEvent], object]) -> None:
        """Call *callback* with every alert edge from now on."""
        self._on_alert.append(callback)

    # -- checks ------------------------------------------------------------

    def _start_checks(self) -> dict[str, _Run | None]:
        started: dict[str, _Run | None] = {}
        with self._runs_lock:
            for name, fn in self._checks.items():
                previous = self._runs.get(name)
                if previous is not None and not previous.done:
                    started[name] = None
                    continue
                run = self._runs[name] = _Run(name, fn)
                run.thread.start()
                started[name] = run
        return started

    def _run_checks(self) -> dict[str, CheckResult]:
        started = self._start_checks()
        deadline = time.monotonic() + self._check_timeout
        results: dict[str, CheckResult] = {}
        for name, run in started.items():
            if run is None:
                results[name] = CheckResult(
                    name, HealthStatus.FAIL, "still running since an earlier evaluation"
                )
                continue
            run.thread.join(max(0.0, deadline - time.monotonic()))
            if not run.done:
                results[name] = CheckResult(
                    name, HealthStatus.FAIL, f"timed out after {self._check_timeout:g} s"
                )
            elif run.passed:
                results[name] = CheckResult(name, HealthStatus.PASS, "", run.duration)
            else:
                results[name] = CheckResult(name, HealthStatus.FAIL, run.error, run.duration)
        return results

    # -- rules -------------------------------------------------------------

    def _evaluate_rules(self) -> tuple[Alert, ...]:
        alerts: list[Alert] = []
        for rule in self._rules:
            try:
                alerts.extend(rule.evaluate(self._metrics))
            except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the others
                _log.warning("alert rule %r raised %s", rule.name, type(exc).__name__)
                alerts.append(
                    Alert(
                        f"{rule.name}:error",
                        AlertSeverity.WARNING,
                        f"alert rule {rule.name!r} raised {type(exc).__name__}",
                    )
                )
        return tuple(alerts)

    # -- reports -----------------------------------------------------------

    def evaluate(self) -> HealthReport:
        """Run the checks and the rules; return the full report.

        Returns within *check_timeout* plus the rules' time. Fires no
        callbacks (see `run_once`).
        """
        checks = self._run_checks()
        alerts = self._evaluate_rules()
        status = HealthStatus.worst(
            [result.status for result in checks.values()]
            + [_status_of(alert.severity) for alert in alerts]
        )
        report = HealthReport(status, checks, alerts, self._clock.wall())
        self.last_report = report
        return report

    def ready(self) -> HealthReport:
        """Run the checks alone: what a load balancer should probe."""
        checks = self._run_checks()
        status = HealthStatus.worst(result.status for result in checks.values())
        return HealthReport(status, checks, (), self._clock.wall())

    def live(self) -> HealthReport:
        """Return PASS at once: the process answers."""
        return HealthReport(HealthStatus.PASS, {}, (), self._clock.wall())

    # -- alert edges -------------------------------------------------------

    def _edges(self, alerts: Sequence[Alert], now: float) -> list[tuple[AlertChange, Alert]]:
        current = {alert.name: alert for alert in alerts}
        edges: list[tuple[AlertChange, Alert]] = []
        cooled = {
            name
            for name in set(current) | set(self._notified)
            if now - self._last_event.get(name, -math.inf) >= self._cooldown
        }
        for name, alert in current.items():
            notified = self._notified.get(name)
            if notified is None:
                if name in cooled:
                    edges.append((AlertChange.NEW, alert))
            elif alert.severity.rank > notified.severity.rank:
                edges.append((AlertChange.ESCALATED, alert))
            else:
                self._notified[name] = alert  # de-escalation or same: no edge
        for name, notified in list(self._notified.items()):
            if name not in current and name in cooled:
                edges.append((AlertChange.RESOLVED, notified))
        for change, alert in edges:
            self._last_event[alert.name] = now
            if change is AlertChange.RESOLVED:
                del self._notified[alert.name]
            else:
                self._notified[alert.name] = alert
        return edges

    def run_once(self) -> HealthReport:
        """Evaluate, then send the alert edges to the ``on_alert`` callbacks.

        A callback that raises is logged and does not stop the others.
        """
        report = self.evaluate()
        with self._edge_lock:
            edges = self._edges(report.alerts, self._clock.monotonic())
        wall = report.time
        for change, alert in edges:
            event = AlertEvent(change, alert, wall)
            for callback in list(self._on_alert):
                try:
                    callback(event)
                except Exception:  # noqa: BLE001 - one bad callback must not silence the others
                    _log.exception("on_alert callback failed for %s", alert.name)
        return report

    # -- background thread -------------------------------------------------

    def start(self, interval: float = 30.0) -> None:
        """Call `run_once` every *interval* seconds in a daemon thread, first at once.

        Raises:
            ValueError: If *interval* is not positive.
            RuntimeError: If already started.
        """
        seconds = check_positive_float("interval", interval)
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the health monitor is already started")
        self._stopping = False
        self._wake.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(seconds,), name="felix-health-monitor", daemon=True
        )
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stopping:
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the loop must outlive a failed evaluation
                _log.exception("health evaluation failed")
            self._wake.wait(interval)
            self._wake.clear()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread and wait up to *timeout* seconds for it."""
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        """Return True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def __repr__(self) -> str:
        return (
            f"HealthMonitor(rules={len(self._rules)}, checks={sorted(self._checks)!r}, "
            f"running={self.running})"
        )
