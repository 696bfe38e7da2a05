"""The correlation context: binding, nesting, tasks and threads."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given

from felix_reliability import (
    bind_context,
    current_request_id,
    get_context,
    new_request_id,
    propagate,
    sanitize_request_id,
)
from tests.strategies import hostile_text


def test_new_request_id_is_32_lowercase_hex() -> None:
    """New ids are 32 lowercase hex characters and differ each time."""
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


@pytest.mark.parametrize("good", ["a", "A1.b_c:d-e", "x" * 128])
def test_sanitize_keeps_safe_ids(good: str) -> None:
    """Safe ids come back unchanged."""
    assert sanitize_request_id(good) == good


@pytest.mark.parametrize("bad", ["", "x" * 129, "a b", "a\r\nX-Evil: 1", "é", "a,b", None, 42])
def test_sanitize_rejects_unsafe_ids(bad: object) -> None:
    """Empty, long, spaced, control, non-ASCII, separator and non-str values are refused."""
    assert sanitize_request_id(bad) is None


@given(hostile_text)
def test_sanitize_only_ever_returns_safe_text(value: str) -> None:
    """Whatever the input, the result is None or a safe id equal to the input."""
    result = sanitize_request_id(value)
    assert result is None or (result == value and re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", value))


def test_no_context_outside_a_binding() -> None:
    """Outside any binding there is no request id and no field."""
    assert current_request_id() is None
    assert get_context() == {}


def test_bind_creates_a_request_id_when_none() -> None:
    """A binding without an id creates one."""
    with bind_context(orderId=1):
        request_id = current_request_id()
        assert request_id is not None
        assert get_context() == {"requestId": request_id, "orderId": 1}
    assert current_request_id() is None


def test_nested_binds_merge_and_restore() -> None:
    """Inner fields add to outer ones; the outer context is back after the block."""
    with bind_context(request_id="r1", orderId=1):
        with bind_context(mechanic="John", orderId=2):
            assert get_context() == {"requestId": "r1", "orderId": 2, "mechanic": "John"}
        assert get_context() == {"requestId": "r1", "orderId": 1}


def test_bind_restores_when_the_body_raises() -> None:
    """An exception in the block does not leak the binding."""
    with pytest.raises(RuntimeError), bind_context(request_id="r1"):
        raise RuntimeError
    assert current_request_id() is None


def test_bind_refuses_an_unsafe_request_id() -> None:
    """An explicit unsafe id is a ValueError naming the parameter, without echoing the value."""
    with pytest.raises(ValueError, match="request_id must be") as info:
        bind_context(request_id="evil\nline")
    assert "evil" not in str(info.value)


def test_bind_as_a_sync_decorator_binds_each_call() -> None:
    """Each call of a decorated function runs in its own binding."""

    @bind_context(step="send")
    def handler() -> dict[str, object]:
        return get_context()

    first, second = handler(), handler()
    assert first["step"] == second["step"] == "send"
    assert first["requestId"] != second["requestId"]
    assert handler.__name__ == "handler"


def test_bind_as_an_async_decorator() -> None:
    """Async functions are decorated as coroutines that bind per call."""

    @bind_context(request_id="r9", step="send")
    async def handler() -> dict[str, object]:
        await asyncio.sleep(0)
        return get_context()

    assert asyncio.run(handler()) == {"requestId": "r9", "step": "send"}


def test_context_follows_tasks_and_is_isolated() -> None:
    """Concurrent tasks see their own bindings only."""

    async def task(order_id: int) -> dict[str, object]:
        with bind_context(request_id=f"r{order_id}", orderId=order_id):
            await asyncio.sleep(0)
            return get_context()

    async def main() -> list[dict[str, object]]:
        return await asyncio.gather(*(task(i) for i in range(20)))

    results = asyncio.run(main())
    assert results == [{"requestId": f"r{i}", "orderId": i} for i in range(20)]


def test_propagate_reaches_threads_in_fresh_copies() -> None:
    """The same propagated function runs in 8 threads at once without sharing changes."""
    barrier = threading.Barrier(8)

    def work(index: int) -> dict[str, object]:
        with bind_context(worker=index):
            barrier.wait(timeout=5)
            return get_context()

    with bind_context(request_id="outer", orderId=7):
        wrapped = propagate(work)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(wrapped, range(8)))
    assert results == [{"requestId": "outer", "orderId": 7, "worker": i} for i in range(8)]


def test_the_same_binding_can_be_entered_again_while_active() -> None:
    """Re-entering one instance nests like two bindings and unwinds in order."""
    binding = bind_context(orderId=1)
    with bind_context(request_id="r1", step="a"):
        with binding:
            with bind_context(orderId=2), binding, binding:
                assert get_context() == {"requestId": "r1", "step": "a", "orderId": 1}
            assert get_context() == {"requestId": "r1", "step": "a", "orderId": 1}
        assert get_context() == {"requestId": "r1", "step": "a"}
        with binding:
            assert get_context()["orderId"] == 1


def test_exiting_more_often_than_entering_is_an_error() -> None:
    """An exit without a matching enter raises RuntimeError instead of corrupting the context."""
    binding = bind_context(orderId=1)
    with pytest.raises(RuntimeError, match="exited more often"):
        binding.__exit__(None, None, None)


def test_a_binding_without_fields_keeps_the_outer_fields() -> None:
    """bind_context() with only an id (or nothing) keeps the outer fields as they are."""
    with bind_context(orderId=1), bind_context(request_id="r2"):
        assert get_context() == {"requestId": "r2", "orderId": 1}


def test_inner_request_id_replaces_the_outer_one() -> None:
    """An explicit inner id wins, and the outer one is back after the block."""
    with bind_context(request_id="outer"):
        with bind_context(request_id="inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"


def test_propagate_captures_at_wrap_time() -> None:
    """A binding made after wrapping does not reach the wrapped function."""
    with bind_context(request_id="early"):
        wrapped = propagate(current_request_id)
    with bind_context(request_id="late"):
        assert wrapped() == "early"


def test_get_context_returns_a_copy() -> None:
    """Changing the returned dict does not change the context."""
    with bind_context(orderId=1):
        get_context()["orderId"] = 2
        assert get_context()["orderId"] == 1
