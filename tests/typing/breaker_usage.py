"""The circuit breaker API as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from typing import assert_type

from felix_reliability import (
    BreakerEvent,
    BreakerRegistry,
    BreakerSnapshot,
    BreakerState,
    BreakerStore,
    CallFailed,
    CircuitBreaker,
    FailureRate,
    Outcome,
    StateChanged,
    TimeWindow,
)
from felix_reliability.testing import FakeClock


def on_event(event: BreakerEvent) -> None:
    if isinstance(event, StateChanged):
        assert_type(event.new_state, BreakerState)
    elif isinstance(event, CallFailed):
        assert_type(event.exception, BaseException | None)


def classify(exc: BaseException) -> Outcome:
    return Outcome.IGNORED if isinstance(exc, PermissionError) else Outcome.FAILURE


telegram = CircuitBreaker(
    name="telegram",
    failure_threshold=10,
    recovery_timeout=120.0,
    success_threshold=3,
    classify=classify,
    clock=FakeClock(),
    listeners=[on_event],
)
by_rate = CircuitBreaker(
    name="payments",
    trip=FailureRate(0.5, window=TimeWindow(60.0), minimum_calls=20),
    result_is_failure=lambda result: result is None,
)


@telegram
def send_message(chat_id: int, text: str, *, silent: bool = False) -> dict[str, int]:
    return {"chat_id": chat_id, "length": len(text), "silent": int(silent)}


@telegram
async def send_photo(chat_id: int, url: str) -> bool:
    return bool(chat_id) and bool(url)


async def main() -> None:
    assert_type(await send_photo(1, "https://example.org/cat.png"), bool)
    async with telegram.attempt() as permit:
        permit.mark_failure()


assert_type(send_message(1, "hi", silent=True), dict[str, int])
assert_type(telegram.call(send_message, 1, text="hi"), dict[str, int])
with telegram.attempt():
    send_message(2, "block")
assert_type(telegram.state, BreakerState)
snapshot = telegram.snapshot()
assert_type(snapshot, BreakerSnapshot)
assert_type(snapshot.retry_after, float | None)
assert_type(snapshot.to_dict(), dict[str, str | int | float | None])
registry = BreakerRegistry()
registry.register(telegram)
assert_type(registry.get("telegram"), CircuitBreaker)
assert_type(registry.snapshots(), list[BreakerSnapshot])
for breaker in registry:
    assert_type(breaker, CircuitBreaker)
store: BreakerStore | None = None
