"""Four worker processes share one breaker through RedisBreakerStore (a real redis-server).

Each worker is a spawned process that builds its own client, store and
breaker with the same name and obeys commands from a queue. Processes share no
clock seam, so the waits here are real and short (the store's sync_interval
is 0.05 s).
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING

import pytest

from tests.services import RedisServer

if TYPE_CHECKING:
    from felix_reliability import CircuitBreaker

pytestmark = pytest.mark.services

SYNC = 0.05
Command = tuple[str, str, object]


def _breaker(url: str, name: str, breakers: dict[str, CircuitBreaker]) -> CircuitBreaker:
    from felix_reliability import CircuitBreaker
    from felix_reliability.adapters.redis import RedisBreakerStore

    if name not in breakers:
        store = RedisBreakerStore.from_url(url, sync_interval=SYNC, lease_ttl=0.1)
        breakers[name] = CircuitBreaker(
            name=name,
            failure_threshold=1,
            recovery_timeout=0.05,
            success_threshold=4,
            half_open_max_calls=2,
            ignore=(LookupError,),
            store=store,
        )
    return breakers[name]


def _storm(url: str, breaker: CircuitBreaker, seconds: float) -> tuple[int, int]:
    """Probe as often as admitted for *seconds*; return (probes, the most in flight seen)."""
    import redis

    from felix_reliability.exceptions import CircuitOpenError

    client = redis.Redis.from_url(url)
    key, admitted, highest = f"inflight:{breaker.name}", 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with breaker.attempt():
                admitted += 1
                highest = max(highest, int(client.incr(key)))
                time.sleep(0.002)
                client.decr(key)
                raise LookupError  # ignored: keeps the breaker half-open
        except CircuitOpenError:
            time.sleep(0.001)
        except LookupError:
            pass
    client.close()
    return admitted, highest


def worker(url: str, commands: Queue[Command], answers: Queue[object]) -> None:
    """Run commands until told to stop."""
    from felix_reliability.exceptions import CircuitOpenError

    breakers: dict[str, CircuitBreaker] = {}
    held = None
    answers.put("ready")
    while True:
        op, name, argument = commands.get()
        if op == "stop":
            return
        breaker = _breaker(url, name, breakers)
        try:
            if op == "call":
                if argument:
                    breaker.call(lambda: None)
                else:
                    breaker.call(_fail)
                answers.put("ok")
            elif op == "wait_open":  # call until rejected; answer when it happened
                deadline = time.monotonic() + float(str(argument))
                while time.monotonic() < deadline:
                    breaker.call(lambda: None)
                    time.sleep(0.002)
                answers.put(("never", time.monotonic()))
            elif op == "hold":
                held = breaker.attempt()
                held.__enter__()
                answers.put("held")
            elif op == "end":
                assert held is not None
                held.__exit__(None, None, None)
                held = None
                answers.put("ended")
            elif op == "storm":
                answers.put(_storm(url, breaker, float(str(argument))))
            elif op == "state":
                answers.put(breaker.state.value)
        except CircuitOpenError:
            answers.put(("rejected", time.monotonic()))
        except ConnectionError:
            answers.put("failed")


def _fail() -> None:
    raise ConnectionError("down")


class Worker:
    """One spawned worker and its queues."""

    def __init__(self, context: SpawnContext, url: str) -> None:
        self.commands: Queue[Command] = context.Queue()
        self.answers: Queue[object] = context.Queue()
        self.process: SpawnProcess = context.Process(
            target=worker, args=(url, self.commands, self.answers), daemon=True
        )
        self.process.start()

    def ask(self, op: str, name: str, argument: object = None) -> object:
        self.commands.put((op, name, argument))
        return self.answers.get(timeout=20)

    def send(self, op: str, name: str, argument: object = None) -> None:
        self.commands.put((op, name, argument))

    def answer(self) -> object:
        return self.answers.get(timeout=20)


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer) -> Iterator[list[Worker]]:
    """Four worker processes on the session's redis-server."""
    context = multiprocessing.get_context("spawn")
    pool = [Worker(context, redis_server.url) for _ in range(4)]
    for one in pool:
        assert one.answer() == "ready"
    yield pool
    for one in pool:
        if one.process.is_alive():
            one.send("stop", "")
        one.process.join(timeout=10)


@pytest.fixture
def name() -> str:
    """A breaker name no other test uses."""
    return f"workers-{uuid.uuid4().hex}"


def test_a_trip_in_one_worker_is_seen_by_the_others_within_sync_interval(
    workers: list[Worker], name: str
) -> None:
    """After worker 0 trips, workers 1-3 reject within sync_interval (plus slack)."""
    for one in workers:
        assert one.ask("call", name, True) == "ok"
    for one in workers[1:]:
        one.send("wait_open", name, 1.0)
    time.sleep(0.01)
    assert workers[0].ask("call", name, False) == "failed"
    tripped = time.monotonic()
    seen = [one.answer() for one in workers[1:]]
    assert [answer[0] for answer in seen] == ["rejected"] * 3  # type: ignore[index]
    delays = [answer[1] - tripped for answer in seen]  # type: ignore[index]
    assert max(delays) < SYNC + 0.15


def trip(workers: list[Worker], name: str) -> None:
    """Create the breaker in every worker, trip it in worker 0, and let the news spread."""
    for one in workers:
        assert one.ask("call", name, True) == "ok"
    assert workers[0].ask("call", name, False) == "failed"
    time.sleep(0.06)  # the open period and sync_interval (0.05 s)


def test_cluster_wide_probes_never_exceed_the_limit(workers: list[Worker], name: str) -> None:
    """Four workers probing at once never have more than half_open_max_calls in flight."""
    trip(workers, name)
    for one in workers:
        one.send("storm", name, 0.15)
    results = [one.answer() for one in workers]
    admitted = sum(result[0] for result in results)  # type: ignore[index]
    highest = max(result[1] for result in results)  # type: ignore[index]
    assert admitted > 2
    assert highest <= 2


def test_probe_successes_from_different_workers_close_it(workers: list[Worker], name: str) -> None:
    """success_threshold=4 is reached by one successful probe in each of four workers."""
    trip(workers, name)
    assert [one.ask("call", name, True) for one in workers] == ["ok"] * 4
    # Each worker saw the record its own probe left: the last success closed it.
    expected = ["half_open", "half_open", "half_open", "closed"]
    assert expected == [one.ask("state", name) for one in workers]
    assert [one.ask("call", name, True) for one in workers] == ["ok"] * 4
    assert [one.ask("state", name) for one in workers] == ["closed"] * 4


def test_a_killed_probe_holders_lease_expires(redis_server: RedisServer, name: str) -> None:
    """A worker killed while holding both probe slots cannot keep the breaker half-open."""
    context = multiprocessing.get_context("spawn")
    doomed, survivor = Worker(context, redis_server.url), Worker(context, redis_server.url)
    try:
        assert [doomed.answer(), survivor.answer()] == ["ready", "ready"]
        trip([doomed, survivor], name)
        assert doomed.ask("hold", name) == "held"
        assert doomed.ask("hold", name) == "held"
        doomed.process.kill()
        doomed.process.join(timeout=10)
        answer = survivor.ask("call", name, True)
        assert answer[0] == "rejected"  # type: ignore[index]
        time.sleep(0.1)  # the lease TTL (0.1 s, server clock)
        assert survivor.ask("call", name, True) == "ok"
    finally:
        survivor.send("stop", "")
        survivor.process.join(timeout=10)
