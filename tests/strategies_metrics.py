"""Hypothesis strategies for the metrics tests."""

from __future__ import annotations

from hypothesis import strategies as st

label_values = st.sampled_from(["send", "poll", "sync"])
outcomes = st.sampled_from(["success", "failure"])

#: A record: seconds to advance before it, operation, outcome, value.
records = st.tuples(
    st.floats(min_value=0, max_value=7_200, allow_nan=False),
    label_values,
    outcomes,
    st.integers(min_value=0, max_value=5).map(float),
)
record_lists = st.lists(records, max_size=40)
