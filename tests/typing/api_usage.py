"""The public API as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from typing import assert_type

from felix_reliability import (
    Clock,
    Secret,
    SystemClock,
    bind_context,
    current_request_id,
    get_context,
    propagate,
    redact,
)
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock

clock: Clock = FakeClock()
real: Clock = SystemClock()
assert_type(clock.monotonic(), float)


@bind_context(step="notify")
def notify(order_id: int, *, text: str) -> bool:
    return bool(order_id) and bool(text)


assert_type(notify(1, text="hi"), bool)


@bind_context(step="notify")
async def notify_async(order_id: int) -> str:
    return str(order_id)


def submit() -> str | None:
    return current_request_id()


runner = propagate(submit)
assert_type(runner(), str | None)
assert_type(get_context(), dict[str, object])
assert_type(redact(Secret("x").reveal()), str)
error = CircuitOpenError("telegram", None)
assert_type(error.retry_after, float | None)
