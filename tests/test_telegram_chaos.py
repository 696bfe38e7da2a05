"""Chaos and crashes: no notification is lost, duplicates only where the API may have delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from felix_reliability import InMemoryMetrics, SQLiteDeadLetterStore, replay_dead_letters
from felix_reliability.adapters.telegram import TelegramNotifier
from felix_reliability.testing import FakeClock, FakeTelegramServer

TOKEN = "555000111:AAChaos-token-that-must-never-leak-xyz"
SRC = str(Path(__file__).parents[1] / "src")


def test_a_thousand_messages_through_thirty_percent_faults(tmp_path: Path) -> None:
    """Delivered + dead-lettered = sent; after the faults stop every letter replays."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    with FakeTelegramServer(TOKEN) as server:
        server.set_fault_rate(0.3, seed=11)
        with TelegramNotifier(
            TOKEN, base_url=server.base_url, dead_letters=store, metrics=metrics, clock=clock
        ) as notifier:
            deliveries = [
                notifier.send_message(i % 40, f"order {i}", order_id=i, idempotent=i % 2 == 0)
                for i in range(1000)
            ]
            delivered = sum(d.ok for d in deliveries)
            lettered = sum(d.dead_letter_id is not None for d in deliveries)
            assert delivered + lettered == 1000
            assert all(d.ok != (d.dead_letter_id is not None) for d in deliveries)
            assert store.count() == lettered > 0

            server.set_fault_rate(0)
            clock.advance(121.0)  # past any open period
            report = replay_dead_letters(store, notifier.resend, clock=clock)

        assert (len(report.replayed), report.failed, store.count()) == (lettered, [], 0)
        texts = {message.text for message in server.messages}
        assert texts == {f"order {i}" for i in range(1000)}
        resets_after = sum(1 for kind, _ in server.fault_log if kind == "reset_after")
        assert resets_after > 0
        # A duplicate needs a message the API accepted but could not confirm.
        assert server.duplicate_count <= resets_after
    assert metrics.total("felix_calls") >= 1000
    store.close()


CHILD = textwrap.dedent(
    """
    import json, sys
    import httpx
    from felix_reliability import SQLiteDeadLetterStore
    from felix_reliability.adapters.telegram import TelegramNotifier

    def announce(request):
        # Runs after the write-ahead letter is stored, just before the bytes go out.
        print("sending", json.loads(request.content)["text"], flush=True)

    base_url, path = sys.argv[1], sys.argv[2]
    store = SQLiteDeadLetterStore(path)
    client = httpx.Client(event_hooks={{"request": [announce]}})
    notifier = TelegramNotifier(
        "{token}", client=client, base_url=base_url, dead_letters=store, write_ahead=True
    )
    for i in range(1000):
        delivery = notifier.send_message(1, f"m{{i}}")
        print("done", f"m{{i}}", flush=True)
    """
).format(token=TOKEN)


def test_a_worker_killed_mid_send_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL during a send: every message the API saw is confirmed or waits as a letter."""
    path = tmp_path / "letters.db"
    with FakeTelegramServer(TOKEN) as server:
        server.slow(0.1, times=None)  # every answer takes 100 ms: the kill lands mid-send
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, server.base_url, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": SRC},
        )
        assert child.stdout is not None
        done: list[str] = []
        while True:  # let two sends finish, then kill the third one in flight
            event, text = child.stdout.readline().split()
            if event == "done":
                done.append(text)
            elif len(done) == 2:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        seen = {message.text for message in server.messages}

    store = SQLiteDeadLetterStore(path)
    waiting = {str(letter.payload["text"]) for letter in store.list()}  # type: ignore[index]
    store.close()
    assert set(done) <= seen
    assert seen - set(done) <= waiting
    assert waiting == {"m2"}
