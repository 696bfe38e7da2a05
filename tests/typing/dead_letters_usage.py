"""Dead letters as a user writes them; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import assert_type

from felix_reliability import (
    DeadLetter,
    DeadLetterReason,
    DeadLetterSink,
    DeadLetterStore,
    JsonlDeadLetterSink,
    LoggingDeadLetterSink,
    MemoryDeadLetterStore,
    NullMetrics,
    ReplayReport,
    SQLiteDeadLetterStore,
    open_dead_letter_store,
    read_jsonl_letters,
    replay_dead_letters,
)
from felix_reliability.testing import FakeClock

letter = DeadLetter.create(
    operation="telegram.send_message",
    payload={"chat_id": 42, "text": "Order 7 is ready"},
    reason=DeadLetterReason.RETRIES_EXHAUSTED,
    exception=TimeoutError("read timed out"),
    attempts=4,
    clock=FakeClock(),
)
assert_type(letter.to_json(), str)
assert_type(DeadLetter.from_json(letter.to_json()), DeadLetter)

sinks: list[DeadLetterSink] = [
    LoggingDeadLetterSink(),
    JsonlDeadLetterSink(Path("letters.jsonl"), secret_keys=["phone"]),
]
for sink in sinks:
    sink.put(letter)

store: DeadLetterStore = SQLiteDeadLetterStore("letters.db", metrics=NullMetrics())
memory: DeadLetterStore = MemoryDeadLetterStore(clock=FakeClock())
opened = open_dead_letter_store("sqlite:///letters.db")
assert_type(opened.get(letter.id), DeadLetter | None)
assert_type(store.list(operation="telegram.send_message", limit=10), Sequence[DeadLetter])
assert_type(store.purge(older_than=timedelta(days=30)), int)
assert_type(memory.delete(letter.id), bool)


def resend(letter: DeadLetter) -> None:
    """Send again; the letter id is the idempotency key."""
    if not letter.payload:
        raise ValueError(letter.id)


report = replay_dead_letters(store, resend, rate=5.0, max_replays=3)
assert_type(report, ReplayReport)
assert_type(report.replayed, list[str])
for line_letter in read_jsonl_letters("letters.jsonl"):
    assert_type(line_letter, DeadLetter)
