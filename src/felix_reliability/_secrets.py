"""Secrets that never print, and masking of secret shapes in text and data."""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Final, NoReturn, cast

__all__ = ["DEFAULT_SECRET_KEYS", "MASK", "Secret", "redact", "redact_data"]

MASK: Final = "[REDACTED]"

DEFAULT_SECRET_KEYS: Final = frozenset(
    {"authorization", "token", "bot_token", "password", "passwd", "secret", "api_key", "apikey"}
)

# Shapes masked wherever they appear. Order matters: credentials in URLs and
# Authorization values first, so a token inside them is masked once. Each shape
# has a needle that any match contains (in the case-folded text when the
# pattern ignores case): a substring test is far cheaper than a regex search,
# and most log lines hold no secret at all.
_PATTERNS: Final = (
    # scheme://user:password@host -> scheme://[REDACTED]@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]*@"), rf"\1{MASK}@", "://", False),
    # Authorization: Bearer abc / authorization=abc
    (
        re.compile(
            r"(?i)\b(proxy-)?(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?[^\s,;\"'}]+"
        ),
        rf"\1\2{MASK}",
        "authorization",
        True,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{MASK}", "bearer", True),
    # Telegram bot tokens: <bot id>:<35 characters>, also inside /bot<token>/ URLs.
    (re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}"), MASK, ":", False),
)
# Letters that re's IGNORECASE matches to ASCII ones but str.lower() does not map there.
_ASCII_FOLD: Final = str.maketrans({"\u0131": "i", "\u0130": "i", "\u017f": "s", "\u212a": "k"})

_registry_lock = threading.Lock()
_registered: frozenset[str] = frozenset()
_MIN_REGISTERED_LENGTH: Final = 8


class Secret:
    """A string that is masked whenever it is printed, logged or repr'd.

    Get the value with `reveal()` at the one place that needs it. A secret
    of 8 or more characters is also remembered, so `redact` masks it in any
    text even when it has no known shape. Secrets cannot be pickled.

    >>> token = Secret("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi")
    >>> token
    Secret('[REDACTED]')
    >>> redact(f"GET /bot{token.reveal()}/sendMessage")
    'GET /bot[REDACTED]/sendMessage'

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise TypeError(f"value must be a str, got {type(value).__name__}")
        self._value = value
        if len(value) >= _MIN_REGISTERED_LENGTH:
            _register(value)

    def reveal(self) -> str:
        """Return the secret value."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def _register(value: str) -> None:
    global _registered  # noqa: PLW0603 - copy-on-write set read without a lock
    with _registry_lock:
        _registered = _registered | {value}


def redact(text: str) -> str:
    """Return *text* with known secret shapes and registered `Secret` values masked.

    Masked: Telegram bot tokens, ``Authorization`` and ``Bearer`` values,
    credentials in URLs, and the value of every `Secret` of 8 or more
    characters created in this process.

    >>> redact("Authorization: Bearer abc.def")
    'Authorization: [REDACTED]'

    .. versionadded:: 0.1.0
    """
    for secret in _registered:
        if secret in text:
            text = text.replace(secret, MASK)
    folded = text.lower() if text.isascii() else text.translate(_ASCII_FOLD).lower()
    for pattern, replacement, needle, ignore_case in _PATTERNS:
        if needle in (folded if ignore_case else text):
            text = pattern.sub(replacement, text)
    return text


def redact_data(value: object, *, keys: Iterable[str] = DEFAULT_SECRET_KEYS) -> object:
    """Return a copy of JSON-like *value* with secrets masked.

    Strings are passed through `redact`; in mappings, the value of any key
    whose lower-cased name is in *keys* is replaced by the mask. Lists and
    tuples become lists; other values are returned unchanged.

    >>> redact_data({"chat_id": 1, "Token": "x", "text": "Bearer abc"})
    {'chat_id': 1, 'Token': '[REDACTED]', 'text': 'Bearer [REDACTED]'}

    .. versionadded:: 0.1.0
    """
    secret_keys = keys if isinstance(keys, frozenset) else frozenset(k.lower() for k in keys)
    return _redact_data(value, secret_keys)


def _redact_data(value: object, keys: frozenset[str]) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {
            key: MASK if str(key).lower() in keys else _redact_data(item, keys)
            for key, item in mapping.items()
        }
    if isinstance(value, list | tuple):
        items = cast("list[object] | tuple[object, ...]", value)
        return [_redact_data(item, keys) for item in items]
    if isinstance(value, Secret):
        return MASK
    return value
