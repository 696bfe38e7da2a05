"""Hypothesis strategies for the logging tests: hostile keys, values and messages."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.strategies import hostile_text

#: Text a caller might log: control characters, separators, quotes, huge strings.
log_text = hostile_text | st.text(max_size=5) | st.text(min_size=190, max_size=2000)

#: Anything a caller might pass as a field value.
field_values = (
    log_text
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.floats()
    | st.booleans()
    | st.none()
    | st.lists(st.integers(), max_size=3)
)

#: Field names, including ones no identifier could be (given as ``**{"a b": 1}``).
_PARAMETERS = frozenset({"msg", "exc_info", "stack_info", "stacklevel", "extra", "request_id"})
field_keys = (
    st.text(min_size=1, max_size=30)
    | st.sampled_from(
        ["orderId", "message", "level", "time", "logger", "exception", "stack", "requestId"]
    )
).filter(lambda key: key not in _PARAMETERS)

#: Fields bound or given for one line.
fields = st.dictionaries(field_keys, field_values, max_size=4)
