"""The Redis breaker store as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from typing import assert_type

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from felix_reliability import (
    AsyncBreakerStore,
    BreakerStore,
    CircuitBreaker,
    InMemoryMetrics,
    SharedState,
)
from felix_reliability.adapters.redis import (
    STORE_ERRORS,
    AsyncRedisBreakerStore,
    RedisBreakerStore,
)

store = RedisBreakerStore.from_url(
    "redis://127.0.0.1:6379/0", sync_interval=1.0, metrics=InMemoryMetrics()
)
assert_type(store, RedisBreakerStore)
shared_store: BreakerStore = store
client = redis.Redis(socket_timeout=0.25, socket_connect_timeout=0.25, retry=Retry(NoBackoff(), 0))
own = RedisBreakerStore(client, prefix="felix_hub:", lease_ttl=10.0)
breaker = CircuitBreaker(name="telegram", store=own)
assert_type(store.load("telegram"), SharedState)
assert_type(store.sync_interval, float)
metric_name: str = STORE_ERRORS

async_store = AsyncRedisBreakerStore.from_url("redis://127.0.0.1:6379/0")
async_shared: AsyncBreakerStore = async_store
async_own = AsyncRedisBreakerStore(redis.asyncio.Redis(socket_timeout=0.25))
async_breaker = CircuitBreaker(name="telegram-async", store=async_own)


async def closed_elsewhere() -> SharedState:
    return await async_store.load("telegram")
