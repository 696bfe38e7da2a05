"""Hypothesis strategies for the pacing tests."""

from __future__ import annotations

from hypothesis import strategies as st

from felix_reliability.adapters.telegram import TelegramPacing

chats = st.sampled_from([1, 2, 3, "@news"])


@st.composite
def pacings(draw: st.DrawFn) -> TelegramPacing:
    """A valid pacing with small, readable numbers."""
    return TelegramPacing(
        per_chat_interval=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
        global_rate=draw(st.sampled_from([1.0, 4.0, 30.0, 100.0])),
        flood_chats=draw(st.integers(min_value=1, max_value=3)),
    )


# ("send", chat), ("advance", seconds) or ("pause", chat, retry_after).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), chats),
        st.tuples(st.just("advance"), st.floats(min_value=0.0, max_value=2.0)),
        st.tuples(st.just("pause"), chats, st.sampled_from([0.0, 0.5, 5.0])),
    ),
    max_size=60,
)
