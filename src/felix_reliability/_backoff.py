"""Backoff schedules: how long to wait before each retry when the server says nothing."""

from __future__ import annotations

import math
import random
from typing import Literal

import attrs

from felix_reliability._validation import check_non_negative_float, check_positive_float

__all__ = ["Backoff", "JitterName"]

JitterName = Literal["full", "equal", "decorrelated"]


_EXPONENTIAL = "exponential"
_CONSTANT = "constant"
_LINEAR = "linear"


_JITTERS = ("full", "equal", "decorrelated")


def _check_jitter(jitter: object) -> JitterName | None:
    if jitter is None:
        return None
    if jitter not in _JITTERS:
        raise ValueError(f"jitter must be None, 'full', 'equal' or 'decorrelated', got {jitter!r}")
    return jitter  # type: ignore[return-value]  # narrowed by the membership test


def _check_seed(seed: object) -> random.Random:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__} {seed!r}")
    # Not for security: jitter only spreads clients apart.
    return random.Random(seed)  # noqa: S311 - jitter is not a secret


@attrs.frozen(kw_only=True)
class Backoff:
    """A schedule of waits between attempts; build one with a class method.

    `exponential`, `constant` and `linear` each compute a base wait for retry
    number *n* (1 for the wait after the first attempt), apply the jitter, and
    cap the result at `max`, so no wait is ever above `max` or below zero.
    Attempt numbers far beyond any real use (10,000 and more) neither
    overflow nor slow down.

    Jitter spreads clients apart so that they do not retry in lockstep:

    - ``None``: the base wait exactly;
    - ``"full"``: uniform in ``[0, base]``;
    - ``"equal"``: ``base / 2`` plus uniform in ``[0, base / 2]``;
    - ``"decorrelated"``: uniform in ``[initial, previous wait * multiplier]``
      (with ``multiplier=3`` this is the AWS "decorrelated jitter").

    Pass ``seed`` for a reproducible random sequence in tests.

    >>> Backoff.exponential(initial=1.0, multiplier=2.0, max=4.0, jitter=None).schedule(5)
    [1.0, 2.0, 4.0, 4.0, 4.0]
    >>> Backoff.constant(0.5).schedule(3)
    [0.5, 0.5, 0.5]
    >>> Backoff.linear(initial=1.0, increment=2.0, max=10.0).schedule(4)
    [1.0, 3.0, 5.0, 7.0]

    .. versionadded:: 0.1.0
    """

    kind: str = attrs.field(validator=attrs.validators.in_((_EXPONENTIAL, _CONSTANT, _LINEAR)))
    initial: float
    multiplier: float
    increment: float
    max: float
    jitter: JitterName | None
    _random: random.Random = attrs.field(eq=False, repr=False, alias="random")

    @classmethod
    def exponential(
        cls,
        *,
        initial: float = 1.0,
        multiplier: float = 2.0,
        max: float = 30.0,  # noqa: A002 - the contract's name for the cap
        jitter: JitterName | None = "full",
        seed: int | None = None,
    ) -> Backoff:
        """Wait ``initial * multiplier ** (n - 1)``, jittered, at most *max*.

        Args:
            initial: The first base wait in seconds (>= 0).
            multiplier: The growth factor (>= 1).
            max: The cap in seconds (>= 0), applied after jitter.
            jitter: ``None``, ``"full"``, ``"equal"`` or ``"decorrelated"``.
            seed: Seed of this schedule's private random generator.

        Raises:
            ValueError: If a value is out of range (the message names it).
            TypeError: If a value has the wrong type.
        """
        multiplier = check_positive_float("multiplier", multiplier)
        if multiplier < 1:
            raise ValueError(f"multiplier must be >= 1, got {multiplier!r}")
        return cls(
            kind=_EXPONENTIAL,
            initial=check_non_negative_float("initial", initial),
            multiplier=multiplier,
            increment=0.0,
            max=check_non_negative_float("max", max),
            jitter=_check_jitter(jitter),
            random=_check_seed(seed),
        )

    @classmethod
    def constant(
        cls, delay: float, *, jitter: JitterName | None = None, seed: int | None = None
    ) -> Backoff:
        """Wait *delay* seconds (jittered, never above *delay*) before every retry.

        ``Backoff.constant(0)`` retries at once, without calling sleep at all.

        Raises:
            ValueError: If *delay* is negative or not finite.
            TypeError: If a value has the wrong type.
        """
        delay = check_non_negative_float("delay", delay)
        return cls(
            kind=_CONSTANT,
            initial=delay,
            multiplier=1.0,
            increment=0.0,
            max=delay,
            jitter=_check_jitter(jitter),
            random=_check_seed(seed),
        )

    @classmethod
    def linear(
        cls,
        *,
        initial: float = 1.0,
        increment: float = 1.0,
        max: float = 30.0,  # noqa: A002 - the same name as exponential's cap
        jitter: JitterName | None = None,
        seed: int | None = None,
    ) -> Backoff:
        """Wait ``initial + increment * (n - 1)``, jittered, at most *max*.

        Raises:
            ValueError: If a value is negative or not finite.
            TypeError: If a value has the wrong type.
        """
        return cls(
            kind=_LINEAR,
            initial=check_non_negative_float("initial", initial),
            multiplier=1.0,
            increment=check_non_negative_float("increment", increment),
            max=check_non_negative_float("max", max),
            jitter=_check_jitter(jitter),
            random=_check_seed(seed),
        )

    def _base(self, retry: int) -> float:
        kind = self.kind
        if kind == _CONSTANT:
            return self.initial
        steps = retry - 1 if retry > 1 else 0
        if kind == _LINEAR:
            return min(self.initial + self.increment * steps, self.max)
        try:
            grown = self.initial * self.multiplier**steps
        except OverflowError:
            grown = math.inf
        return min(grown, self.max)

    def delay(self, retry: int, previous: float = 0.0) -> float:
        """Return the wait before retry number *retry* (1 for the first retry).

        Args:
            retry: The 1-based number of the retry about to happen.
            previous: The wait before the previous retry (used by
                ``"decorrelated"`` jitter; 0 for the first retry).

        Returns:
            Seconds, in ``[0, max]``.
        """
        base = self._base(retry)
        jitter = self.jitter
        if jitter is None:
            return base
        if jitter == "full":
            wait = self._random.uniform(0.0, base)
        elif jitter == "equal":
            wait = base / 2 + self._random.uniform(0.0, base / 2)
        else:
            high = max(self.initial, previous * self.multiplier)
            wait = self._random.uniform(self.initial, min(high, self.max))
        return min(max(wait, 0.0), self.max)

    def schedule(self, retries: int) -> list[float]:
        """Return the waits before the first *retries* retries (drawing jitter).

        >>> Backoff.exponential(initial=2.0, max=30.0, jitter=None).schedule(3)
        [2.0, 4.0, 8.0]
        """
        waits: list[float] = []
        previous = 0.0
        for number in range(1, retries + 1):
            previous = self.delay(number, previous)
            waits.append(previous)
        return waits
