"""Alert rules at their boundaries, HealthMonitor checks, reports, edges and its thread."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from felix_reliability import (
    Alert,
    AlertChange,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    BreakerOpenRule,
    BurnRatePair,
    BurnRateRule,
    CheckResult,
    CheckRule,
    DeadLetterBacklogRule,
    FailureSpikeRule,
    HealthMonitor,
    HealthReport,
    HealthStatus,
    InMemoryMetrics,
    SuccessRateRule,
)
from felix_reliability._metrics import CALLS
from felix_reliability.testing import FakeClock

OK = {"operation": "send", "outcome": "success"}
KO = {"operation": "send", "outcome": "failure"}
WARNING = AlertSeverity.WARNING
CRITICAL = AlertSeverity.CRITICAL


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics(clock: FakeClock) -> InMemoryMetrics:
    return InMemoryMetrics(clock=clock)


def record(metrics: InMemoryMetrics, successes: float, failures: float) -> None:
    if successes:
        metrics.increment(CALLS, successes, OK)
    if failures:
        metrics.increment(CALLS, failures, KO)


def severities(alerts: Sequence[Alert]) -> list[AlertSeverity]:
    return [alert.severity for alert in alerts]


# -- SuccessRateRule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "failures", "expected"),
    [
        (99, 1, []),  # exactly 99.0%: not a warning
        (9899, 101, [WARNING]),  # 98.99%: just below
        (95, 5, [WARNING]),  # exactly 95.0%: a warning, not critical
        (9499, 501, [CRITICAL]),  # 94.99%
        (100, 0, []),
    ],
)
def test_success_rate_rule_boundaries(
    metrics: InMemoryMetrics, successes: int, failures: int, expected: list[AlertSeverity]
) -> None:
    """99.0% passes, just below warns; 95.0% warns, just below is critical."""
    record(metrics, successes, failures)
    assert expected == severities(SuccessRateRule().evaluate(metrics))


def test_success_rate_rule_needs_min_events(metrics: InMemoryMetrics) -> None:
    """19 failed calls say nothing; the 20th makes a verdict."""
    record(metrics, 0, 19)
    assert list(SuccessRateRule().evaluate(metrics)) == []
    record(metrics, 0, 1)
    (alert,) = SuccessRateRule().evaluate(metrics)
    assert (alert.severity, alert.observed, alert.threshold) == (CRITICAL, 0.0, 0.95)
    assert alert.name == "success_rate"
    assert "below 95.00%" in alert.message


def test_success_rate_rule_window_slides(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Failures older than the window stop counting."""
    record(metrics, 0, 50)
    clock.advance(1800)
    record(metrics, 100, 0)
    assert severities(SuccessRateRule().evaluate(metrics)) == [CRITICAL]
    clock.advance(1800)
    assert list(SuccessRateRule().evaluate(metrics)) == []


def test_success_rate_rule_filters_labels(metrics: InMemoryMetrics) -> None:
    """labels= restricts the rule to one operation and shows in the message."""
    record(metrics, 0, 50)
    metrics.increment(CALLS, 100, {"operation": "poll", "outcome": "success"})
    rule = SuccessRateRule(labels={"operation": "poll"})
    assert list(rule.evaluate(metrics)) == []
    (alert,) = SuccessRateRule(labels={"operation": "send"}).evaluate(metrics)
    assert 'felix_calls{operation="send"}' in alert.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"warning_below": 0}, "warning_below"),
        ({"critical_below": 1.5}, "critical_below"),
        ({"warning_below": 0.9, "critical_below": 0.95}, "critical_below"),
        ({"window": 0}, "window"),
        ({"window": 91 * 86_400}, "window"),
        ({"min_events": 0}, "min_events"),
    ],
)
def test_success_rate_rule_validates(kwargs: dict[str, float], match: str) -> None:
    """Bad thresholds, windows or minimum counts raise naming the parameter."""
    with pytest.raises(ValueError, match=match):
        SuccessRateRule(**kwargs)  # type: ignore[arg-type]


# -- FailureSpikeRule -----------------------------------------------------------


def test_failure_spike_rule_at_ten(metrics: InMemoryMetrics) -> None:
    """Nine failures are fine; the tenth is critical."""
    record(metrics, 1000, 9)
    assert list(FailureSpikeRule().evaluate(metrics)) == []
    record(metrics, 0, 1)
    (alert,) = FailureSpikeRule().evaluate(metrics)
    assert (alert.severity, alert.observed, alert.threshold) == (CRITICAL, 10.0, 10)


def test_failure_spike_rule_window_slides(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Failures leave the spike rule's window after it passes."""
    record(metrics, 0, 10)
    clock.advance(3600)
    assert list(FailureSpikeRule().evaluate(metrics)) == []


def test_failure_spike_rule_validates() -> None:
    """critical_at below 1 is a configuration error."""
    with pytest.raises(ValueError, match="critical_at"):
        FailureSpikeRule(critical_at=0)


# -- BreakerOpenRule --------------------------------------------------------------


class FakeState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class FakeSnapshot:
    name: str
    state: FakeState


@dataclass
class FakeRegistry:
    items: list[FakeSnapshot]

    def snapshots(self) -> list[FakeSnapshot]:
        return self.items


def test_breaker_open_rule_warns_per_open_breaker(metrics: InMemoryMetrics) -> None:
    """Each open breaker gives one warning; closed and half-open ones none."""
    registry = FakeRegistry(
        [
            FakeSnapshot("telegram", FakeState.OPEN),
            FakeSnapshot("db", FakeState.CLOSED),
            FakeSnapshot("sms", FakeState.HALF_OPEN),
        ]
    )
    (alert,) = BreakerOpenRule(registry).evaluate(metrics)
    assert (alert.name, alert.severity) == ("breaker_open:telegram", WARNING)
    registry.items[0].state = FakeState.CLOSED
    assert list(BreakerOpenRule(registry).evaluate(metrics)) == []


def test_breaker_open_rule_severity_is_checked() -> None:
    """severity must be an AlertSeverity."""
    with pytest.raises(TypeError, match="severity"):
        BreakerOpenRule(FakeRegistry([]), severity="warning")  # type: ignore[arg-type]


# -- DeadLetterBacklogRule -----------------------------------------------------


@dataclass
class FakeStore:
    backlog: int

    def count(self) -> int:
        return self.backlog


@pytest.mark.parametrize(
    ("backlog", "expected"), [(0, []), (1, [WARNING]), (100, [WARNING]), (101, [CRITICAL])]
)
def test_dead_letter_backlog_rule(
    metrics: InMemoryMetrics, backlog: int, expected: list[AlertSeverity]
) -> None:
    """Any letter warns; above critical_above (100 by default) it is critical."""
    assert expected == severities(DeadLetterBacklogRule(FakeStore(backlog)).evaluate(metrics))


def test_dead_letter_backlog_rule_validates() -> None:
    """critical_above below warning_above, or negative thresholds, are rejected."""
    with pytest.raises(ValueError, match="critical_above"):
        DeadLetterBacklogRule(FakeStore(0), warning_above=10, critical_above=5)
    with pytest.raises(ValueError, match="warning_above"):
        DeadLetterBacklogRule(FakeStore(0), warning_above=-1)


# -- CheckRule --------------------------------------------------------------------


def test_check_rule_alerts_above_threshold(metrics: InMemoryMetrics) -> None:
    """CheckRule alerts when fn() is strictly above `above`, with its severity."""
    stuck = [0]
    rule = CheckRule("orders_stuck", lambda: stuck[0], above=2, severity=CRITICAL)
    stuck[0] = 2
    assert list(rule.evaluate(metrics)) == []
    stuck[0] = 3
    expected = Alert("orders_stuck", CRITICAL, "orders_stuck is 3 (above 2)", 3.0, 2.0)
    assert [expected] == list(rule.evaluate(metrics))


def test_check_rule_needs_a_callable() -> None:
    """fn must be callable."""
    with pytest.raises(TypeError, match="fn must be callable"):
        CheckRule("x", 3)  # type: ignore[arg-type]


# -- BurnRateRule -----------------------------------------------------------------


def test_burn_rate_fast_pair_at_exactly_14_4(metrics: InMemoryMetrics) -> None:
    """An error rate of 14.4 x 1% in both 1 h and 5 min is critical."""
    record(metrics, 856, 144)
    (alert,) = BurnRateRule().evaluate(metrics)
    assert (alert.severity, alert.threshold) == (CRITICAL, 14.4)
    assert alert.observed == pytest.approx(14.4)


def test_burn_rate_just_below_fast_pair_is_the_slow_pair(metrics: InMemoryMetrics) -> None:
    """Just below 14.4 the fast pair stays quiet, and the 6 h/30 min pair at 6 warns."""
    record(metrics, 857, 143)
    assert severities(BurnRateRule().evaluate(metrics)) == [WARNING]


def test_burn_rate_slow_pair_boundary(metrics: InMemoryMetrics) -> None:
    """An error rate of exactly 6% warns; 5.9% does not."""
    record(metrics, 940, 60)
    assert severities(BurnRateRule().evaluate(metrics)) == [WARNING]
    fresh = InMemoryMetrics(clock=FakeClock())
    record(fresh, 941, 59)
    assert list(BurnRateRule().evaluate(fresh)) == []


def test_burn_rate_short_window_ends_the_alert(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """Once the last 5 minutes are clean, the fast pair stops even if the hour burns."""
    record(metrics, 0, 200)
    clock.advance(600)
    record(metrics, 800, 0)
    rule = BurnRateRule(pairs=(BurnRatePair(3600, 300, 14.4),))
    assert list(rule.evaluate(metrics)) == []
    record(metrics, 0, 200)
    assert severities(rule.evaluate(metrics)) == [CRITICAL]


def test_burn_rate_needs_min_events_and_events_in_both(metrics: InMemoryMetrics) -> None:
    """Fewer than min_events in the long window, or none in the short one: no verdict."""
    record(metrics, 0, 19)
    assert list(BurnRateRule().evaluate(metrics)) == []
    record(metrics, 0, 1)
    assert severities(BurnRateRule().evaluate(metrics)) == [CRITICAL]
    assert list(BurnRateRule().evaluate(InMemoryMetrics(clock=FakeClock()))) == []


def test_burn_rate_most_severe_pair_wins(metrics: InMemoryMetrics) -> None:
    """When pairs of both severities fire, one critical alert comes out."""
    record(metrics, 0, 100)
    pairs = (BurnRatePair(3600, 300, 2, CRITICAL), BurnRatePair(21_600, 1800, 1, WARNING))
    assert severities(BurnRateRule(pairs=pairs).evaluate(metrics)) == [CRITICAL]
    assert severities(BurnRateRule(pairs=pairs[::-1]).evaluate(metrics)) == [CRITICAL]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"slo": 1.0}, "slo"), ({"slo": 0}, "slo"), ({"pairs": ()}, "pairs")],
)
def test_burn_rate_rule_validates(kwargs: dict[str, object], match: str) -> None:
    """slo must lie in (0, 1) and pairs must not be empty."""
    with pytest.raises(ValueError, match=match):
        BurnRateRule(**kwargs)  # type: ignore[arg-type]


def test_burn_rate_pair_validates() -> None:
    """A short window longer than the long one, or a bad factor, is rejected."""
    with pytest.raises(ValueError, match="short_window"):
        BurnRatePair(300, 3600, 14.4)
    with pytest.raises(ValueError, match="factor"):
        BurnRatePair(3600, 300, 0)
    with pytest.raises(TypeError, match="severity"):
        BurnRatePair(3600, 300, 2, "critical")  # type: ignore[arg-type]


# -- HealthMonitor: reports and checks -----------------------------------------------


def test_default_rules_need_metrics(metrics: InMemoryMetrics) -> None:
    """With metrics the defaults are the success-rate, spike and burn-rate rules."""
    kinds = [type(rule) for rule in HealthMonitor(metrics=metrics).rules]
    assert [SuccessRateRule, FailureSpikeRule, BurnRateRule] == kinds
    assert HealthMonitor().rules == ()
    assert all(isinstance(rule, AlertRule) for rule in HealthMonitor(metrics=metrics).rules)


def test_report_is_the_worst_of_checks_and_alerts(
    metrics: InMemoryMetrics, clock: FakeClock
) -> None:
    """One failing check makes the report FAIL with HTTP 503; alerts add up too."""
    record(metrics, 98, 2)
    monitor = HealthMonitor(
        metrics=metrics,
        checks={"db": lambda: None, "cache": lambda: False},
        clock=clock,
        check_timeout=1.0,
    )
    report = monitor.evaluate()
    assert report.status == HealthStatus.FAIL
    assert report.http_status == 503
    assert report.checks["db"].status == HealthStatus.PASS
    assert (
        CheckResult("cache", HealthStatus.FAIL, "returned False", report.checks["cache"].duration)
        == report.checks["cache"]
    )
    assert [alert.name for alert in report.alerts] == ["success_rate"]
    assert report is monitor.last_report


def test_warning_alone_is_warn_with_200(metrics: InMemoryMetrics) -> None:
    """A warning alert without failing checks is WARN and still HTTP 200."""
    record(metrics, 98, 1)
    report = HealthMonitor(metrics=metrics, rules=[SuccessRateRule()]).evaluate()
    assert (report.status, report.http_status) == (HealthStatus.WARN, 200)


def test_check_that_raises_fails_alone(clock: FakeClock) -> None:
    """A raising check fails with its exception type only; the others still pass."""

    def broken() -> None:
        raise ConnectionError("password=hunter2 at db.internal")

    monitor = HealthMonitor(checks={"db": broken, "disk": lambda: True}, clock=clock)
    report = monitor.evaluate()
    assert report.checks["db"].output == "raised ConnectionError"
    assert report.checks["disk"].status == HealthStatus.PASS
    assert "hunter2" not in str(report.to_dict())


def test_health_json_shape(metrics: InMemoryMetrics, clock: FakeClock) -> None:
    """to_dict() follows application/health+json: status, checks lists, notes."""
    record(metrics, 0, 20)
    monitor = HealthMonitor(
        metrics=metrics, rules=[FailureSpikeRule()], checks={"db": lambda: None}, clock=clock
    )
    document = monitor.evaluate().to_dict()
    assert document["status"] == "fail"
    checks = document["checks"]
    assert isinstance(checks, dict)
    (db,) = checks["db"]
    assert {"componentType", "status", "time", "observedValue", "observedUnit"} == set(db)
    assert (db["status"], db["time"], db["observedUnit"]) == ("pass", "2023-11-14T22:13:20Z", "s")
    alert = checks["alert:failure_spike"][0]
    assert (
        alert["componentType"],
        alert["status"],
        alert["severity"],
        alert["observedValue"],
        alert["threshold"],
    ) == ("alert", "fail", "critical", 20.0, 10)
    assert [alert["output"]] == document["notes"]


def test_health_json_of_a_bare_alert_and_a_failed_check() -> None:
    """Alerts without numbers and checks without a duration omit those fields."""
    report = HealthReport(
        HealthStatus.WARN,
        {"db": CheckResult("db", HealthStatus.FAIL, "timed out after 2 s")},
        (Alert("breaker_open:x", WARNING, "circuit breaker 'x' is open"),),
    )
    checks = report.to_dict()["checks"]
    assert isinstance(checks, dict)
    assert {"componentType", "status", "time", "output"} == set(checks["db"][0])
    assert {"componentType", "status", "severity", "output", "time"} == set(
        checks["alert:breaker_open:x"][0]
    )


def test_ready_runs_checks_only_and_live_always_passes(metrics: InMemoryMetrics) -> None:
    """ready() ignores the alerts; live() answers PASS without running anything."""
    record(metrics, 0, 100)
    calls: list[str] = []
    monitor = HealthMonitor(metrics=metrics, checks={"db": lambda: calls.append("db")})
    ready = monitor.ready()
    assert (ready.status, ready.alerts, calls) == (HealthStatus.PASS, (), ["db"])
    live = monitor.live()
    assert (live.status, live.checks, calls) == (HealthStatus.PASS, {}, ["db"])
    assert monitor.evaluate().status == HealthStatus.FAIL


def test_rule_that_raises_becomes_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A broken rule yields a '<name>:error' warning and the other rules still run."""

    def broken() -> float:
        raise RuntimeError("secret text")

    rules = [CheckRule("bad", broken), CheckRule("good", lambda: 1)]
    with caplog.at_level(logging.WARNING, logger="felix_reliability.health"):
        report = HealthMonitor(rules=rules).evaluate()
    assert [alert.name for alert in report.alerts] == ["bad:error", "good"]
    assert "secret text" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_hung_check_times_out_and_is_not_restarted() -> None:
    """A check that never returns: evaluate() returns in time and starts no second thread."""
    release = threading.Event()
    started: list[int] = []

    def hang() -> None:
        started.append(1)
        release.wait()

    monitor = HealthMonitor(checks={"hang": hang, "ok": lambda: None}, check_timeout=0.1)
    try:
        begin = time.monotonic()
        first = monitor.evaluate()
        elapsed = time.monotonic() - begin
        assert elapsed < 0.1 + 0.15
        assert first.checks["hang"].output == "timed out after 0.1 s"
        assert first.checks["ok"].status == HealthStatus.PASS
        threads_before = threading.active_count()
        for _ in range(5):
            again = monitor.evaluate()
            assert again.checks["hang"].output == "still running since an earlier evaluation"
        assert threads_before == threading.active_count()
        assert started == [1]
    finally:
        release.set()
    for thread in threading.enumerate():
        if thread.name == "felix-check-hang":
            thread.join(1)
    assert monitor.evaluate().status == HealthStatus.PASS
    assert started == [1, 1]


def test_monitor_validates_its_configuration() -> None:
    """check_timeout must be positive and the cooldown non-negative."""
    with pytest.raises(ValueError, match="check_timeout"):
        HealthMonitor(check_timeout=0)
    with pytest.raises(ValueError, match="alert_cooldown"):
        HealthMonitor(alert_cooldown=-1)


# -- HealthMonitor: alert edges -------------------------------------------------------


class Level:
    """A CheckRule source whose value a test sets."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def edge_monitor(
    clock: FakeClock, cooldown: float = 300
) -> tuple[Level, list[AlertEvent], HealthMonitor]:
    level = Level()
    events: list[AlertEvent] = []
    monitor = HealthMonitor(
        rules=[_Escalating(level)], clock=clock, on_alert=[events.append], alert_cooldown=cooldown
    )
    return level, events, monitor


@dataclass(frozen=True)
class _Escalating:
    """A rule warning above 0 and critical above 10."""

    level: Level
    name: str = "stuck"

    def evaluate(self, metrics: InMemoryMetrics) -> Sequence[Alert]:
        value = self.level()
        if value > 10:
            return [Alert(self.name, CRITICAL, "very stuck", value, 10)]
        if value > 0:
            return [Alert(self.name, WARNING, "stuck", value, 0)]
        return []


def changes(events: list[AlertEvent]) -> list[tuple[AlertChange, AlertSeverity]]:
    return [(event.change, event.alert.severity) for event in events]


def test_alert_edges_new_escalated_resolved(clock: FakeClock) -> None:
    """Callbacks see NEW, then ESCALATED, then RESOLVED; steady states fire nothing."""
    level, events, monitor = edge_monitor(clock, cooldown=0)
    monitor.run_once()
    level.value = 1
    monitor.run_once()
    monitor.run_once()
    level.value = 11
    monitor.run_once()
    level.value = 5  # de-escalation is not an edge
    monitor.run_once()
    level.value = 0
    monitor.run_once()
    expected = [
        (AlertChange.NEW, WARNING),
        (AlertChange.ESCALATED, CRITICAL),
        (AlertChange.RESOLVED, WARNING),
    ]
    assert expected == changes(events)
    assert events[0].at == 1_700_000_000.0


def test_flapping_alert_is_held_by_the_cooldown(clock: FakeClock) -> None:
    """Resolve and re-raise within the cooldown: no events; after it, RESOLVED fires."""
    level, events, monitor = edge_monitor(clock, cooldown=300)
    level.value = 1
    monitor.run_once()
    clock.advance(60)
    level.value = 0
    monitor.run_once()
    clock.advance(60)
    level.value = 1
    monitor.run_once()
    level.value = 0
    monitor.run_once()
    assert changes(events) == [(AlertChange.NEW, WARNING)]
    clock.advance(180)
    monitor.run_once()
    assert changes(events) == [(AlertChange.NEW, WARNING), (AlertChange.RESOLVED, WARNING)]


def test_escalation_ignores_the_cooldown(clock: FakeClock) -> None:
    """Turning critical right after the warning fires at once."""
    level, events, monitor = edge_monitor(clock, cooldown=300)
    level.value = 1
    monitor.run_once()
    level.value = 20
    monitor.run_once()
    assert changes(events) == [(AlertChange.NEW, WARNING), (AlertChange.ESCALATED, CRITICAL)]


def test_failing_callback_does_not_silence_others(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A callback that raises is logged; the next callback still gets the event."""
    level, events, monitor = edge_monitor(clock)

    def broken(event: AlertEvent) -> None:
        raise RuntimeError("boom")

    seen: list[AlertEvent] = []
    monitor._on_alert.insert(0, broken)
    monitor.add_alert_callback(seen.append)
    level.value = 1
    with caplog.at_level(logging.ERROR, logger="felix_reliability.health"):
        monitor.run_once()
    assert 1 == len(events) == len(seen)
    assert "on_alert callback failed for stuck" in caplog.text


# -- HealthMonitor: background thread ---------------------------------------------------


def test_background_thread_evaluates_and_stops(clock: FakeClock) -> None:
    """start() runs at once, wakes on demand, and stop() ends the thread."""
    level = Level()
    evaluations: list[float] = []
    woke = threading.Semaphore(0)

    def counting() -> float:
        evaluations.append(level.value)
        woke.release()
        return level.value

    events: list[AlertEvent] = []
    monitor = HealthMonitor(
        rules=[CheckRule("stuck", counting)], clock=clock, on_alert=[events.append]
    )
    monitor.start(interval=3600)
    try:
        assert monitor.running
        assert woke.acquire(timeout=0.2)
        with pytest.raises(RuntimeError, match="already started"):
            monitor.start()
        level.value = 3
        monitor._wake.set()
        assert woke.acquire(timeout=0.2)
    finally:
        monitor.stop()
    assert not monitor.running
    assert evaluations[:2] == [0.0, 3.0]
    assert [event.change for event in events] == [AlertChange.NEW]
    monitor.stop()  # stopping twice is harmless
    assert "running=False" in repr(monitor)


def test_background_loop_survives_a_failed_evaluation(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception escaping run_once is logged and the loop goes on."""
    monitor = HealthMonitor(clock=clock)
    calls = threading.Semaphore(0)
    count = [0]

    def flaky() -> HealthReport:
        count[0] += 1
        calls.release()
        if count[0] == 1:
            raise RuntimeError("boom")
        return monitor.live()

    monitor.run_once = flaky  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="felix_reliability.health"):
        monitor.start(interval=3600)
        try:
            assert calls.acquire(timeout=0.2)
            monitor._wake.set()
            assert calls.acquire(timeout=0.2)
        finally:
            monitor.stop()
    assert "health evaluation failed" in caplog.text


def test_start_validates_the_interval() -> None:
    """interval must be positive."""
    with pytest.raises(ValueError, match="interval"):
        HealthMonitor().start(interval=0)


def test_report_defaults_to_no_checks() -> None:
    """A report built by hand has no checks, no alerts and a 200."""
    report = HealthReport(HealthStatus.PASS)
    assert (report.checks, report.alerts, report.http_status) == ({}, (), 200)


def test_reappearing_alert_waits_for_the_cooldown(clock: FakeClock) -> None:
    """An alert back soon after its RESOLVED event waits; it fires once the cooldown passed."""
    level, events, monitor = edge_monitor(clock, cooldown=300)
    level.value = 1
    monitor.run_once()
    clock.advance(300)
    level.value = 0
    monitor.run_once()
    clock.advance(60)
    level.value = 1
    monitor.run_once()
    assert [event.change for event in events] == [AlertChange.NEW, AlertChange.RESOLVED]
    clock.advance(240)
    monitor.run_once()
    expected = [AlertChange.NEW, AlertChange.RESOLVED, AlertChange.NEW]
    assert expected == [event.change for event in events]
