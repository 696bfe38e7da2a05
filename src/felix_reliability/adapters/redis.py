"""Share one circuit breaker between processes and hosts through Redis.

`RedisBreakerStore` (for a ``redis.Redis`` client) and
`AsyncRedisBreakerStore` (for a ``redis.asyncio.Redis`` client) implement the
breaker's store protocols: pass one as ``CircuitBreaker(store=...)`` in every
worker, with the same breaker name, and the workers share one breaker.

What is shared and what is not:

* Closed-state failure counting stays in each process (no Redis round trip
  per call): with ``failure_threshold=10`` and four workers, the circuit opens
  when one worker sees 10 failures in a row, not after 10 failures spread
  over the cluster. A closed breaker asks Redis at most once per
  *sync_interval* whether another worker opened it.
* The open signal (until when, on the Redis server's clock), the half-open
  state with its probe leases and probe successes, and the generation are
  shared, each operation one atomic Lua script. Half-open admits at most
  ``half_open_max_calls`` probes cluster-wide and closes after
  ``success_threshold`` probe successes counted across processes. A probe
  lease expires *lease_ttl* seconds after it was granted, so a worker that
  dies mid-probe cannot keep the breaker half-open.
* Every time in Redis comes from ``redis.call('TIME')``: hosts' clocks are
  never compared.

Keys: ``{prefix}{name}`` (a hash) and ``{prefix}{name}:leases`` (a sorted
set), with the name in a Redis Cluster hash tag, so breakers with different
names never share state.

When Redis fails (a connection error, a timeout, any ``RedisError``), the
store logs one WARNING for the outage, counts the failure as
``felix_breaker_store_errors`` with the label ``breaker`` in *metrics*, and
answers from a per-process record seeded with the last shared state: the
breaker keeps working on its own. For *sync_interval* seconds after a
failure no Redis call is made at all; then the next operation tries again.
When Redis answers, the store logs an INFO line and the shared record wins
again (the breaker moves to it, even if that means a generation jump). No
Redis exception ever reaches a guarded function's caller.

The bound on a call's wait is the client's: create the client with short
timeouts and without retries, or let `RedisBreakerStore.from_url` do it
(250 ms socket and connect timeouts, no retries, by default).

Needs the ``redis`` extra.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, Self, TypeVar, cast

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from felix_reliability._breaker_store import (
    BreakerState,
    LocalBreakerStore,
    ProbeGrant,
    SharedState,
)
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._validation import check_positive_float

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript, Script

    from felix_reliability._metrics import MetricsCollector

__all__ = ["AsyncRedisBreakerStore", "RedisBreakerStore", "STORE_ERRORS"]  # noqa: RUF022 - plain sorted(), as the exported-members test checks

STORE_ERRORS: Final = "felix_breaker_store_errors"
"""The counter of failed Redis operations, labelled ``breaker`` (the breaker's name)."""

logger = logging.getLogger("felix_reliability.redis")

_T = TypeVar("_T", SharedState, ProbeGrant)
_ERRORS = (RedisError, OSError)
_DEFAULT_TIMEOUT = 0.25

# Every script starts here: the server's time in microseconds, the record
# (created on first use with its epoch, the creation time, which changes if
# the record is lost, say by a restart without persistence), and helpers.
_PRELUDE = """
if redis.replicate_commands then redis.replicate_commands() end -- TIME before writes, Redis < 5
local key, leases = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, 'state', 'closed', 'gen', 0, 'until', -1, 'succ', 0, 'epoch', now)
end
local rec = redis.call('HMGET', key, 'state', 'gen', 'until', 'succ', 'epoch')
local state, gen, open_until = rec[1], tonumber(rec[2]), tonumber(rec[3])
local succ, epoch = tonumber(rec[4]), rec[5]
local function move(new_state, open_for)
  state, gen, succ, open_until = new_state, gen + 1, 0, -1
  if new_state == 'open' and open_for >= 0 then open_until = now + open_for end
  redis.call('DEL', leases)
  redis.call('HSET', key, 'state', state, 'gen', gen, 'until', open_until, 'succ', 0)
end
local function reply(granted)
  local probes, retry = 0, -1
  if state == 'half_open' then probes = redis.call('ZCOUNT', leases, '(' .. now, '+inf') end
  if state == 'open' and open_until >= 0 then retry = math.max(0, open_until - now) end
  return {state, gen, retry, probes, succ, epoch, granted}
end
"""

_LOAD = _PRELUDE + "return reply(0)"

# ARGV: expected generation ('' for unconditional), open period in µs (-1: forever).
_OPEN = (
    _PRELUDE
    + """
if ARGV[1] == '' or tonumber(ARGV[1]) == gen then move('open', tonumber(ARGV[2])) end
return reply(0)
"""
)

# ARGV: max probes, lease token, lease TTL in µs.
_ACQUIRE = (
    _PRELUDE
    + """
if state == 'open' and open_until >= 0 and now >= open_until then move('half_open', -1) end
local granted = 0
if state == 'half_open' then
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if redis.call('ZCARD', leases) < tonumber(ARGV[1]) then
    redis.call('ZADD', leases, now + tonumber(ARGV[3]), ARGV[2])
    granted = 1
  end
end
return reply(granted)
"""
)

# ARGV: generation, success ('1', '0' or '' for ignored), threshold, open µs, token.
_RELEASE = (
    _PRELUDE
    + """
if tonumber(ARGV[1]) == gen and state == 'half_open' then
  redis.call('ZREM', leases, ARGV[5])
  if ARGV[2] == '1' then
    succ = succ + 1
    redis.call('HSET', key, 'succ', succ)
    if succ >= tonumber(ARGV[3]) then move('closed', -1) end
  elseif ARGV[2] == '0' then
    move('open', tonumber(ARGV[4]))
  end
end
return reply(0)
"""
)

_RESET = (
    _PRELUDE
    + """
if state ~= 'closed' then move('closed', -1) end
return reply(0)
"""
)


def _micros(seconds: float | None) -> int:
    return -1 if seconds is None or math.isinf(seconds) else round(seconds * 1_000_000)


class _Fallback(LocalBreakerStore):
    """The record a process keeps of one breaker while Redis is unreachable."""

    __slots__ = ()

    def seed(self, shared: SharedState, probes: int) -> None:
        """Start from the last shared record seen (with this process's probes in flight)."""
        self._state = shared.state
        self._generation = shared.generation
        self._probes = probes if shared.state is BreakerState.HALF_OPEN else 0
        self._probe_successes = shared.probe_successes
        self._open_until = None
        if shared.retry_after is not None:
            self._open_until = self.clock.monotonic() + shared.retry_after

    def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe slot, counting one granted by Redis before the outage."""
        with self._lock:  # reentrant: the base class takes it again
            if (
                self._probes == 0
                and self._state is BreakerState.HALF_OPEN
                and self._generation == generation
            ):
                self._probes = 1
            return super().release_probe(
                name,
                generation=generation,
                success=success,
                success_threshold=success_threshold,
                open_for=open_for,
            )


class _Entry:
    """What the store remembers of one breaker name in this process."""

    __slots__ = ("base", "epoch", "fallback", "high", "leases", "offset", "seen", "seen_at")

    def __init__(self) -> None:
        # The breaker sees generation = Redis generation + offset; the offset
        # grows when continuity is lost, so what the breaker sees never goes back.
        self.offset = 0
        self.high = 0  # the highest generation handed out
        self.epoch: bytes | None = None
        self.seen = SharedState(BreakerState.CLOSED, 0)
        self.seen_at = 0.0
        self.fallback: _Fallback | None = None
        self.base = 0  # the generation the fallback was seeded at
        self.leases: list[tuple[int, str]] = []  # (Redis generation, token) held here


class _Core:
    """The part of both stores that does not talk to Redis."""

    __slots__ = (
        "_entries",
        "_lock",
        "_metrics",
        "_retry_at",
        "clock",
        "lease_us",
        "prefix",
        "sync_interval",
    )

    def __init__(
        self,
        *,
        prefix: str,
        sync_interval: float,
        lease_ttl: float,
        clock: Clock | None,
        metrics: MetricsCollector | None,
    ) -> None:
        self.prefix = _check_prefix(prefix)
        self.sync_interval = check_positive_float("sync_interval", sync_interval)
        self.lease_us = _micros(check_positive_float("lease_ttl", lease_ttl))
        self.clock: Clock = SystemClock() if clock is None else clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._retry_at: float | None = None  # set during an outage

    def keys(self, name: str) -> list[str]:
        key = f"{self.prefix}{{{name}}}"
        return [key, f"{key}:leases"]

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            entry = self._entries[name] = _Entry()
        return entry

    def available(self) -> bool:
        """Whether Redis may be called now (not within *sync_interval* of a failure)."""
        retry_at = self._retry_at
        return retry_at is None or self.clock.monotonic() >= retry_at

    def generation(self, name: str, visible: int | None) -> int | str:
        """Translate a generation the breaker holds into the Redis one (-1: stale for sure)."""
        if visible is None:
            return ""
        with self._lock:
            entry = self._entry(name)
            if entry.fallback is not None and visible > entry.base:
                return -1  # made up while Redis was away: no Redis record has it
            return visible - entry.offset

    def token(self) -> str:
        return f"{os.getpid()}-{uuid.uuid4().hex}"

    def take_lease(self, name: str, redis_generation: int | str) -> str:
        """Return a token this process holds for *redis_generation*, forgetting it."""
        with self._lock:
            leases = self._entry(name).leases
            for index, (generation, token) in enumerate(leases):
                if generation == redis_generation:
                    del leases[index]
                    return token
            return ""

    def failed(self, name: str, exc: BaseException) -> None:
        with self._lock:
            first = self._retry_at is None
            self._retry_at = self.clock.monotonic() + self.sync_interval
        if first:
            logger.warning(
                "breaker store: Redis failed (%s: %s); breakers run on local state "
                "and try Redis again every %s s",
                type(exc).__name__,
                exc,
                self.sync_interval,
            )
        metrics = self._metrics
        if metrics is not None:
            try:
                metrics.increment(STORE_ERRORS, 1.0, {"breaker": name})
            except Exception:
                logger.exception("breaker store: metrics collector failed")

    def fallback(self, name: str) -> _Fallback:
        """Return the local record of *name*, seeding it at the start of an outage."""
        with self._lock:
            entry = self._entry(name)
            if entry.fallback is None:
                seen = entry.seen
                left = seen.retry_after
                if left is not None:
                    left = max(0.0, left - (self.clock.monotonic() - entry.seen_at))
                redis_generation = seen.generation - entry.offset
                probes = sum(1 for generation, _ in entry.leases if generation == redis_generation)
                lock = cast("threading.Lock", threading.RLock())
                entry.fallback = _Fallback(self.clock, lock)
                entry.fallback.seed(
                    SharedState(seen.state, seen.generation, left, 0, seen.probe_successes),
                    probes,
                )
                entry.base = seen.generation
            return entry.fallback

    def answer(self, name: str, raw: Sequence[object], token: str | None) -> SharedState:
        """Turn a script's reply into the record the breaker sees."""
        state = BreakerState(_text(raw[0]))
        redis_generation, retry = _int(raw[1]), _int(raw[2])
        epoch = cast("bytes", raw[5])
        resumed = False
        with self._lock:
            if self._retry_at is not None:
                self._retry_at, resumed = None, True
            entry = self._entry(name)
            jump = entry.epoch is not None and entry.epoch != epoch
            if entry.fallback is not None:
                local = entry.fallback.load(name).generation
                entry.high = max(entry.high, local)
                jump = jump or local > entry.base
                entry.fallback = None
            if jump:
                entry.offset = max(entry.offset, entry.high + 1 - redis_generation)
            entry.epoch = epoch
            shared = SharedState(
                state,
                redis_generation + entry.offset,
                None if retry < 0 else retry / 1_000_000,
                _int(raw[3]),
                _int(raw[4]),
            )
            entry.high = max(entry.high, shared.generation)
            entry.seen, entry.seen_at = shared, self.clock.monotonic()
            if token is not None and _int(raw[6]):
                entry.leases.append((redis_generation, token))
        if resumed:
            logger.info("breaker store: Redis answers again; breakers share their state")
        return shared


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {prefix!r}")
    return prefix


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(value: object) -> int:
    return int(cast("int | bytes | str", value))


def _probe(shared: SharedState, raw: Sequence[object]) -> ProbeGrant:
    return ProbeGrant(shared, bool(_int(raw[6])))


class _Scripts:
    __slots__ = ("acquire", "load", "open", "release", "reset")

    def __init__(self, register: Callable[[str], object]) -> None:
        self.load = register(_LOAD)
        self.open = register(_OPEN)
        self.acquire = register(_ACQUIRE)
        self.release = register(_RELEASE)
        self.reset = register(_RESET)


def _timeouts(socket_timeout: float, connect_timeout: float | None) -> tuple[float, float]:
    timeout = check_positive_float("socket_timeout", socket_timeout)
    connect = timeout if connect_timeout is None else connect_timeout
    return timeout, check_positive_float("socket_connect_timeout", connect)


class RedisBreakerStore:
    """A `BreakerStore` in Redis, shared by every process that uses the same breaker name.

    See the module documentation for what is shared, the keys, and what
    happens when Redis is unreachable.

    Args:
        client: A ``redis.Redis`` client. Its timeouts bound how long a call
            can wait for Redis: create it with ``socket_timeout`` and
            ``socket_connect_timeout`` of about 0.25 s and
            ``retry=Retry(NoBackoff(), 0)``, or use `from_url`.
        prefix: Prepended to every key.
        sync_interval: Seconds between a closed breaker's polls for an opening
            elsewhere, and the pause after a Redis failure before Redis is
            tried again.
        lease_ttl: Seconds a probe lease lives; make it longer than the
            slowest probe call, since an expired lease frees its slot.
        clock: The time source of the pause after a failure and of the local
            record used meanwhile.
        metrics: Where ``felix_breaker_store_errors`` is counted.

    Raises:
        ValueError: If *sync_interval* or *lease_ttl* is not a finite number > 0.
        TypeError: If *prefix* is not a str or a number has the wrong type.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_core", "_scripts", "client")

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "felix:breaker:",
        sync_interval: float = 1.0,
        lease_ttl: float = 30.0,
        clock: Clock | None = None,
        metrics: MetricsCollector | None = None,
    ) -> None:
        self._core = _Core(
            prefix=prefix,
            sync_interval=sync_interval,
            lease_ttl=lease_ttl,
            clock=clock,
            metrics=metrics,
        )
        self.client = client
        self._scripts = _Scripts(client.register_script)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        socket_timeout: float = _DEFAULT_TIMEOUT,
        socket_connect_timeout: float | None = None,
        prefix: str = "felix:breaker:",
        sync_interval: float = 1.0,
        lease_ttl: float = 30.0,
        clock: Clock | None = None,
        metrics: MetricsCollector | None = None,
    ) -> Self:
        """Create the store with a client for *url* that has short timeouts and no retries.

        Args:
            url: A ``redis://`` (or ``rediss://``, ``unix://``) URL.
            socket_timeout: Seconds to wait for an answer.
            socket_connect_timeout: Seconds to wait for a connection
                (default: *socket_timeout*).
            prefix: See the class.
            sync_interval: See the class.
            lease_ttl: See the class.
            clock: See the class.
            metrics: See the class.

        Returns:
            The store.

        Raises:
            ValueError: If a timeout is not a finite number > 0.
        """
        timeout, connect = _timeouts(socket_timeout, socket_connect_timeout)
        client = redis.Redis.from_url(  # pyright: ignore[reportUnknownMemberType] - **kwargs
            url, socket_timeout=timeout, socket_connect_timeout=connect, retry=Retry(NoBackoff(), 0)
        )
        return cls(
            client,
            prefix=prefix,
            sync_interval=sync_interval,
            lease_ttl=lease_ttl,
            clock=clock,
            metrics=metrics,
        )

    @property
    def sync_interval(self) -> float:
        """Seconds between a closed breaker's polls."""
        return self._core.sync_interval

    def _run(
        self,
        name: str,
        script: object,
        args: list[int | str],
        *,
        local: Callable[[LocalBreakerStore], _T],
        finish: Callable[[SharedState, Sequence[object]], _T],
        token: str | None = None,
    ) -> _T:
        core = self._core
        if core.available():
            try:
                raw = cast("Script", script)(keys=core.keys(name), args=args)
            except _ERRORS as exc:
                core.failed(name, exc)
            else:
                answer = cast("Sequence[object]", raw)
                return finish(core.answer(name, answer, token), answer)
        return local(core.fallback(name))

    def load(self, name: str) -> SharedState:
        """Return the record of *name*; see `BreakerStore.load`."""
        return self._run(
            name, self._scripts.load, [], local=lambda store: store.load(name), finish=_shared_only
        )

    def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        """Open *name*; see `BreakerStore.open`."""
        args = [self._core.generation(name, expected_generation), _micros(open_for)]
        return self._run(
            name,
            self._scripts.open,
            args,
            local=lambda store: store.open(
                name, expected_generation=expected_generation, open_for=open_for
            ),
            finish=_shared_only,
        )

    def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        """Grant a probe lease; see `BreakerStore.acquire_probe`."""
        token = self._core.token()
        return self._run(
            name,
            self._scripts.acquire,
            [max_probes, token, self._core.lease_us],
            local=lambda store: store.acquire_probe(name, max_probes=max_probes),
            finish=_probe,
            token=token,
        )

    def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe lease with its result; see `BreakerStore.release_probe`."""
        core = self._core
        redis_generation = core.generation(name, generation)
        args = [
            redis_generation,
            {True: "1", False: "0", None: ""}[success],
            success_threshold,
            _micros(open_for),
            core.take_lease(name, redis_generation),
        ]
        return self._run(
            name,
            self._scripts.release,
            args,
            local=lambda store: store.release_probe(
                name,
                generation=generation,
                success=success,
                success_threshold=success_threshold,
                open_for=open_for,
            ),
            finish=_shared_only,
        )

    def reset(self, name: str) -> SharedState:
        """Close *name*; see `BreakerStore.reset`."""
        return self._run(
            name,
            self._scripts.reset,
            [],
            local=lambda store: store.reset(name),
            finish=_shared_only,
        )


class AsyncRedisBreakerStore:
    """An `AsyncBreakerStore` in Redis: `RedisBreakerStore` for a ``redis.asyncio.Redis`` client.

    Records, keys and the behaviour when Redis is unreachable are those of
    `RedisBreakerStore`; the two can share breakers. A breaker with this store
    guards coroutine functions only.

    Args:
        client: A ``redis.asyncio.Redis`` client (see `RedisBreakerStore` on
            its timeouts), or use `from_url`.
        prefix: Prepended to every key.
        sync_interval: See `RedisBreakerStore`.
        lease_ttl: See `RedisBreakerStore`.
        clock: See `RedisBreakerStore`.
        metrics: See `RedisBreakerStore`.

    Raises:
        ValueError: If *sync_interval* or *lease_ttl* is not a finite number > 0.
        TypeError: If *prefix* is not a str or a number has the wrong type.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_core", "_scripts", "client")

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "felix:breaker:",
        sync_interval: float = 1.0,
        lease_ttl: float = 30.0,
        clock: Clock | None = None,
        metrics: MetricsCollector | None = None,
    ) -> None:
        self._core = _Core(
            prefix=prefix,
            sync_interval=sync_interval,
            lease_ttl=lease_ttl,
            clock=clock,
            metrics=metrics,
        )
        self.client = client
        self._scripts = _Scripts(client.register_script)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        socket_timeout: float = _DEFAULT_TIMEOUT,
        socket_connect_timeout: float | None = None,
        prefix: str = "felix:breaker:",
        sync_interval: float = 1.0,
        lease_ttl: float = 30.0,
        clock: Clock | None = None,
        metrics: MetricsCollector | None = None,
    ) -> Self:
        """Create the store with an asyncio client for *url*: short timeouts, no retries.

        Args:
            url: A ``redis://`` (or ``rediss://``, ``unix://``) URL.
            socket_timeout: Seconds to wait for an answer.
            socket_connect_timeout: Seconds to wait for a connection
                (default: *socket_timeout*).
            prefix: See the class.
            sync_interval: See the class.
            lease_ttl: See the class.
            clock: See the class.
            metrics: See the class.

        Returns:
            The store.

        Raises:
            ValueError: If a timeout is not a finite number > 0.
        """
        timeout, connect = _timeouts(socket_timeout, socket_connect_timeout)
        client = redis.asyncio.Redis.from_url(  # pyright: ignore[reportUnknownMemberType] - **kwargs
            url, socket_timeout=timeout, socket_connect_timeout=connect, retry=Retry(NoBackoff(), 0)
        )
        return cls(
            client,
            prefix=prefix,
            sync_interval=sync_interval,
            lease_ttl=lease_ttl,
            clock=clock,
            metrics=metrics,
        )

    @property
    def sync_interval(self) -> float:
        """Seconds between a closed breaker's polls."""
        return self._core.sync_interval

    async def _run(
        self,
        name: str,
        script: object,
        args: list[int | str],
        *,
        local: Callable[[LocalBreakerStore], _T],
        finish: Callable[[SharedState, Sequence[object]], _T],
        token: str | None = None,
    ) -> _T:
        core = self._core
        if core.available():
            try:
                raw = await cast("AsyncScript", script)(keys=core.keys(name), args=args)
            except _ERRORS as exc:
                core.failed(name, exc)
            else:
                answer = cast("Sequence[object]", raw)
                return finish(core.answer(name, answer, token), answer)
        return local(core.fallback(name))

    async def load(self, name: str) -> SharedState:
        """Return the record of *name*; see `BreakerStore.load`."""
        return await self._run(
            name, self._scripts.load, [], local=lambda store: store.load(name), finish=_shared_only
        )

    async def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        """Open *name*; see `BreakerStore.open`."""
        args = [self._core.generation(name, expected_generation), _micros(open_for)]
        return await self._run(
            name,
            self._scripts.open,
            args,
            local=lambda store: store.open(
                name, expected_generation=expected_generation, open_for=open_for
            ),
            finish=_shared_only,
        )

    async def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        """Grant a probe lease; see `BreakerStore.acquire_probe`."""
        token = self._core.token()
        return await self._run(
            name,
            self._scripts.acquire,
            [max_probes, token, self._core.lease_us],
            local=lambda store: store.acquire_probe(name, max_probes=max_probes),
            finish=_probe,
            token=token,
        )

    async def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe lease with its result; see `BreakerStore.release_probe`."""
        core = self._core
        redis_generation = core.generation(name, generation)
        args = [
            redis_generation,
            {True: "1", False: "0", None: ""}[success],
            success_threshold,
            _micros(open_for),
            core.take_lease(name, redis_generation),
        ]
        return await self._run(
            name,
            self._scripts.release,
            args,
            local=lambda store: store.release_probe(
                name,
                generation=generation,
                success=success,
                success_threshold=success_threshold,
                open_for=open_for,
            ),
            finish=_shared_only,
        )

    async def reset(self, name: str) -> SharedState:
        """Close *name*; see `BreakerStore.reset`."""
        return await self._run(
            name,
            self._scripts.reset,
            [],
            local=lambda store: store.reset(name),
            finish=_shared_only,
        )


def _shared_only(shared: SharedState, raw: Sequence[object]) -> SharedState:
    del raw
    return shared
