"""RedisBreakerStore and AsyncRedisBreakerStore against a real redis-server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from felix_reliability import BreakerState, CircuitBreaker, InMemoryMetrics, SharedState
from felix_reliability.adapters.redis import (
    STORE_ERRORS,
    AsyncRedisBreakerStore,
    RedisBreakerStore,
)
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock
from tests.services import RedisServer, free_port

pytestmark = pytest.mark.services

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


@pytest.fixture
def name() -> str:
    """A breaker name no other test uses."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server."""
    return redis_server.url


@pytest.fixture
def store(url: str) -> Iterator[RedisBreakerStore]:
    """A store on the session's server with a fake clock."""
    made = RedisBreakerStore.from_url(url, clock=FakeClock())
    yield made
    made.client.close()


def dead_url() -> str:
    """A redis:// URL where nothing listens: every call fails at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


def set_port(store: RedisBreakerStore, port: int) -> None:
    """Point the store's client at another port (a Redis that comes and goes)."""
    pool = store.client.connection_pool
    pool.connection_kwargs["port"] = port
    pool.reset()


def ok() -> str:
    return "ok"


def boom() -> None:
    raise ConnectionError("dependency down")


def fail(breaker: CircuitBreaker) -> None:
    with pytest.raises(ConnectionError):
        breaker.call(boom)


# --- the protocol, one script at a time ------------------------------------------------------


def test_an_unknown_name_is_closed_at_generation_zero(store: RedisBreakerStore, name: str) -> None:
    """A name never seen loads as closed, generation 0."""
    assert SharedState(CLOSED, 0) == store.load(name)


def test_open_bumps_the_generation_and_sets_retry_after(
    store: RedisBreakerStore, name: str
) -> None:
    """Opening moves to generation 1 with retry_after measured on the server's clock."""
    shared = store.open(name, expected_generation=0, open_for=60.0)
    assert (shared.state, shared.generation) == (OPEN, 1)
    assert shared.retry_after is not None
    assert 59.0 < shared.retry_after <= 60.0


def test_a_stale_open_changes_nothing(store: RedisBreakerStore, name: str) -> None:
    """An open naming another generation leaves the record alone."""
    assert SharedState(CLOSED, 0) == store.open(name, expected_generation=7, open_for=60.0)


def test_a_forced_open_grants_no_probe(store: RedisBreakerStore, name: str) -> None:
    """Forced open has no retry_after and grants nothing until reset."""
    store.open(name, expected_generation=None, open_for=None)
    grant = store.acquire_probe(name, max_probes=1)
    assert (False, SharedState(OPEN, 1)) == (grant.granted, grant.shared)
    assert SharedState(CLOSED, 2) == store.reset(name)


def test_open_for_infinity_is_forced_open(store: RedisBreakerStore, name: str) -> None:
    """An infinite open period is stored as forced open."""
    assert store.open(name, expected_generation=0, open_for=float("inf")).retry_after is None


def test_an_open_record_not_yet_due_grants_nothing(store: RedisBreakerStore, name: str) -> None:
    """Before the open period ends, acquire_probe stays open and refuses."""
    store.open(name, expected_generation=0, open_for=60.0)
    grant = store.acquire_probe(name, max_probes=1)
    assert (grant.granted, grant.shared.state, grant.shared.generation) == (False, OPEN, 1)


def test_a_due_record_moves_to_half_open_and_grants(store: RedisBreakerStore, name: str) -> None:
    """Once due, acquire_probe moves to half-open (generation + 1) and grants one probe."""
    store.open(name, expected_generation=0, open_for=0.0)
    grant = store.acquire_probe(name, max_probes=1)
    assert (True, SharedState(HALF_OPEN, 2, None, 1, 0)) == (grant.granted, grant.shared)


def test_half_open_grants_at_most_max_probes_across_stores(url: str, name: str) -> None:
    """Two stores (two processes) share the probe limit."""
    first, second = RedisBreakerStore.from_url(url), RedisBreakerStore.from_url(url)
    first.open(name, expected_generation=0, open_for=0.0)
    grants = [
        first.acquire_probe(name, max_probes=2).granted,
        second.acquire_probe(name, max_probes=2).granted,
        second.acquire_probe(name, max_probes=2).granted,
        first.acquire_probe(name, max_probes=2).granted,
    ]
    assert grants == [True, True, False, False]
    assert first.load(name).probes == 2


def test_probe_successes_from_two_stores_close_it(url: str, name: str) -> None:
    """Successes counted in Redis close the circuit at the threshold."""
    first, second = RedisBreakerStore.from_url(url), RedisBreakerStore.from_url(url)
    first.open(name, expected_generation=0, open_for=0.0)
    generation = first.acquire_probe(name, max_probes=2).shared.generation
    second.acquire_probe(name, max_probes=2)
    after_one = first.release_probe(
        name, generation=generation, success=True, success_threshold=2, open_for=60.0
    )
    assert SharedState(HALF_OPEN, 2, None, 1, 1) == after_one
    after_two = second.release_probe(
        name, generation=generation, success=True, success_threshold=2, open_for=60.0
    )
    assert SharedState(CLOSED, 3) == after_two


def test_a_failed_probe_reopens(store: RedisBreakerStore, name: str) -> None:
    """A probe failure opens again for open_for."""
    store.open(name, expected_generation=0, open_for=0.0)
    generation = store.acquire_probe(name, max_probes=1).shared.generation
    shared = store.release_probe(
        name, generation=generation, success=False, success_threshold=1, open_for=30.0
    )
    assert (shared.state, shared.generation) == (OPEN, 3)
    assert shared.retry_after is not None
    assert shared.retry_after > 29.0


def test_an_ignored_probe_only_frees_its_slot(store: RedisBreakerStore, name: str) -> None:
    """success=None returns the slot and counts nothing."""
    store.open(name, expected_generation=0, open_for=0.0)
    generation = store.acquire_probe(name, max_probes=1).shared.generation
    shared = store.release_probe(
        name, generation=generation, success=None, success_threshold=1, open_for=30.0
    )
    assert SharedState(HALF_OPEN, 2) == shared
    assert store.acquire_probe(name, max_probes=1).granted


def test_a_stale_release_changes_nothing(store: RedisBreakerStore, name: str) -> None:
    """A release naming an older generation leaves the record alone."""
    store.open(name, expected_generation=0, open_for=0.0)
    store.acquire_probe(name, max_probes=1)
    shared = store.release_probe(
        name, generation=1, success=True, success_threshold=1, open_for=30.0
    )
    assert SharedState(HALF_OPEN, 2, None, 1, 0) == shared


def test_reset_of_a_closed_record_keeps_its_generation(store: RedisBreakerStore, name: str) -> None:
    """Reset changes the generation only when it changes the state."""
    assert SharedState(CLOSED, 0) == store.reset(name)


def test_names_never_share_state(store: RedisBreakerStore, name: str) -> None:
    """Opening one name leaves another closed."""
    store.open(name, expected_generation=0, open_for=60.0)
    assert SharedState(CLOSED, 0) == store.load(name + "-other")


def test_prefixes_separate_applications(url: str, name: str) -> None:
    """Two prefixes keep two records of the same name."""
    first = RedisBreakerStore.from_url(url, prefix="app1:")
    second = RedisBreakerStore.from_url(url, prefix="app2:")
    first.open(name, expected_generation=0, open_for=60.0)
    assert SharedState(CLOSED, 0) == second.load(name)


def test_a_dead_holders_lease_expires(url: str, name: str) -> None:
    """A lease never released frees its slot after lease_ttl (server time)."""
    holder = RedisBreakerStore.from_url(url, lease_ttl=0.05)
    other = RedisBreakerStore.from_url(url, lease_ttl=0.05)
    holder.open(name, expected_generation=0, open_for=0.0)
    assert holder.acquire_probe(name, max_probes=1).granted
    assert not other.acquire_probe(name, max_probes=1).granted
    time.sleep(0.06)  # a Redis key expiry: no clock seam
    assert other.load(name).probes == 0
    assert other.acquire_probe(name, max_probes=1).granted


def test_a_release_after_the_lease_expired_still_counts(url: str, name: str) -> None:
    """A slow probe's result counts even when its lease has expired."""
    store = RedisBreakerStore.from_url(url, lease_ttl=0.02)
    store.open(name, expected_generation=0, open_for=0.0)
    generation = store.acquire_probe(name, max_probes=1).shared.generation
    time.sleep(0.03)  # a Redis key expiry: no clock seam
    shared = store.release_probe(
        name, generation=generation, success=True, success_threshold=1, open_for=30.0
    )
    assert SharedState(CLOSED, 3) == shared


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "parameter"),
    [
        ({"sync_interval": 0}, ValueError, "sync_interval"),
        ({"lease_ttl": -1.0}, ValueError, "lease_ttl"),
        ({"prefix": 3}, TypeError, "prefix"),
        ({"socket_timeout": 0}, ValueError, "socket_timeout"),
        ({"socket_connect_timeout": float("nan")}, ValueError, "socket_connect_timeout"),
    ],
)
def test_bad_configuration_names_the_parameter(
    url: str, options: dict[str, object], error: type[Exception], parameter: str
) -> None:
    """A bad value raises at construction, naming the parameter."""
    with pytest.raises(error, match=parameter):
        RedisBreakerStore.from_url(url, **options)  # type: ignore[arg-type]


def test_from_url_sets_short_timeouts_and_no_retries(url: str) -> None:
    """from_url's client waits 250 ms at most and never retries."""
    store = RedisBreakerStore.from_url(url)
    kwargs = store.client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.25)
    assert store.client.get_retry().get_retries() == 0


def test_the_constructor_takes_a_client(url: str, name: str) -> None:
    """A client made by the application works as well."""
    store = RedisBreakerStore(redis.Redis.from_url(url), sync_interval=0.5)
    assert (0.5, SharedState(CLOSED, 0)) == (store.sync_interval, store.load(name))


# --- outages ---------------------------------------------------------------------------------


def test_an_outage_falls_back_to_local_state_with_one_warning(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Redis the breaker trips locally; one WARNING, one metric per attempt."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    store = RedisBreakerStore.from_url(dead_url(), clock=clock, metrics=metrics)
    breaker = CircuitBreaker(
        name=name, failure_threshold=2, recovery_timeout=5.0, clock=clock, store=store
    )
    with caplog.at_level(logging.INFO, logger="felix_reliability.redis"):
        assert breaker.call(ok) == "ok"
        fail(breaker)
        fail(breaker)
        with pytest.raises(CircuitOpenError):
            breaker.call(ok)
        clock.advance(5)
        assert breaker.call(ok) == "ok"
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Redis failed" in warnings[0].getMessage()
    # The open and the probe came 5 s apart: two attempts, the rest waited sync_interval.
    assert metrics.total(STORE_ERRORS, {"breaker": name}) == 2.0


def test_no_redis_call_within_sync_interval_of_a_failure(name: str) -> None:
    """After a failure the store answers locally until sync_interval has passed."""
    clock = FakeClock()
    metrics = InMemoryMetrics(clock=clock)
    store = RedisBreakerStore.from_url(dead_url(), clock=clock, metrics=metrics, sync_interval=2)
    store.load(name)
    store.load(name)
    clock.advance(1.9)
    store.load(name)
    assert metrics.total(STORE_ERRORS) == 1.0
    clock.advance(0.1)
    store.load(name)
    assert metrics.total(STORE_ERRORS) == 2.0


def test_a_failing_metrics_collector_is_logged(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """A broken collector never breaks the fallback."""

    class Broken(InMemoryMetrics):
        def increment(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("collector down")

    store = RedisBreakerStore.from_url(dead_url(), metrics=Broken(clock=FakeClock()))
    assert SharedState(CLOSED, 0) == store.load(name)
    assert "metrics collector failed" in caplog.text


def test_a_probe_granted_before_the_outage_is_released_locally(url: str, name: str) -> None:
    """The local record counts the probe this process held when Redis went away."""
    clock = FakeClock()
    store = RedisBreakerStore.from_url(url, clock=clock)
    store.open(name, expected_generation=0, open_for=0.0)
    generation = store.acquire_probe(name, max_probes=1).shared.generation
    set_port(store, free_port())  # Redis "goes away"
    local = store.release_probe(
        name, generation=generation, success=True, success_threshold=1, open_for=10.0
    )
    assert SharedState(CLOSED, generation + 1) == local


def test_a_remaining_open_period_carries_into_the_outage(url: str, name: str) -> None:
    """The local record keeps the rest of the open period last seen in Redis."""
    clock = FakeClock()
    store = RedisBreakerStore.from_url(url, clock=clock)
    store.open(name, expected_generation=0, open_for=60.0)
    clock.advance(20)
    set_port(store, free_port())
    local = store.load(name)
    assert local.retry_after is not None
    assert 39.0 < local.retry_after <= 40.0


def test_sharing_resumes_and_the_shared_record_wins(
    redis_server: RedisServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Transitions made locally during an outage give way to Redis, generation jumping ahead."""
    clock = FakeClock()
    store = RedisBreakerStore.from_url(redis_server.url, clock=clock, sync_interval=1.0)
    other = RedisBreakerStore.from_url(redis_server.url)
    breaker = CircuitBreaker(
        name=name, failure_threshold=1, recovery_timeout=60.0, clock=clock, store=store
    )
    assert breaker.call(ok) == "ok"
    set_port(store, free_port())
    fail(breaker)  # trips locally: generation 1 here, still 0 in Redis
    assert breaker.state == OPEN
    set_port(store, redis_server.port)
    other.open(name, expected_generation=0, open_for=None)  # meanwhile: forced open
    clock.advance(1)
    with caplog.at_level(logging.INFO, logger="felix_reliability.redis"):
        shared = store.load(name)
    assert (shared.state, shared.retry_after) == (OPEN, None)
    assert shared.generation > 1
    assert "Redis answers again" in caplog.text
    other.reset(name)
    assert SharedState(CLOSED, shared.generation + 1) == store.load(name)


def test_a_lost_record_moves_the_generation_ahead(url: str, name: str) -> None:
    """A record recreated (say, Redis restarted empty) never looks older to the breaker."""
    store = RedisBreakerStore.from_url(url)
    breaker = CircuitBreaker(name=name, failure_threshold=1, recovery_timeout=60.0, store=store)
    fail(breaker)
    assert breaker.state == OPEN
    store.client.delete(*store._core.keys(name))
    breaker.reset()
    assert (breaker.state, store.load(name).generation) == (CLOSED, 2)


def test_a_stale_generation_from_the_outage_never_matches(url: str, name: str) -> None:
    """A generation made up locally during an outage is stale for Redis."""
    clock = FakeClock()
    store = RedisBreakerStore.from_url(url, clock=clock)
    set_port(store, free_port())
    local = store.open(name, expected_generation=0, open_for=60.0)
    set_port(store, int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]))
    clock.advance(1)
    shared = store.open(name, expected_generation=local.generation, open_for=60.0)
    assert shared.state == CLOSED


def test_a_hung_redis_costs_one_timeout_per_sync_interval(
    redis_server: RedisServer, name: str
) -> None:
    """With redis-server frozen, one call waits the socket timeout, the next ones nothing."""
    store = RedisBreakerStore.from_url(redis_server.url, socket_timeout=0.1, sync_interval=30)
    breaker = CircuitBreaker(name=name, failure_threshold=1, recovery_timeout=60.0, store=store)
    store.load(name)  # connected
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        started = time.perf_counter()
        fail(breaker)  # the trip is a store call: it times out and trips locally
        first = time.perf_counter() - started
        started = time.perf_counter()
        with pytest.raises(CircuitOpenError):
            breaker.call(ok)
        second = time.perf_counter() - started
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    assert first < 0.2
    assert second < 0.01


def test_stopping_redis_mid_run(redis_server: RedisServer, name: str) -> None:
    """Two workers keep working through a stop and start; sharing resumes after."""
    first = RedisBreakerStore.from_url(redis_server.url, sync_interval=0.05)
    second = RedisBreakerStore.from_url(redis_server.url, sync_interval=0.05)
    options = {"name": name, "failure_threshold": 3, "recovery_timeout": 60.0}
    workers = [CircuitBreaker(**options, store=first), CircuitBreaker(**options, store=second)]  # type: ignore[arg-type]
    slowest = 0.0

    def run(rounds: int) -> None:
        nonlocal slowest
        for _ in range(rounds):
            for breaker in workers:
                started = time.perf_counter()
                assert breaker.call(ok) == "ok"
                slowest = max(slowest, time.perf_counter() - started)

    run(50)
    redis_server.stop()
    try:
        run(200)
        with pytest.raises(ConnectionError):
            workers[0].call(boom)
    finally:
        redis_server.start()
    time.sleep(0.06)  # let the outage pause (sync_interval) pass: no clock seam across both
    run(5)
    for _ in range(3):
        fail(workers[0])
    time.sleep(0.06)  # the other worker polls once per sync_interval
    with pytest.raises(CircuitOpenError):
        workers[1].call(ok)
    assert slowest < 0.25


# --- asyncio ---------------------------------------------------------------------------------


def test_the_async_store_follows_the_protocol(url: str, name: str) -> None:
    """Every operation of the asyncio store, against the same records as the sync one."""

    async def scenario() -> list[object]:
        store = AsyncRedisBreakerStore.from_url(url, sync_interval=0.5, clock=FakeClock())
        answers: list[object] = [store.sync_interval, await store.load(name)]
        answers.append(await store.open(name, expected_generation=0, open_for=0.0))
        grant = await store.acquire_probe(name, max_probes=1)
        answers.append(grant)
        answers.append(
            await store.release_probe(
                name, generation=2, success=True, success_threshold=1, open_for=1.0
            )
        )
        answers.append(await store.reset(name))
        await store.client.aclose()
        return answers

    answers = asyncio.run(scenario())
    sync = RedisBreakerStore.from_url(url)
    assert answers[0] == 0.5
    assert SharedState(CLOSED, 0) == answers[1]
    assert (answers[2].state, answers[2].generation) == (OPEN, 1)  # type: ignore[attr-defined]
    assert answers[3].granted  # type: ignore[attr-defined]
    assert [SharedState(CLOSED, 3)] * 3 == [answers[4], answers[5], sync.load(name)]


def test_a_breaker_with_the_async_store_guards_coroutines(name: str, url: str) -> None:
    """An async breaker trips through Redis and rejects in another 'process'."""

    async def scenario() -> tuple[BreakerState, BreakerState]:
        first = AsyncRedisBreakerStore.from_url(url, sync_interval=0.01)
        second = AsyncRedisBreakerStore.from_url(url, sync_interval=0.01)
        one = CircuitBreaker(name=name, failure_threshold=1, store=first)
        two = CircuitBreaker(name=name, failure_threshold=1, store=second)

        @one
        async def broken() -> None:
            raise ConnectionError

        @two
        async def fine() -> str:
            return "ok"

        await fine()
        with pytest.raises(ConnectionError):
            await broken()
        await asyncio.sleep(0.02)  # the other breaker's poll: no clock seam across stores
        with pytest.raises(CircuitOpenError):
            await fine()
        await first.client.aclose()
        await second.client.aclose()
        return one.state, two.state

    assert asyncio.run(scenario()) == (OPEN, OPEN)


def test_the_async_store_falls_back_without_redis(name: str) -> None:
    """The asyncio store answers locally when Redis is unreachable."""

    async def scenario() -> SharedState:
        store = AsyncRedisBreakerStore.from_url(dead_url(), clock=FakeClock())
        await store.open(name, expected_generation=0, open_for=None)
        answer = await store.load(name)  # within sync_interval: Redis is not even tried
        await store.client.aclose()
        return answer

    assert SharedState(OPEN, 1) == asyncio.run(scenario())


def test_the_async_constructor_takes_a_client(url: str, name: str) -> None:
    """An application's asyncio client works as well."""

    async def scenario() -> SharedState:
        store = AsyncRedisBreakerStore(redis.asyncio.Redis.from_url(url))
        answer = await store.load(name)
        await store.client.aclose()
        return answer

    assert SharedState(CLOSED, 0) == asyncio.run(scenario())
