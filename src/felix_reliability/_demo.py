"""The main job: felix_hub's day of Telegram notifications through the whole stack.

A `FakeTelegramServer` on 127.0.0.1 plays a scripted day: normal traffic, a
burst of 429s, users who blocked the bot, a proxy's 502s, a full outage, and
recovery. Orders flow through correlation context, a write-ahead `Guard`
(retry, breaker, dead letters) and in-memory metrics; health is evaluated as
the day goes. Time is a `FakeClock`, so a day takes seconds; every HTTP
request is real.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable, Generator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import attrs

from felix_reliability._breaker import BreakerEvent, BreakerRegistry, StateChanged
from felix_reliability._correlation import bind_context, new_request_id
from felix_reliability._dead_letters import (
    DeadLetter,
    DeadLetterReason,
    DeadLetterStore,
    open_dead_letter_store,
)
from felix_reliability._demo_report import (
    AlertEvent,
    BreakerTransition,
    DemoTimeline,
    HealthSample,
    HealthStatusName,
    IntervalSample,
    _clock,  # pyright: ignore[reportPrivateUsage] - the report's time format, a sibling module
)
from felix_reliability._fake_telegram import FakeTelegramServer
from felix_reliability._health import (
    AlertEvent as HealthAlertEvent,
)
from felix_reliability._health import (
    BreakerOpenRule,
    DeadLetterBacklogRule,
    FailureSpikeRule,
    HealthMonitor,
    HealthStatus,
    SuccessRateRule,
)
from felix_reliability._in_memory_metrics import InMemoryMetrics
from felix_reliability._logging import CorrelationFilter, CorrelationFormatter
from felix_reliability._replay import replay_dead_letters
from felix_reliability._validation import check_positive_int
from felix_reliability.testing import FakeClock

__all__ = ["DemoResult", "run_demo"]

DAY: Final = 86_400.0
INTERVAL: Final = 600.0
HOUR: Final = 3_600.0
MECHANICS: Final = 40
# A mechanic who blocked the bot long ago: two orders of the day go to them.
BLOCKED_CHAT: Final = 999
# An hour after Telegram is back, the operator replays the dead letters.
REPLAY_AT: Final = 15.5 * HOUR
# 2026-11-27T00:00:00Z: the demo's day, so reports are reproducible.
DAY_START: Final = datetime(2026, 11, 27, tzinfo=UTC).timestamp()

Progress = Callable[[str], None]

_STATUS_NAMES: Final[dict[HealthStatus, HealthStatusName]] = {
    HealthStatus.PASS: "pass",
    HealthStatus.WARN: "warn",
    HealthStatus.FAIL: "fail",
}


@attrs.frozen
class DemoResult:
    """What the demo measured: the summary counts, the timeline, the verdict."""

    summary: dict[str, int]
    timeline: DemoTimeline
    health: dict[str, str]
    log_lines: int
    log_lines_with_request_id: int
    store_url: str

    @property
    def ok(self) -> bool:
        """Return whether every order that could be delivered was delivered at least once."""
        return (
            self.summary["delivered_total"] + self.summary["permanent_dead_letters"]
            == self.summary["sent"]
        )

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data (the summary keys at the top level)."""
        return {
            **self.summary,
            "ok": self.ok,
            "health": self.health,
            "transitions": [
                {"at": t.at, "from": t.from_state, "to": t.to_state}
                for t in self.timeline.transitions
            ],
            "alerts": [
                {"at": a.at, "name": a.name, "severity": a.severity, "edge": a.edge}
                for a in self.timeline.alerts
            ],
            "log_lines": self.log_lines,
            "log_lines_with_request_id": self.log_lines_with_request_id,
            "store": self.store_url,
        }


@attrs.define
class _Script:
    """The day's faults: switches at given times, and per-order faults in windows."""

    server: FakeTelegramServer
    switches: list[tuple[float, str, Callable[[], None]]]
    windows: list[tuple[float, float, Callable[[], None]]]

    @classmethod
    def felix_hub_day(cls, server: FakeTelegramServer) -> _Script:
        server.reject(403, times=None, chat_id=BLOCKED_CHAT)  # blocked the bot long ago
        burst, proxy = 9.0 * HOUR, 11.0 * HOUR
        return cls(
            server,
            switches=[
                (burst, "a burst of 429s: each send waits retry_after=3 s once", _nothing),
                (proxy, "a proxy answers 502 to first attempts", _nothing),
                (13.0 * HOUR, "Telegram outage begins", server.start_outage),
                (14.5 * HOUR, "Telegram is back", server.end_outage),
            ],
            windows=[
                (burst, burst + 0.5 * HOUR, lambda: server.rate_limit(3, times=1)),
                (proxy, proxy + 0.5 * HOUR, lambda: server.server_error(502, html=True)),
            ],
        )

    def before_order(self, now: float, progress: Progress) -> None:
        """Play the switches due by *now*, then the fault for this order, if any."""
        while self.switches and self.switches[0][0] <= now:
            at, what, action = self.switches.pop(0)
            progress(f"[{_clock(at)}] {what}")
            action()
        for start, end, fault in self.windows:
            if start <= now < end:
                fault()


def _nothing() -> None:
    """A switch that only announces a window of per-order faults."""


@attrs.define
class _Interval:
    start: float
    attempted: int = 0
    delivered: int = 0
    dead_lettered: int = 0


class _LogCounter(logging.Handler):
    """Keeps the demo's log lines off the terminal and counts their request ids."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.addFilter(CorrelationFilter())
        self.setFormatter(CorrelationFormatter())
        self.lines = 0
        self.with_request_id = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        if getattr(record, "requestId", "-") != "-":
            self.with_request_id += 1


@contextmanager
def _captured_logs() -> Generator[_LogCounter]:
    logger = logging.getLogger("felix_reliability")
    counter = _LogCounter()
    saved = (logger.propagate, logger.level)
    logger.addHandler(counter)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.propagate, level = saved
        logger.setLevel(level)


def _order_times(orders: int, rng: random.Random) -> list[float]:
    step = DAY / orders
    return [(i + rng.random()) * step for i in range(orders)]


def run_demo(
    *,
    orders: int = 600,
    seed: int = 7,
    store_url: str | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Run felix_hub's scripted day and return what happened.

    Args:
        orders: Orders placed over the day (each one notifies a mechanic).
        seed: Seeds which mechanic each order goes to and when it comes.
        store_url: Where dead letters go (`open_dead_letter_store`); default a
            SQLite file in a temporary directory, removed afterwards.
        progress: Called with a line of text as the day goes.

    Raises:
        ValueError: If *orders* is not a positive int.
    """
    check_positive_int("orders", orders)
    say: Progress = progress or (lambda _line: None)
    with tempfile.TemporaryDirectory(prefix="felix-demo-") as scratch:
        url = store_url or f"sqlite:///{Path(scratch) / 'dead-letters.db'}"
        store = open_dead_letter_store(url)
        try:
            with _captured_logs() as logs:
                rng = random.Random(seed)  # noqa: S311 - a reproducible script, not a secret
                return _run_day(orders=orders, rng=rng, store=store, url=url, say=say, logs=logs)
        finally:
            close = getattr(store, "close", None)
            if close is not None:
                close()


def _run_day(  # noqa: C901, PLR0915 - the day reads best as one story
    *,
    orders: int,
    rng: random.Random,
    store: DeadLetterStore,
    url: str,
    say: Progress,
    logs: _LogCounter,
) -> DemoResult:
    from felix_reliability.adapters.telegram import TelegramNotifier, telegram_guard  # noqa: PLC0415 - needs httpx

    clock = FakeClock(wall_start=DAY_START)
    blocked = {max(1, orders // 6), max(1, orders * 2 // 3)}  # orders 100 and 400 of 600
    metrics = InMemoryMetrics(clock=clock)
    transitions: list[BreakerTransition] = []
    alerts: list[AlertEvent] = []

    def on_breaker(event: BreakerEvent) -> None:
        if isinstance(event, StateChanged):
            transitions.append(
                BreakerTransition(
                    at=clock.monotonic(),
                    from_state=event.old_state.value,
                    to_state=event.new_state.value,
                )
            )

    def on_alert(event: HealthAlertEvent) -> None:
        alerts.append(
            AlertEvent(
                at=clock.monotonic(),
                name=event.alert.name,
                severity=event.alert.severity.value,
                edge=event.change.value,
            )
        )

    guard = telegram_guard(
        dead_letters=store,
        metrics=metrics,
        write_ahead=True,
        listeners=[on_breaker],
        clock=clock,
    )
    registry = BreakerRegistry()
    assert guard.breaker is not None  # noqa: S101 - telegram_guard always builds one
    registry.register(guard.breaker)
    operation = {"operation": "telegram.send_message"}
    monitor = HealthMonitor(
        metrics=metrics,
        rules=[
            SuccessRateRule(labels=operation, min_events=10),
            FailureSpikeRule(labels=operation),
            BreakerOpenRule(registry),
            # The blocked mechanic's letters wait for a person; more is news.
            DeadLetterBacklogRule(store, warning_above=len(blocked), critical_above=50),
        ],
        clock=clock,
        on_alert=[on_alert],
        alert_cooldown=0.0,
    )

    samples: list[IntervalSample] = []
    health: list[HealthSample] = []
    milestones: dict[str, str] = {}
    counts = {"delivered_first_try": 0, "delivered_after_retry": 0, "dead_lettered": 0}
    permanent = 0
    interval = _Interval(0.0)

    def close_interval(end: float) -> None:
        nonlocal interval
        rate = interval.delivered / interval.attempted if interval.attempted else None
        assert guard.breaker is not None  # noqa: S101 - see above
        samples.append(
            IntervalSample(
                start=interval.start,
                breaker_state=guard.breaker.state.value,
                attempted=interval.attempted,
                delivered=interval.delivered,
                dead_lettered=interval.dead_lettered,
                success_rate=rate,
            )
        )
        status = _STATUS_NAMES[monitor.run_once().status]
        health.append(HealthSample(at=end, status=status))
        for name, at in (("before", 8 * HOUR), ("during", 13.5 * HOUR)):
            if name not in milestones and end >= at:
                milestones[name] = status
        interval = _Interval(end)
        if int(end) % int(HOUR) == 0:
            say(
                f"[{_clock(end)}] sent {sum(counts.values())}/{orders}, "
                f"first try {counts['delivered_first_try']}, "
                f"after retry {counts['delivered_after_retry']}, "
                f"dead letters {counts['dead_lettered']}, "
                f"breaker {guard.breaker.state.value}, health {status}"
            )

    with FakeTelegramServer() as server:
        script = _Script.felix_hub_day(server)
        notifier = TelegramNotifier(
            server.token, base_url=server.base_url, guard=guard, clock=clock
        )
        replayed: list[str] = []

        def resend(letter: DeadLetter) -> None:
            if letter.reason is DeadLetterReason.PERMANENT_ERROR:
                raise PermissionError("a mechanic blocked the bot: a person must call them")
            notifier.resend(letter)

        def replay(headline: str) -> None:
            say(f"{headline} ({store.count()} dead letters)")
            replayed.extend(replay_dead_letters(store, resend, clock=clock).replayed)

        try:
            for order_id, at in enumerate(_order_times(orders, rng), start=1):
                while interval.start + INTERVAL <= at:
                    close_interval(interval.start + INTERVAL)
                clock.advance(max(0.0, at - clock.monotonic()))  # retries may have run late
                script.before_order(clock.monotonic(), say)
                if at >= REPLAY_AT and not replayed:
                    replay(f"[{_clock(REPLAY_AT)}] the operator replays the dead letters")
                chat = BLOCKED_CHAT if order_id in blocked else rng.randint(1, MECHANICS)
                with bind_context(request_id=new_request_id(), mechanic=f"m{chat}"):
                    delivery = notifier.send_message(
                        chat, f"Order {order_id}: your parts are ready", order_id=order_id
                    )
                interval.attempted += 1
                if delivery.ok:
                    interval.delivered += 1
                    key = (
                        "delivered_first_try" if delivery.attempts == 1 else "delivered_after_retry"
                    )
                    counts[key] += 1
                else:
                    interval.dead_lettered += 1
                    counts["dead_lettered"] += 1
                    permanent += chat == BLOCKED_CHAT
            while interval.start < DAY:
                close_interval(interval.start + INTERVAL)

            replay(f"[{_clock(DAY)}] the day is over: replaying what is left")
            milestones["after"] = monitor.run_once().status.value
        finally:
            notifier.close()
        delivered_orders = {message.text for message in server.messages}
        duplicates = server.duplicate_count

    summary = {
        "sent": orders,
        **counts,
        "replayed": len(replayed),
        "delivered_total": len(delivered_orders),
        "duplicates": duplicates,
        "permanent_dead_letters": permanent,
        "dead_letters_left": store.count(),
        "breaker_transitions": len(transitions),
        "alerts_raised": sum(1 for a in alerts if a.edge == "new"),
        "alerts_resolved": sum(1 for a in alerts if a.edge == "resolved"),
    }
    timeline = DemoTimeline(
        interval=INTERVAL,
        samples=samples,
        transitions=transitions,
        alerts=alerts,
        health=health,
        summary=summary,
    )
    return DemoResult(
        summary=summary,
        timeline=timeline,
        health=milestones,
        log_lines=logs.lines,
        log_lines_with_request_id=logs.with_request_id,
        store_url=url,
    )
