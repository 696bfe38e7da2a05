"""Hypothesis strategies for the retry tests."""

from __future__ import annotations

from hypothesis import strategies as st

from felix_reliability import Backoff

finite_seconds = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
jitters = st.sampled_from([None, "full", "equal", "decorrelated"])


@st.composite
def backoffs(draw: st.DrawFn) -> Backoff:
    """Any valid Backoff, of any kind, seeded."""
    kind = draw(st.sampled_from(["exponential", "constant", "linear"]))
    jitter = draw(jitters)
    seed = draw(st.integers(min_value=0, max_value=2**32))
    if kind == "exponential":
        return Backoff.exponential(
            initial=draw(finite_seconds),
            multiplier=draw(st.floats(min_value=1.0, max_value=100.0)),
            max=draw(finite_seconds),
            jitter=jitter,
            seed=seed,
        )
    if kind == "constant":
        return Backoff.constant(draw(finite_seconds), jitter=jitter, seed=seed)
    return Backoff.linear(
        initial=draw(finite_seconds),
        increment=draw(finite_seconds),
        max=draw(finite_seconds),
        jitter=jitter,
        seed=seed,
    )


# Text that looks a little like Retry-After values, and anything at all.
retry_after_texts = st.one_of(
    st.text(),
    st.from_regex(r"\A\s*-?\d{0,400}(\.\d{0,20})?\s*\Z"),
    st.builds(
        "{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
        st.sampled_from(["Mon", "Tue", "Wed", "Xyz"]),
        st.integers(-5, 40),
        st.sampled_from(["Jan", "Feb", "Oct", "Foo"]),
        st.integers(-10, 100_000),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["GMT", "UTC", "+0300", "-0000", "PST", "XYZ"]),
    ),
)
