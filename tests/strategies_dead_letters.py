"""Hypothesis strategies for dead letters."""

from __future__ import annotations

from datetime import UTC

from hypothesis import strategies as st

from felix_reliability import DeadLetter, DeadLetterReason
from tests.strategies import json_values

#: Any unicode text a letter may carry (no lone surrogates: they are not UTF-8).
unicode_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)

#: Aware UTC timestamps.
utc_datetimes = st.datetimes(timezones=st.just(UTC))

#: Correlation contexts: a request id and unicode fields.
contexts = st.dictionaries(unicode_text, unicode_text | json_values, max_size=5)

#: Arbitrary, JSON-safe dead letters with unique ids.
dead_letters = st.builds(
    DeadLetter,
    id=st.uuids().map(lambda value: value.hex),
    operation=unicode_text,
    payload=json_values,
    reason=st.sampled_from(DeadLetterReason),
    error_type=unicode_text,
    error_message=unicode_text,
    attempts=st.integers(min_value=0, max_value=1000),
    first_failure_at=utc_datetimes,
    last_failure_at=utc_datetimes,
    created_at=utc_datetimes,
    context=contexts,
    replay_count=st.integers(min_value=0, max_value=1000),
)
