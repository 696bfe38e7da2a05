"""The breaker against a small reference model, driven by hypothesis' RuleBasedStateMachine."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from felix_reliability import BreakerPermit, BreakerState, CircuitBreaker, Outcome
from felix_reliability.exceptions import CircuitOpenError
from felix_reliability.testing import FakeClock
from tests.strategies_breaker import (
    clock_steps,
    failure_thresholds,
    max_probes,
    outcomes,
    recovery_timeouts,
    success_thresholds,
)

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class IgnoredError(LookupError):
    """Matches `ignore`."""


class FailedError(ConnectionError):
    """Matches `failure_on`."""


@dataclass
class Model:
    """What the breaker should do, written as plainly as possible."""

    threshold: int
    successes_needed: int
    probes_max: int
    timeout: float
    state: BreakerState = CLOSED
    generation: int = 0
    period: int = 0  # identity of the current closed period
    consecutive: int = 0
    open_until: float = 0.0
    forced: bool = False
    disabled: bool = False
    probes: int = 0
    probe_successes: int = 0
    totals: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("success", "failure", "ignored", "rejected"), 0)
    )

    def move(self, state: BreakerState, now: float) -> None:
        self.state = state
        self.generation += 1
        self.probes = self.probe_successes = 0
        if state is CLOSED:
            self.consecutive = 0
            self.period += 1
        if state is OPEN:
            self.forced = False
            self.open_until = now + self.timeout

    def admit(self, now: float) -> tuple[str, int] | None:
        """Return the admission (kind, token) or None when rejected."""
        if self.disabled:
            return ("disabled", 0)
        if self.state is CLOSED:
            return ("closed", self.period)
        if self.state is OPEN:
            if self.forced or now < self.open_until:
                self.totals["rejected"] += 1
                return None
            self.move(HALF_OPEN, now)
        if self.probes < self.probes_max:
            self.probes += 1
            return ("probe", self.generation)
        self.totals["rejected"] += 1
        return None

    def finish(self, admission: tuple[str, int], outcome: Outcome, now: float) -> None:
        kind, token = admission
        if kind == "disabled":
            return
        self.totals[outcome.value] += 1
        if kind == "closed":
            if token != self.period or self.state is not CLOSED or self.disabled:
                return
            if outcome is Outcome.SUCCESS:
                self.consecutive = 0
            elif outcome is Outcome.FAILURE:
                self.consecutive += 1
                if self.consecutive >= self.threshold:
                    self.move(OPEN, now)
            return
        if token != self.generation or self.state is not HALF_OPEN:
            return
        self.probes -= 1
        if outcome is Outcome.SUCCESS:
            self.probe_successes += 1
            if self.probe_successes >= self.successes_needed:
                self.move(CLOSED, now)
        elif outcome is Outcome.FAILURE:
            self.move(OPEN, now)


def run_block(permit: BreakerPermit, outcome: Outcome) -> None:
    """Leave an entered permit with *outcome*."""
    if outcome is Outcome.SUCCESS:
        permit.__exit__(None, None, None)
    else:
        error: Exception = FailedError() if outcome is Outcome.FAILURE else IgnoredError()
        permit.__exit__(type(error), error, None)


class BreakerMachine(RuleBasedStateMachine):
    """Drive one breaker and one model with the same steps; they must always agree."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.held: list[tuple[BreakerPermit, tuple[str, int]]] = []
        self.model = Model(1, 1, 1, 1.0)
        self.breaker = CircuitBreaker(name="model", clock=self.clock)

    @initialize(
        threshold=failure_thresholds,
        needed=success_thresholds,
        probes=max_probes,
        timeout=recovery_timeouts,
    )
    def configure(self, threshold: int, needed: int, probes: int, timeout: float) -> None:
        self.model = Model(threshold, needed, probes, timeout)
        self.breaker = CircuitBreaker(
            name="model",
            failure_threshold=threshold,
            success_threshold=needed,
            half_open_max_calls=probes,
            recovery_timeout=timeout,
            failure_on=(FailedError,),
            ignore=(IgnoredError,),
            clock=self.clock,
        )

    def enter(self) -> tuple[BreakerPermit | None, tuple[str, int] | None]:
        expected = self.model.admit(self.clock.monotonic())
        permit = self.breaker.attempt()
        try:
            permit.__enter__()
        except CircuitOpenError:
            assert expected is None
            return None, None
        assert expected is not None
        return permit, expected

    @rule(outcome=outcomes)
    def call(self, outcome: Outcome) -> None:
        permit, admission = self.enter()
        if permit is not None and admission is not None:
            self.model.finish(admission, outcome, self.clock.monotonic())
            run_block(permit, outcome)

    @rule(outcome=outcomes)
    def decorated_call(self, outcome: Outcome) -> None:
        expected = self.model.admit(self.clock.monotonic())

        @self.breaker
        def work() -> str:
            if outcome is Outcome.FAILURE:
                raise FailedError
            if outcome is Outcome.IGNORED:
                raise IgnoredError
            return "done"

        try:
            work()
        except CircuitOpenError:
            assert expected is None
            return
        except (FailedError, IgnoredError):
            pass
        assert expected is not None
        self.model.finish(expected, outcome, self.clock.monotonic())

    @precondition(lambda self: len(self.held) < 4)
    @rule()
    def begin(self) -> None:
        permit, admission = self.enter()
        if permit is not None and admission is not None:
            self.held.append((permit, admission))

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data(), outcome=outcomes)
    def end(self, data: st.DataObject, outcome: Outcome) -> None:
        index = data.draw(st.integers(0, len(self.held) - 1))
        permit, admission = self.held.pop(index)
        self.model.finish(admission, outcome, self.clock.monotonic())
        run_block(permit, outcome)

    @rule(seconds=clock_steps)
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule()
    def force_open(self) -> None:
        self.breaker.force_open()
        self.model.move(OPEN, self.clock.monotonic())
        self.model.forced = True

    @rule()
    def disable(self) -> None:
        self.breaker.disable()
        self.model.disabled = True

    @rule()
    def reset(self) -> None:
        self.breaker.reset()
        model = self.model
        model.disabled = False
        if model.state is not CLOSED:
            model.move(CLOSED, self.clock.monotonic())
        else:
            model.consecutive = 0
            model.period += 1

    @invariant()
    def agrees_with_the_model(self) -> None:
        model = self.model
        snapshot = self.breaker.snapshot()
        assert model.state == snapshot.state
        totals = model.totals
        actual = {
            "success": snapshot.total_successes,
            "failure": snapshot.total_failures,
            "ignored": snapshot.total_ignored,
            "rejected": snapshot.total_rejections,
        }
        assert totals == actual
        assert snapshot.total_calls == totals["success"] + totals["failure"] + totals["ignored"]
        if model.state is OPEN:
            expected = None if model.forced else max(0.0, model.open_until - self.clock.monotonic())
            assert expected == snapshot.retry_after or math.isclose(
                expected or 0.0, snapshot.retry_after or 0.0
            )
        elif model.state is HALF_OPEN:
            assert model.probe_successes == snapshot.success_count
            assert model.probes <= model.probes_max
        elif not model.disabled:
            assert model.consecutive == snapshot.failure_count


BreakerMachine.TestCase.settings = settings(
    settings.default,
    # Under the ci profile (300 examples) this runs every example the profile asks for.
    max_examples=max(settings.default.max_examples, 50),
    stateful_step_count=50,
)
TestBreakerMatchesTheModel = BreakerMachine.TestCase
