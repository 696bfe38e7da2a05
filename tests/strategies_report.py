"""Hypothesis strategies for the demo report: any valid `DemoTimeline`."""

from __future__ import annotations

from hypothesis import strategies as st

from felix_reliability._demo_report import (
    MAX_SECONDS,
    SUMMARY_KEYS,
    AlertEvent,
    BreakerTransition,
    DemoTimeline,
    HealthSample,
    IntervalSample,
)

#: Times of the scripted day, from the first instant to the longest the report draws.
times = st.floats(min_value=0.0, max_value=MAX_SECONDS, allow_nan=False, allow_infinity=False)

#: Alert names from anywhere: markup, quotes, ampersands, control characters.
names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)

breaker_states = st.sampled_from(["closed", "half_open", "open"])
rates = st.none() | st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
counts = st.integers(min_value=0, max_value=10**6)


@st.composite
def timelines(draw: st.DrawFn) -> DemoTimeline:
    """Draw a valid timeline: increasing samples, sorted events, any counts."""
    interval = draw(st.floats(min_value=1e-3, max_value=86400.0, allow_nan=False))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=5), max_size=30))
    starts: list[float] = []
    for gap in gaps:
        start = (starts[-1] if starts else 0.0) + gap * interval
        if start > MAX_SECONDS:
            break
        starts.append(start)
    samples = [
        IntervalSample(
            start=start,
            breaker_state=draw(breaker_states),
            attempted=draw(counts),
            delivered=draw(counts),
            dead_lettered=draw(counts),
            success_rate=draw(rates),
        )
        for start in starts
    ]
    transitions = [
        BreakerTransition(at=at, from_state=draw(breaker_states), to_state=draw(breaker_states))
        for at in sorted(draw(st.lists(times, max_size=10)))
    ]
    alerts = [
        AlertEvent(
            at=at,
            name=draw(names),
            severity=draw(st.sampled_from(["warning", "critical"])),
            edge=draw(st.sampled_from(["new", "escalated", "resolved"])),
        )
        for at in sorted(draw(st.lists(times, max_size=10)))
    ]
    health = [
        HealthSample(at=at, status=draw(st.sampled_from(["pass", "warn", "fail"])))
        for at in sorted(draw(st.lists(times, max_size=10)))
    ]
    keys = st.sampled_from(list(SUMMARY_KEYS)) | names.filter(bool)
    summary = draw(st.dictionaries(keys, counts, max_size=10))
    return DemoTimeline(
        interval=interval,
        samples=samples,
        transitions=transitions,
        alerts=alerts,
        health=health,
        summary=summary,
    )
