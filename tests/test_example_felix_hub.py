"""The felix_hub example end to end: real Flask test client, real SQLite, a real fake Telegram."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from examples.felix_hub.app import (
    create_app,
    create_app_from_env,
    replay_notifications,
    shutdown,
)
from flask import Flask
from flask.testing import FlaskClient

from felix_reliability.testing import FakeClock, FakeTelegramServer

ORDER = {"mechanic": "John", "part": "brake pads", "chat_id": "42"}


@pytest.fixture
def telegram() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(tmp_path: Path, telegram: FakeTelegramServer, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(
        database=tmp_path / "orders.sqlite3",
        dead_letters=tmp_path / "dead_letters.sqlite3",
        telegram_token=telegram.token,
        telegram_base_url=telegram.base_url,
        clock=clock,
    )
    app.testing = True
    yield app
    shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_order_notification_counters_and_success_rate(
    client: FlaskClient, telegram: FakeTelegramServer
) -> None:
    """Creating an order notifies the mechanic; counters and success rate show it."""
    created = client.post("/orders", json=ORDER, headers={"X-Request-ID": "req-order-1"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["notification"] == {"ok": True, "attempts": 1, "deadLetterId": None}
    assert [message.text for message in telegram.messages] == [
        "Order 1 (brake pads) for John is new"
    ]
    assert created.headers["X-Request-ID"] == "req-order-1"
    changed = client.patch("/orders/1", json={"status": "confirmed"})
    assert changed.status_code == 200
    assert client.post("/orders/1/status", json={"status": "shipped"}).status_code == 200
    orders = client.get("/api/metrics/counters/orders?days=7").get_json()
    assert orders["total"] == 1.0
    assert orders["points"][-1]["value"] == 1.0
    changes = client.get("/api/metrics/counters/status_changes?days=1").get_json()
    assert changes["total"] == 2.0
    rate = client.get("/api/metrics/notifications/success-rate?hours=24").get_json()
    assert (rate["successes"], rate["successRate"]) == (3.0, 1.0)
    assert client.get("/health").status_code == 200


def test_outage_opens_the_breaker_then_replay_recovers(
    app: Flask, client: FlaskClient, telegram: FakeTelegramServer, clock: FakeClock
) -> None:
    """An outage: breaker open, alerts, /health 503, ready 200, letters; recovery: replay, 200."""
    telegram.start_outage()
    deliveries = [client.post("/orders", json=ORDER).get_json()["notification"] for _ in range(3)]
    assert [delivery["ok"] for delivery in deliveries] == [False, False, False]
    breakers = client.get("/api/metrics/circuit-breakers").get_json()["circuitBreakers"]
    assert [(b["name"], b["state"]) for b in breakers] == [("telegram", "open")]
    alerts = {alert["name"] for alert in client.get("/api/metrics/alerts").get_json()["alerts"]}
    assert {"breaker_open:telegram", "dead_letter_backlog"} <= alerts
    assert client.get("/health").status_code == 503
    assert client.get("/health/ready").status_code == 200
    letters = client.get("/api/metrics/dead-letters").get_json()
    assert letters["count"] == 3
    assert {letter["reason"] for letter in letters["deadLetters"]} <= {
        "retries_exhausted",
        "circuit_open",
    }
    assert letters["deadLetters"][0]["payload"]["chat_id"] == "42"
    failures = client.get("/api/metrics/notifications/failures?hours=1").get_json()
    assert failures["failures"] == 3.0

    telegram.end_outage()
    clock.advance(121)
    replayed, failed, skipped = replay_notifications(app)
    assert (len(replayed), failed, skipped) == (3, [], [])
    assert client.get("/api/metrics/dead-letters").get_json()["count"] == 0
    assert len(telegram.messages) == 3
    assert client.get("/health").status_code == 200


def test_stuck_orders_alert(client: FlaskClient, clock: FakeClock) -> None:
    """An order left "new" for more than 24 hours raises the stuck_orders warning."""
    client.post("/orders", json=ORDER)
    clock.advance(25 * 3600)
    alerts = client.get("/api/metrics/alerts").get_json()["alerts"]
    assert [(a["name"], a["message"]) for a in alerts] == [
        ("stuck_orders", "1 orders new for > 24 h")
    ]
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("post", "/orders", None, 400),
        ("post", "/orders", {"mechanic": "John"}, 400),
        ("patch", "/orders/1", {"status": "lost"}, 400),
        ("patch", "/orders/99", {"status": "shipped"}, 404),
        ("get", "/orders/99", None, 404),
    ],
)
def test_bad_requests(
    client: FlaskClient, method: str, url: str, body: object, status: int
) -> None:
    """Invalid input and unknown orders get 4xx JSON errors."""
    response = getattr(client, method)(url, json=body)
    assert response.status_code == status
    assert "error" in response.get_json()


def test_show_order(client: FlaskClient) -> None:
    """A created order can be read back."""
    client.post("/orders", json=ORDER)
    assert client.get("/orders/1").get_json()["order"]["status"] == "new"


def test_unknown_counter(client: FlaskClient) -> None:
    """The order counter source knows only orders and status_changes."""
    assert client.get("/api/metrics/counters/invoices").status_code == 404


def test_create_app_from_env_uses_a_fake_telegram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without TELEGRAM_BOT_TOKEN the app sends to a local FakeTelegramServer it owns."""
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("FELIX_HUB_DATA", str(tmp_path / "data"))
    app = create_app_from_env()
    try:
        response = app.test_client().post("/orders", json=ORDER)
        assert response.get_json()["notification"]["ok"] is True
        assert app.test_client().get("/health").status_code == 200
    finally:
        shutdown(app)


def test_replay_command(app: Flask, telegram: FakeTelegramServer) -> None:
    """The replay-notifications command replays what an outage left."""
    telegram.start_outage()
    app.test_client().post("/orders", json=ORDER)
    telegram.end_outage()
    result = app.test_cli_runner().invoke(args=["replay-notifications"])
    assert result.output.strip() == "replayed 1, failed 0, skipped 0"
