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

#: Pieces of text that redact() masks or nearly masks, in several spellings.
_secretish_pieces = st.sampled_from(
    [
        "Authorization: Bearer abc.def",
        "authorization=xyz",
        "AUTHOR\u0131ZATION=xyz",
        "bearer  tok",
        "https://user:pw@example.org/x",
        "://",
        "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "12:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "token",
        '"token":',
        "\u03a3",
        "\u0130",
        "\u212a",
        "plain words",
    ]
)
secretish_text = st.lists(_secretish_pieces | unicode_text, max_size=4).map(" ".join)

#: Mapping keys near the secret key names: other cases, affixes, exotic letters.
_KEY_NAMES = ("token", "Token", "BOT_TOKEN", "my_token", "password", "PassWd", "api_key")
_MORE_KEY_NAMES = (
    "ApiKey",
    "secret",
    "Authorization",
    "tokens",
    "\u212aey",
    "note",
    "api.key",
    "None",
)
secretish_keys = st.sampled_from((*_KEY_NAMES, *_MORE_KEY_NAMES)) | unicode_text

#: JSON payloads and contexts whose keys and strings are often secret-like.
secretish_json = st.recursive(
    st.none() | st.booleans() | st.integers() | secretish_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(secretish_keys, children, max_size=4)
    ),
    max_leaves=12,
)

#: Letters whose every text may hold something to mask.
secretish_letters = st.builds(
    DeadLetter,
    id=st.uuids().map(lambda value: value.hex),
    operation=secretish_text,
    payload=secretish_json,
    reason=st.sampled_from(DeadLetterReason),
    error_type=secretish_text,
    error_message=secretish_text,
    attempts=st.integers(min_value=0, max_value=1000),
    first_failure_at=utc_datetimes,
    last_failure_at=utc_datetimes,
    created_at=utc_datetimes,
    context=st.dictionaries(secretish_keys, secretish_json, max_size=4),
)
