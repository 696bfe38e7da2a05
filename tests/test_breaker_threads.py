"""Thread stress: 8 threads, random outcomes, many transitions, exact counts."""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from felix_reliability import BreakerEvent, CircuitBreaker, ProbeGrant, StateChanged
from felix_reliability._breaker_store import LocalBreakerStore
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock

THREADS = 8
CALLS = 1500
MAX_PROBES = 2


class FailedError(ConnectionError):
    """Counts as a failure."""


class IgnoredError(LookupError):
    """Outside failure_on: ignored."""


class WatchedStore(LocalBreakerStore):
    """Records the highest number of probes the store ever had in flight."""

    __slots__ = ("most",)

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.most = 0

    def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        grant = super().acquire_probe(name, max_probes=max_probes)
        self.most = max(self.most, grant.shared.probes)
        return grant


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads far more often than usual, to provoke races."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def test_eight_threads_keep_exact_counts_and_the_probe_limit(busy_switching: None) -> None:
    """Attempted calls == successes + failures + ignored + rejections; probes stay in limit."""
    clock = FakeClock()
    store = WatchedStore(clock)
    transitions: list[BreakerEvent] = []
    breaker = CircuitBreaker(
        name="stress",
        failure_threshold=3,
        recovery_timeout=1.0,
        success_threshold=2,
        half_open_max_calls=MAX_PROBES,
        failure_on=(FailedError,),
        clock=clock,
        store=store,
        listeners=[
            lambda event: transitions.append(event) if isinstance(event, StateChanged) else None
        ],
    )
    tallies: list[Counter[str]] = [Counter() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def work(index: int) -> None:
        rng = random.Random(index)
        tally = tallies[index]
        start.wait()
        for step in range(CALLS):
            if rng.random() < 0.02:
                clock.advance(0.5)
            roll = rng.random()
            kind = "failure" if roll < 0.2 else "ignored" if roll < 0.27 else "success"

            def act(kind: str = kind) -> str:
                if kind == "failure":
                    raise FailedError
                if kind == "ignored":
                    raise IgnoredError
                return kind

            tally["attempted"] += 1
            try:
                if step % 2:
                    breaker.call(act)
                else:
                    with breaker.attempt():
                        act()
            except CircuitOpenError:
                tally["rejected"] += 1
            except (FailedError, IgnoredError):
                tally[kind] += 1
            else:
                tally["success"] += 1

    threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total: Counter[str] = sum(tallies, Counter())
    snapshot = breaker.snapshot()
    assert total["attempted"] == THREADS * CALLS
    assert total["attempted"] == (
        snapshot.total_successes
        + snapshot.total_failures
        + snapshot.total_ignored
        + snapshot.total_rejections
    )
    assert (total["success"], total["failure"], total["ignored"], total["rejected"]) == (
        snapshot.total_successes,
        snapshot.total_failures,
        snapshot.total_ignored,
        snapshot.total_rejections,
    )
    assert snapshot.total_calls == total["success"] + total["failure"] + total["ignored"]
    assert store.most <= MAX_PROBES
    assert store.load("stress").probes == 0  # every slot was released
    assert len(transitions) > 20
