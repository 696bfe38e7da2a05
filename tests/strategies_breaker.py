"""Hypothesis strategies for circuit breaker tests."""

from __future__ import annotations

from hypothesis import strategies as st

from felix_reliability import Outcome

#: Small breaker configurations, so that a few steps reach every state.
failure_thresholds = st.integers(min_value=1, max_value=4)
success_thresholds = st.integers(min_value=1, max_value=3)
max_probes = st.integers(min_value=1, max_value=3)
recovery_timeouts = st.sampled_from([1.0, 2.5, 10.0])
#: Clock steps: often none, sometimes short of, sometimes past a recovery timeout.
clock_steps = st.sampled_from([0.0, 0.5, 1.0, 2.5, 5.0, 12.0])
outcomes = st.sampled_from(list(Outcome))
