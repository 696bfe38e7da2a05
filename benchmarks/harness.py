"""A small timing harness: our code and the peers in one process, interleaved.

A benchmark module (``bench_*.py`` beside this file) defines ``rows()``,
returning `Row` objects. Each `Case` is a function ``run(n)`` doing ``n``
operations in its own loop, so the loop's cost is the same for every case.
Rounds alternate between cases, so that a noisy neighbour or a frequency change
hits all of them alike. A row with a ``baseline`` reports overhead: each case's
time minus the baseline's (for example a decorated call minus the bare call).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Case", "Result", "Row", "measure"]


@dataclass(frozen=True)
class Case:
    """One contestant: ``run(n)`` performs n operations."""

    name: str
    run: Callable[[int], object]


@dataclass(frozen=True)
class Row:
    """One comparison: ours against peers, with targets as maximum ratios ours/peer."""

    title: str
    ours: Case
    peers: tuple[Case, ...] = ()
    baseline: Case | None = None
    targets: dict[str, float] = field(default_factory=dict)
    operations: int = 20_000
    note: str = ""
    #: Rounds for this row instead of the runner's: slow, noisy rows (an
    #: fsync per operation) use many short rounds, interleaved finely.
    rounds: int | None = None


@dataclass(frozen=True)
class Result:
    """Nanoseconds per operation of each case (overhead when the row has a baseline)."""

    row: Row
    median_ns: dict[str, float]
    min_ns: dict[str, float]

    def ratio(self, peer: str) -> float:
        """Return ours/peer on medians (inf when the peer costs nothing)."""
        peer_ns = self.median_ns[peer]
        if peer_ns <= 0:
            return float("inf")
        return self.median_ns[self.row.ours.name] / peer_ns

    def min_ratio(self, peer: str) -> float:
        """Return ours/peer on the fastest rounds (inf when the peer costs nothing)."""
        peer_ns = self.min_ns[peer]
        if peer_ns <= 0:
            return float("inf")
        return self.min_ns[self.row.ours.name] / peer_ns


def _time_ns(case: Case, n: int) -> float:
    start = time.perf_counter_ns()
    case.run(n)
    return (time.perf_counter_ns() - start) / n


def measure(row: Row, *, rounds: int, scale: float = 1.0) -> Result:
    """Time every case of *row* over *rounds* interleaved rounds."""
    cases = [row.ours, *row.peers] + ([row.baseline] if row.baseline else [])
    n = max(1, int(row.operations * scale))
    if row.rounds is not None:
        rounds = max(rounds, int(row.rounds * scale))
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    for case in cases:  # warm up caches, lazily created objects and the allocator
        case.run(max(1, n // 10))
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_index in range(rounds):
            order = cases if round_index % 2 == 0 else list(reversed(cases))
            for case in order:
                samples[case.name].append(_time_ns(case, n))
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    minimums = {name: min(values) for name, values in samples.items()}
    if row.baseline is not None:
        base_median = medians.pop(row.baseline.name)
        base_min = minimums.pop(row.baseline.name)
        medians = {name: value - base_median for name, value in medians.items()}
        minimums = {name: value - base_min for name, value in minimums.items()}
    return Result(row=row, median_ns=medians, min_ns=minimums)
