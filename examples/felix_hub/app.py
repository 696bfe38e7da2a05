"""felix_hub: repair-part orders in SQLite, Telegram notifications, the reliability stack mounted.

Run it with ``python examples/felix_hub/app.py`` (see README.md). Without
``TELEGRAM_BOT_TOKEN`` it starts a local FakeTelegramServer and sends there.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import attrs
from flask import Blueprint, Flask, Response, current_app, jsonify, request

from felix_reliability import (
    AlertSeverity,
    BreakerOpenRule,
    BreakerRegistry,
    CheckRule,
    Clock,
    DeadLetter,
    DeadLetterBacklogRule,
    FailureSpikeRule,
    HealthMonitor,
    InMemoryMetrics,
    SQLiteDeadLetterStore,
    SuccessRateRule,
    SystemClock,
    configure_logging,
    get_logger,
    replay_dead_letters,
)
from felix_reliability.adapters.flask import FelixReliability
from felix_reliability.adapters.telegram import OPERATION, TelegramNotifier

STATUSES = ("new", "confirmed", "shipped", "delivered", "cancelled")
STUCK_AFTER = 24 * 3600.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mechanic TEXT NOT NULL,
    part TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, created_at);
CREATE TABLE IF NOT EXISTS status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    changed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS status_changes_at ON status_changes (changed_at);
"""
log = get_logger("felix_hub")


class Database:
    """The orders database: one stdlib sqlite3 connection per call, WAL mode."""

    def __init__(self, path: str | Path, clock: Clock) -> None:
        self.path = str(path)
        self.clock = clock
        with self.connect() as connection:
            connection.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=10)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            with connection:
                yield connection
        finally:
            connection.close()

    def ping(self) -> bool:
        with self.connect() as connection:
            return connection.execute("SELECT 1").fetchone()[0] == 1

    def create_order(self, mechanic: str, part: str, chat_id: str) -> dict[str, object]:
        now = self.clock.wall()
        with self.connect() as connection:
            cursor = connection.execute(
                "INSERT INTO orders (mechanic, part, chat_id, status, created_at, updated_at)"
                " VALUES (?, ?, ?, 'new', ?, ?)",
                (mechanic, part, chat_id, now, now),
            )
            order_id = cursor.lastrowid
        order = self.get_order(int(order_id or 0))
        assert order is not None  # noqa: S101 - just inserted
        return order

    def get_order(self, order_id: int) -> dict[str, object] | None:
        with self.connect() as connection:
            row = connection.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        return None if row is None else dict(row)

    def change_status(self, order_id: int, status: str) -> tuple[str, dict[str, object]] | None:
        now = self.clock.wall()
        with self.connect() as connection:
            row = connection.execute(
                "SELECT status FROM orders WHERE id = ?", (order_id,)
            ).fetchone()
            if row is None:
                return None
            connection.execute(
                "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
                (status, now, order_id),
            )
            connection.execute(
                "INSERT INTO status_changes (order_id, old_status, new_status, changed_at)"
                " VALUES (?, ?, ?, ?)",
                (order_id, row["status"], status, now),
            )
        order = self.get_order(order_id)
        assert order is not None  # noqa: S101 - just updated
        return str(row["status"]), order

    def stuck_orders(self) -> int:
        """Count orders still "new" more than 24 hours after they came in."""
        cutoff = self.clock.wall() - STUCK_AFTER
        with self.connect() as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM orders WHERE status = 'new' AND created_at < ?", (cutoff,)
            ).fetchone()
        return int(row[0])


_COUNT_QUERIES = {
    "orders": "SELECT COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ?",
    "status_changes": (
        "SELECT COUNT(*) FROM status_changes WHERE changed_at >= ? AND changed_at < ?"
    ),
}


@attrs.frozen
class OrderCounters:
    """The extension's counter source, answered from felix_hub's own database.

    Every gunicorn worker reads the same tables, so they all give the same
    "orders per day" and "status changes per day".
    """

    database: Database

    def counts(
        self, name: str, periods: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[float] | None:
        query = _COUNT_QUERIES.get(name)
        if query is None:
            return None
        with self.database.connect() as connection:
            return [
                float(connection.execute(query, (start.timestamp(), end.timestamp())).fetchone()[0])
                for start, end in periods
            ]


@attrs.define
class Hub:
    """Everything the app wires together, kept in ``app.extensions["felix_hub"]``."""

    database: Database
    notifier: TelegramNotifier
    dead_letters: SQLiteDeadLetterStore
    breakers: BreakerRegistry
    metrics: InMemoryMetrics
    monitor: HealthMonitor
    clock: Clock
    closing: list[Callable[[], object]] = attrs.field(factory=list)


def _text_for(order: dict[str, object]) -> str:
    return f"Order {order['id']} ({order['part']}) for {order['mechanic']} is {order['status']}"


def create_app(
    *,
    database: str | Path,
    dead_letters: str | Path,
    telegram_token: str,
    telegram_base_url: str = "https://api.telegram.org",
    clock: Clock | None = None,
    config: dict[str, object] | None = None,
) -> Flask:
    """Build the felix_hub app: orders, notifications, and the reliability stack."""
    clock = SystemClock() if clock is None else clock
    app = Flask("felix_hub")
    app.config.update(config or {})
    db = Database(database, clock)
    metrics = InMemoryMetrics(clock=clock)
    store = SQLiteDeadLetterStore(dead_letters)
    # Write-ahead: a pending letter is on disk before the first attempt, so a
    # worker killed mid-send loses nothing; it is deleted once Telegram answers.
    notifier = TelegramNotifier(
        telegram_token,
        base_url=telegram_base_url,
        dead_letters=store,
        metrics=metrics,
        write_ahead=True,
        clock=clock,
    )
    breakers = BreakerRegistry()
    if notifier.breaker is not None:
        breakers.register(notifier.breaker)
    send = {"operation": OPERATION}
    monitor = HealthMonitor(
        metrics=metrics,
        rules=[
            SuccessRateRule(labels=send),
            FailureSpikeRule(labels=send),
            BreakerOpenRule(breakers, severity=AlertSeverity.CRITICAL),
            DeadLetterBacklogRule(store),
            CheckRule("stuck_orders", db.stuck_orders, message="{value:g} orders new for > 24 h"),
        ],
        checks={"database": db.ping},
        clock=clock,
    )
    FelixReliability(
        app,
        monitor=monitor,
        registry=breakers,
        metrics=metrics,
        dead_letters=store,
        counters=OrderCounters(db),
        clock=clock,
    )
    hub = Hub(db, notifier, store, breakers, metrics, monitor, clock)
    app.extensions["felix_hub"] = hub
    app.register_blueprint(orders)
    return app


orders = Blueprint("orders", __name__, cli_group=None)


def _hub() -> Hub:
    hub: Hub = current_app.extensions["felix_hub"]
    return hub


def _notify(order: dict[str, object]) -> dict[str, object]:
    delivery = _hub().notifier.send_message(
        str(order["chat_id"]), _text_for(order), order_id=order["id"]
    )
    return {
        "ok": delivery.ok,
        "attempts": delivery.attempts,
        "deadLetterId": delivery.dead_letter_id,
    }


@orders.post("/orders")
def create_order() -> tuple[Response, int]:
    """Create an order from a JSON body with mechanic, part and chat_id; notify the mechanic."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="a JSON object is required"), 400
    fields = [body.get(key) for key in ("mechanic", "part", "chat_id")]
    if not all(isinstance(value, str | int) and str(value) for value in fields):
        return jsonify(error="mechanic, part and chat_id are required"), 400
    mechanic, part, chat_id = (str(value) for value in fields)
    order = _hub().database.create_order(mechanic, part, chat_id)
    log.info("Order created successfully", orderId=order["id"], mechanic=order["mechanic"])
    return jsonify(order=order, notification=_notify(order)), 201


@orders.get("/orders/<int:order_id>")
def show_order(order_id: int) -> tuple[Response, int]:
    """Return one order."""
    order = _hub().database.get_order(order_id)
    if order is None:
        return jsonify(error="no such order"), 404
    return jsonify(order=order), 200


@orders.route("/orders/<int:order_id>", methods=["PATCH"])
@orders.post("/orders/<int:order_id>/status")
def change_status(order_id: int) -> tuple[Response, int]:
    """Change an order's status from a JSON body with status; notify the mechanic."""
    body = request.get_json(silent=True)
    status = body.get("status") if isinstance(body, dict) else None
    if status not in STATUSES:
        return jsonify(error=f"status must be one of {', '.join(STATUSES)}"), 400
    changed = _hub().database.change_status(order_id, str(status))
    if changed is None:
        return jsonify(error="no such order"), 404
    old, order = changed
    log.info("Order status changed", orderId=order_id, old=old, new=status)
    return jsonify(order=order, notification=_notify(order)), 200


@orders.cli.command("replay-notifications")
def replay_command() -> None:
    """Send the dead-lettered notifications again."""
    replayed, failed, skipped = replay_notifications(current_app)
    print(f"replayed {len(replayed)}, failed {len(failed)}, skipped {len(skipped)}")


def replay_notifications(app: Flask) -> tuple[list[str], list[str], list[str]]:
    """Offer every dead-lettered notification to Telegram again (stops at an open breaker)."""
    hub: Hub = app.extensions["felix_hub"]

    def resend(letter: DeadLetter) -> None:
        hub.notifier.resend(letter)

    report = replay_dead_letters(hub.dead_letters, resend, clock=hub.clock)
    return list(report.replayed), list(report.failed), list(report.skipped)


def shutdown(app: Flask) -> None:
    """Stop the monitor and close the notifier's HTTP client and the dead-letter store."""
    hub: Hub = app.extensions["felix_hub"]
    hub.monitor.stop()
    hub.notifier.close()
    hub.dead_letters.close()
    for close in hub.closing:
        close()


def create_app_from_env() -> Flask:
    """Build the app from the environment (see README.md).

    Without ``TELEGRAM_BOT_TOKEN`` a local FakeTelegramServer is started and
    closed by `shutdown`.
    """
    from felix_reliability.testing import FakeTelegramServer  # noqa: PLC0415 - only without a token

    data = Path(os.environ.get("FELIX_HUB_DATA", "felix_hub_data"))
    data.mkdir(exist_ok=True)
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    fake: FakeTelegramServer | None = None
    if token:
        base_url = "https://api.telegram.org"
    else:
        fake = FakeTelegramServer().start()
        token, base_url = fake.token, fake.base_url
        log.info("No TELEGRAM_BOT_TOKEN: sending to a local FakeTelegramServer", url=base_url)
    app = create_app(
        database=data / "orders.sqlite3",
        dead_letters=data / "dead_letters.sqlite3",
        telegram_token=token,
        telegram_base_url=base_url,
        config={"FELIX_RELIABILITY_TOKEN": os.environ.get("FELIX_HUB_API_TOKEN", "")},
    )
    if fake is not None:
        app.extensions["felix_hub"].closing.append(fake.close)
    return app


def main() -> None:
    """Run felix_hub on 127.0.0.1 (PORT, default 5000) with the monitor's background thread."""
    configure_logging("INFO")
    app = create_app_from_env()
    hub: Hub = app.extensions["felix_hub"]
    hub.monitor.start(interval=30.0)
    try:
        app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
    finally:
        shutdown(app)


if __name__ == "__main__":  # pragma: no cover
    main()
