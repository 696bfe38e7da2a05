"""Where a breaker keeps the state it may share: the store protocols and the in-memory store.

A `CircuitBreaker` counts closed-state outcomes in its own process and never
asks its store about a closed-state success. Everything else, the open signal,
the half-open state with its probe leases and probe successes, and the
generation, lives in the store, so that several processes can share one
breaker through a store such as ``adapters.redis.RedisBreakerStore``.

Protocol rules every store follows (`LocalBreakerStore` is the reference):

* One record per breaker name; names never share state. A name never seen is
  ``SharedState(CLOSED, generation=0, retry_after=None, probes=0, probe_successes=0)``.
* Every operation is atomic and returns the record as it is *after* the
  operation. ``retry_after`` is relative (seconds from the store's own "now"),
  so no two clocks are ever compared.
* The generation increases by exactly one on every change of state and never
  otherwise; operations that name an ``expected_generation`` different from
  the current one change nothing (a stale caller must not cause a transition).
* OPEN with ``retry_after`` > 0 stays OPEN; once the open period has passed, the
  next `acquire_probe` moves it to HALF_OPEN (generation + 1, no probes, no
  probe successes) before granting. OPEN forever (forced) has
  ``retry_after=None`` and grants nothing until `reset`.
* HALF_OPEN grants a probe while fewer than ``max_probes`` are in flight. A
  store shared between processes must expire a probe lease whose holder
  died, so that the breaker can never stay half-open forever.
"""

from __future__ import annotations

import enum
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from attrs import frozen

if TYPE_CHECKING:
    from felix_reliability._clock import Clock

__all__ = [
    "AsyncBreakerStore",
    "BreakerState",
    "BreakerStore",
    "LocalBreakerStore",
    "ProbeGrant",
    "SharedState",
]


class BreakerState(enum.StrEnum):
    """The three states of a circuit breaker.

    >>> BreakerState.HALF_OPEN.value
    'half_open'

    .. versionadded:: 0.1.0
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@frozen
class SharedState:
    """The part of a breaker's state a store keeps, as returned by every store operation.

    Args:
        state: The shared state.
        generation: Increases by one on every change of state.
        retry_after: In OPEN, seconds until a probe may be admitted (``0.0``
            once due), or `None` when forced open; `None` in other states.
        probes: Probes in flight (HALF_OPEN only, else 0).
        probe_successes: Successful probes of this half-open period (else 0).

    .. versionadded:: 0.1.0
    """

    state: BreakerState
    generation: int
    retry_after: float | None = None
    probes: int = 0
    probe_successes: int = 0


@frozen
class ProbeGrant:
    """The answer to `BreakerStore.acquire_probe`: the record and whether a probe was granted.

    .. versionadded:: 0.1.0
    """

    shared: SharedState
    granted: bool


@runtime_checkable
class BreakerStore(Protocol):
    """The synchronous store protocol; every store follows the rules of the module above.

    `sync_interval` is how often, in seconds, a closed breaker should `load`
    the record to learn about an opening elsewhere; `None` for a store no one
    else writes to (the closed path then never calls the store).

    .. versionadded:: 0.1.0
    """

    @property
    def sync_interval(self) -> float | None:
        """Seconds between closed-state polls, or `None` for never."""
        ...

    def load(self, name: str) -> SharedState:
        """Return the record of *name*."""
        ...

    def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        """Open *name* for *open_for* seconds (`None`: until `reset`).

        With ``expected_generation`` not `None`, open only if the record is at
        that generation; `None` opens unconditionally (an administrator's
        ``force_open``). Opening sets generation + 1 and drops every probe.
        """
        ...

    def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        """Move a due OPEN record to HALF_OPEN, then grant a probe if one is free."""
        ...

    def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe slot of half-open *generation* with its result.

        If the record is no longer at *generation*, change nothing. Otherwise
        free the slot, then: ``success=True`` counts a probe success and closes
        (generation + 1) at *success_threshold* successes; ``success=False``
        opens for *open_for* seconds (generation + 1); `None` (ignored) only
        frees the slot.
        """
        ...

    def reset(self, name: str) -> SharedState:
        """Close *name* unconditionally (generation + 1 unless already closed)."""
        ...


@runtime_checkable
class AsyncBreakerStore(Protocol):
    """The asynchronous store protocol: `BreakerStore` with coroutine methods.

    A breaker with an async store serves only coroutine functions and
    ``async with breaker.attempt()``.

    .. versionadded:: 0.1.0
    """

    @property
    def sync_interval(self) -> float | None:
        """Seconds between closed-state polls, or `None` for never."""
        ...

    async def load(self, name: str) -> SharedState:
        """Return the record of *name*."""
        ...

    async def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        """Open *name*; see `BreakerStore.open`."""
        ...

    async def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        """Grant a probe; see `BreakerStore.acquire_probe`."""
        ...

    async def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe slot; see `BreakerStore.release_probe`."""
        ...

    async def reset(self, name: str) -> SharedState:
        """Close *name*; see `BreakerStore.reset`."""
        ...


class LocalBreakerStore:
    """The default store: the record of one breaker in its own process.

    It holds one record whatever the name (each breaker gets its own store)
    and shares the breaker's lock, which the breaker never holds while it
    calls its store. It is the reference semantics of `BreakerStore`.

    Args:
        clock: The time source of open periods.
        lock: The lock that serializes the operations.
    """

    __slots__ = (
        "_generation",
        "_lock",
        "_open_until",
        "_probe_successes",
        "_probes",
        "_state",
        "clock",
    )

    def __init__(self, clock: Clock, lock: threading.Lock | None = None) -> None:
        self.clock = clock
        self._lock = threading.Lock() if lock is None else lock
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._open_until: float | None = None
        self._probes = 0
        self._probe_successes = 0

    @property
    def sync_interval(self) -> float | None:
        """No one else writes to this store: never poll."""
        return None

    def _shared(self) -> SharedState:
        retry_after = None
        if self._state is BreakerState.OPEN and self._open_until is not None:
            retry_after = max(0.0, self._open_until - self.clock.monotonic())
        return SharedState(
            self._state, self._generation, retry_after, self._probes, self._probe_successes
        )

    def _move(self, state: BreakerState, open_for: float | None = None) -> None:
        self._state = state
        self._generation += 1
        self._probes = self._probe_successes = 0
        self._open_until = None
        if state is BreakerState.OPEN and open_for is not None:
            self._open_until = self.clock.monotonic() + open_for

    def load(self, name: str) -> SharedState:
        """Return the record."""
        del name
        with self._lock:
            return self._shared()

    def open(
        self, name: str, *, expected_generation: int | None, open_for: float | None
    ) -> SharedState:
        """Open; see `BreakerStore.open`."""
        del name
        with self._lock:
            if expected_generation is None or expected_generation == self._generation:
                self._move(BreakerState.OPEN, open_for)
            return self._shared()

    def acquire_probe(self, name: str, *, max_probes: int) -> ProbeGrant:
        """Grant a probe; see `BreakerStore.acquire_probe`."""
        del name
        with self._lock:
            if (
                self._state is BreakerState.OPEN
                and self._open_until is not None
                and self.clock.monotonic() >= self._open_until
            ):
                self._move(BreakerState.HALF_OPEN)
            granted = self._state is BreakerState.HALF_OPEN and self._probes < max_probes
            if granted:
                self._probes += 1
            return ProbeGrant(self._shared(), granted)

    def release_probe(
        self,
        name: str,
        *,
        generation: int,
        success: bool | None,
        success_threshold: int,
        open_for: float,
    ) -> SharedState:
        """Return a probe slot; see `BreakerStore.release_probe`."""
        del name
        with self._lock:
            if self._generation == generation and self._state is BreakerState.HALF_OPEN:
                self._probes -= 1
                if success is True:
                    self._probe_successes += 1
                    if self._probe_successes >= success_threshold:
                        self._move(BreakerState.CLOSED)
                elif success is False:
                    self._move(BreakerState.OPEN, open_for)
            return self._shared()

    def reset(self, name: str) -> SharedState:
        """Close; see `BreakerStore.reset`."""
        del name
        with self._lock:
            if self._state is not BreakerState.CLOSED:
                self._move(BreakerState.CLOSED)
            return self._shared()
