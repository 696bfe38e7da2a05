"""Dead letters: the record of a call that failed for good, and where it goes.

A `DeadLetter` is a frozen value that serialises to JSON (never pickle). A
`DeadLetterSink` accepts letters; a `DeadLetterStore` also reads, updates and
deletes them so they can be replayed. Every sink masks secrets before a letter
leaves the process (see `mask_letter`).

Who counts what: the Guard counts ``felix_dead_letters{operation, reason}``,
once per letter it builds. A sink counts only its own write failures,
``felix_dead_letter_write_failures{sink}``, when it was given a collector.
Nothing is counted twice.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Protocol, Self, TypeVar, cast, runtime_checkable

import attrs

from felix_reliability import _secrets
from felix_reliability._clock import Clock, SystemClock
from felix_reliability._correlation import get_context
from felix_reliability._metrics import DEAD_LETTER_WRITE_FAILURES, MetricsCollector
from felix_reliability._secrets import (
    _ASCII_FOLD,  # pyright: ignore[reportPrivateUsage] - folded as redact() folds
    DEFAULT_SECRET_KEYS,
    Secret,
    redact,
    redact_data,
)
from felix_reliability._validation import check_count
from felix_reliability.exceptions import ConfigurationError, DeadLetterStoreError

__all__ = [
    "SCHEMA_VERSION",
    "DeadLetter",
    "DeadLetterReason",
    "DeadLetterSink",
    "DeadLetterStore",
    "JsonlDeadLetterSink",
    "LoggingDeadLetterSink",
    "MemoryDeadLetterStore",
    "Redactor",
    "mask_letter",
    "open_dead_letter_store",
    "read_jsonl_letters",
]

#: The version of the JSON shape written by `DeadLetter.to_json`.
SCHEMA_VERSION: Final = 1

_logger = logging.getLogger("felix_reliability.dead_letters")
_encode_string: Final = json.encoder.encode_basestring
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_T = TypeVar("_T")

# `JSONEncoder.encode` builds a new C encoder on every call; this one is built
# once. It keeps no circular-reference markers: a cycle ends in a
# RecursionError, which `DeadLetter.to_json` reports as a ValueError.
_make_encoder = cast(
    "Callable[..., Callable[[object, int], Iterable[str]]] | None",
    getattr(json.encoder, "c_make_encoder", None),
)
_C_ENCODER: Final = (
    None
    if _make_encoder is None
    else _make_encoder(None, _ENCODER.default, _encode_string, None, ":", ",", False, False, False)  # noqa: FBT003 - the C encoder takes positional arguments only
)


def _encode(value: object) -> str:
    if _C_ENCODER is None:  # pragma: no cover - interpreters without CPython's JSON accelerator
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


class DeadLetterReason(enum.StrEnum):
    """Why a call was dead-lettered.

    ``pending`` marks a write-ahead letter put before the first attempt: the
    call has not failed (yet), or its worker died mid-call.

    .. versionadded:: 0.1.0
    """

    PENDING = "pending"
    RETRIES_EXHAUSTED = "retries_exhausted"
    CIRCUIT_OPEN = "circuit_open"
    PERMANENT_ERROR = "permanent_error"
    RETRY_AFTER_TOO_LONG = "retry_after_too_long"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    BUDGET_EXHAUSTED = "budget_exhausted"


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise TypeError(f"timestamps must be datetimes, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(f"timestamps must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _reason(value: DeadLetterReason | str) -> DeadLetterReason:
    try:
        return DeadLetterReason(value)
    except ValueError:
        choices = ", ".join(reason.value for reason in DeadLetterReason)
        raise ConfigurationError(f"reason must be one of {choices}; got {value!r}") from None


def _no_context() -> dict[str, object]:
    return {}


def _context(value: Mapping[str, object]) -> dict[str, object]:
    return dict(value)


def _error_type(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


@attrs.frozen(eq=True)
class DeadLetter:
    """A call that failed for good, with what is needed to replay it.

    Build one with `create`; read one back with `from_json`. Timestamps are
    timezone-aware UTC datetimes (naive ones are refused) and ISO 8601 in
    JSON. *payload* and *context* must be JSON-safe.

    Args:
        id: The letter id, also the idempotency key for replay handlers.
        operation: The dependency call, such as ``"telegram.send_message"``.
        payload: The JSON-safe arguments needed to replay the call.
        reason: A `DeadLetterReason` (or its string value).
        error_type: The qualified name of the last exception's class.
        error_message: The last exception's message.
        attempts: How many attempts were made.
        first_failure_at: When the first attempt failed.
        last_failure_at: When the last attempt failed.
        created_at: When the letter was created.
        context: The correlation context (``requestId`` and fields).
        replay_count: How many replays refused this letter.
        schema_version: The JSON shape version.

    >>> letter = DeadLetter.create(
    ...     operation="telegram.send_message",
    ...     payload={"chat_id": 42, "text": "Order 7 is ready"},
    ...     reason="retries_exhausted",
    ...     exception=TimeoutError("read timed out"),
    ...     attempts=4,
    ...     clock=felix_reliability.testing.FakeClock(),
    ... )
    >>> letter.reason.value, letter.error_type, letter.created_at.isoformat()
    ('retries_exhausted', 'TimeoutError', '2023-11-14T22:13:20+00:00')
    >>> DeadLetter.from_json(letter.to_json()) == letter
    True

    .. versionadded:: 0.1.0
    """

    id: str
    operation: str
    payload: object
    reason: DeadLetterReason = attrs.field(converter=_reason)
    error_type: str
    error_message: str
    attempts: int
    first_failure_at: datetime = attrs.field(converter=_utc)
    last_failure_at: datetime = attrs.field(converter=_utc)
    created_at: datetime = attrs.field(converter=_utc)
    context: dict[str, object] = attrs.field(factory=_no_context, converter=_context)
    replay_count: int = 0
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def create(
        cls,
        *,
        operation: str,
        payload: object,
        reason: DeadLetterReason | str,
        exception: BaseException | None = None,
        attempts: int = 1,
        first_failure_at: datetime | None = None,
        context: Mapping[str, object] | None = None,
        clock: Clock | None = None,
    ) -> DeadLetter:
        """Build a letter in one call: a new id, timestamps from *clock*, the current context.

        Args:
            operation: The dependency call that failed.
            payload: The JSON-safe arguments needed to replay it.
            reason: Why it was dead-lettered.
            exception: The last exception (its type and message are kept),
                or `None` for a ``pending`` letter.
            attempts: How many attempts were made.
            first_failure_at: When the first attempt failed (default: now).
            context: The correlation context (default: `get_context()`).
            clock: Where "now" comes from (its `wall` time; default
                `SystemClock`).

        Returns:
            The new letter, with ``replay_count`` 0.

        .. versionadded:: 0.1.0
        """
        now = datetime.fromtimestamp((clock or _SYSTEM_CLOCK).wall(), UTC)
        return cls(
            id=uuid.uuid4().hex,
            operation=operation,
            payload=payload,
            reason=reason,
            error_type="" if exception is None else _error_type(exception),
            error_message="" if exception is None else str(exception),
            attempts=attempts,
            first_failure_at=now if first_failure_at is None else first_failure_at,
            last_failure_at=now,
            created_at=now,
            context=get_context() if context is None else context,
        )

    def to_dict(self) -> dict[str, object]:
        """Return the letter as a JSON-safe dict (timestamps as ISO 8601 strings).

        .. versionadded:: 0.1.0
        """
        return {
            "schema_version": self.schema_version,
            "id": self.id,
            "operation": self.operation,
            "reason": self.reason.value,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "attempts": self.attempts,
            "first_failure_at": self.first_failure_at.isoformat(),
            "last_failure_at": self.last_failure_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "replay_count": self.replay_count,
            "context": self.context,
            "payload": self.payload,
        }

    def to_json(self) -> str:
        """Return the letter as one line of JSON.

        Raises:
            TypeError: If the payload or the context is not JSON-safe.
            ValueError: If they hold NaN or an infinity, or contain themselves.

        .. versionadded:: 0.1.0
        """
        # Hand-assembled (it is on every put's path); the same text as
        # encoding `to_dict()`. Timestamps that are equal are formatted once.
        try:
            # One encoder call for both: '{"context":...,"payload":...}' minus its brace.
            tail = _encode({"context": self.context, "payload": self.payload})[1:]
        except RecursionError:
            raise ValueError("payload or context is circular or nested too deeply") from None
        created = self.created_at.isoformat()
        first = created if self.first_failure_at == self.created_at else None
        last = created if self.last_failure_at == self.created_at else None
        string = _encode_string
        return (
            f'{{"schema_version":{int(self.schema_version)},"id":{string(self.id)},'
            f'"operation":{string(self.operation)},"reason":{string(self.reason)},'
            f'"error_type":{string(self.error_type)},'
            f'"error_message":{string(self.error_message)},"attempts":{int(self.attempts)},'
            f'"first_failure_at":"{first or self.first_failure_at.isoformat()}",'
            f'"last_failure_at":"{last or self.last_failure_at.isoformat()}",'
            f'"created_at":"{created}","replay_count":{int(self.replay_count)},{tail}'
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DeadLetter:
        """Build a letter from the shape `to_dict` returns.

        Raises:
            ValueError: If *data* is not a dead letter of a known schema version.

        .. versionadded:: 0.1.0
        """
        try:
            version = _schema_version(data)
            return cls(
                id=_field(data, "id", str),
                operation=_field(data, "operation", str),
                payload=data["payload"],
                reason=_field(data, "reason", str),
                error_type=_field(data, "error_type", str),
                error_message=_field(data, "error_message", str),
                attempts=_field(data, "attempts", int),
                first_failure_at=datetime.fromisoformat(_field(data, "first_failure_at", str)),
                last_failure_at=datetime.fromisoformat(_field(data, "last_failure_at", str)),
                created_at=datetime.fromisoformat(_field(data, "created_at", str)),
                context=cast("dict[str, object]", _field(data, "context", dict)),
                replay_count=_field(data, "replay_count", int),
                schema_version=version,
            )
        except KeyError as exc:
            raise ValueError(f"not a dead letter: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a dead letter: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> DeadLetter:
        """Parse a letter written by `to_json`.

        Raises:
            ValueError: If *text* is not the JSON of a dead letter.

        .. versionadded:: 0.1.0
        """
        data: object = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"not a dead letter: a JSON {type(data).__name__}, not an object")  # noqa: TRY004 - bad input text is a ValueError, as json.loads says
        return cls.from_dict(cast("dict[str, object]", data))


def _schema_version(data: Mapping[str, object]) -> int:
    version = _field(data, "schema_version", int)
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema_version {version} is newer than this library's {SCHEMA_VERSION}")
    return version


def _field(data: Mapping[str, object], name: str, kind: type[_T]) -> _T:
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"field {name!r} must be a {kind.__name__}, got {type(value).__name__}")
    return value


_SYSTEM_CLOCK: Final = SystemClock()

#: A hook that returns a copy of a letter with more data masked.
Redactor = Callable[[DeadLetter], DeadLetter]


def mask_letter(
    letter: DeadLetter, *, keys: Iterable[str] = DEFAULT_SECRET_KEYS, extra: Redactor | None = None
) -> DeadLetter:
    """Return *letter* with secrets masked in its payload, error message and context.

    Known secret shapes (Telegram bot tokens, ``Authorization``/``Bearer``
    values, URL credentials, registered `Secret` values) are always masked;
    mapping values under any of *keys* are replaced; then *extra* runs. A
    letter with nothing to mask is returned as is.
    """
    secret_keys = keys if isinstance(keys, frozenset) else frozenset(k.lower() for k in keys)
    masked = letter
    if _needs_mask(letter.payload, secret_keys) or _needs_mask(letter.context, secret_keys):
        masked = attrs.evolve(
            letter,
            payload=redact_data(letter.payload, keys=secret_keys),
            context=cast("dict[str, object]", redact_data(letter.context, keys=secret_keys)),
        )
    if _needs_mask(letter.error_message, secret_keys):
        masked = attrs.evolve(masked, error_message=redact(letter.error_message))
    return masked if extra is None else extra(masked)


# Every shape `redact` masks contains one of these; text without them (and
# without a registered `Secret`) is left alone without running the patterns.
_SECRET_HINT: Final = re.compile(r"(?i)://|authorization|bearer|\d{3}:")


# A regex with a literal first character is scanned for quickly.
_TOKEN_HINT: Final = re.compile(r":[A-Za-z0-9_-]{30}")


# Every shape `redact` masks contains one of these in the text folded as it
# folds it (a bot token is found by `_TOKEN_HINT` instead).
_REDACT_HINTS: Final = ("://", "authorization", "bearer")


def _needles(keys: frozenset[str]) -> tuple[str, ...] | None:
    """Return substrings, one of which the folded JSON of a letter to mask contains.

    They are the `_REDACT_HINTS` and, for each secret key, ``name":``: a
    mapping key whose lower-cased name is in *keys* is written ``"Name":``.
    That holds for printable ASCII names that JSON writes unescaped and that
    no other key's ``str()`` turns into (``None`` is written ``null``,
    numbers as digits, a mixed-in enum member as its value, not
    ``Class.NAME``); for any other configured name there are no needles
    (`None`) and every letter is masked the slow way. A needle that contains
    another is dropped: the shorter one finds whatever it would.
    """
    for key in keys:
        if not (key.isascii() and key.isprintable()) or (
            '"' in key or "\\" in key or "." in key or key == "none" or key[:1] in "-0123456789"
        ):
            return None
    found = {*_REDACT_HINTS, *(f'{key}":' for key in keys)}
    return tuple(
        sorted(needle for needle in found if not any(o in needle for o in found - {needle}))
    )


def _registered_in(text: str) -> bool:
    registered = _secrets._registered  # noqa: SLF001 - the Secret values redact() masks  # pyright: ignore[reportPrivateUsage]
    return bool(registered) and any(
        secret in text or _encode_string(secret)[1:-1] in text for secret in registered
    )


def _needs_mask(value: object, keys: frozenset[str]) -> bool:
    """Say whether `redact_data` could change *value* (concrete types first: this is hot)."""
    kind = type(value)
    if kind is str:
        text = cast("str", value)
        registered = _secrets._registered  # noqa: SLF001 - the Secret values redact() masks  # pyright: ignore[reportPrivateUsage]
        return _SECRET_HINT.search(text) is not None or (
            bool(registered) and any(secret in text for secret in registered)
        )
    if kind is int or kind is float or kind is bool or value is None:
        return False
    if isinstance(value, Mapping):
        for key, item in cast("Mapping[object, object]", value).items():
            if str(key).lower() in keys or _needs_mask(item, keys):
                return True
        return False
    if isinstance(value, list | tuple):
        return any(_needs_mask(item, keys) for item in cast("list[object]", value))
    return isinstance(value, str | Secret)


@runtime_checkable
class DeadLetterSink(Protocol):
    """Somewhere a dead letter can be written.

    `put` returns only once the letter is durable (as durable as the sink
    can make it) and raises `DeadLetterStoreError` when it could not write.

    .. versionadded:: 0.1.0
    """

    def put(self, letter: DeadLetter) -> None:
        """Write *letter*; putting an id that is already stored keeps the stored letter."""
        ...


@runtime_checkable
class DeadLetterStore(DeadLetterSink, Protocol):
    """A sink that can also read, update and delete letters, so they can be replayed.

    .. versionadded:: 0.1.0
    """

    def get(self, letter_id: str) -> DeadLetter | None:
        """Return the letter with *letter_id*, or `None` when there is none."""
        ...

    def list(
        self, *, operation: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[DeadLetter]:
        """Return up to *limit* letters, oldest first, skipping the first *offset*."""
        ...

    def count(self) -> int:
        """Return how many letters the store holds."""
        ...

    def delete(self, letter_id: str) -> bool:
        """Delete the letter with *letter_id*; return whether there was one."""
        ...

    def update(self, letter: DeadLetter) -> bool:
        """Replace the stored letter with *letter*'s id; return whether there was one."""
        ...

    def purge(self, *, older_than: datetime | timedelta | None = None) -> int:
        """Delete letters created before a time (all when `None`); return how many."""
        ...


class _Masking:
    """Shared sink plumbing: masking, metrics for write failures."""

    __slots__ = ("_keys", "_metrics", "_needles", "_redact")

    sink_name = "sink"

    def __init__(
        self,
        *,
        redact: Redactor | None,
        secret_keys: Iterable[str],
        metrics: MetricsCollector | None,
    ) -> None:
        if isinstance(secret_keys, str):
            raise TypeError("secret_keys must be an iterable of key names, not a str")
        self._keys = DEFAULT_SECRET_KEYS | {key.lower() for key in secret_keys}
        self._needles = _needles(self._keys)
        self._redact = redact
        self._metrics = metrics

    def _mask(self, letter: DeadLetter) -> DeadLetter:
        return mask_letter(letter, keys=self._keys, extra=self._redact)

    def _may_hold_secrets(self, text: str) -> bool:
        """Say whether `mask_letter` could change the letter whose JSON is *text*.

        Substring tests on the text (see `_needles`) are much faster than
        running `redact`'s patterns or walking the payload and context.
        """
        needles = self._needles
        if needles is None or _TOKEN_HINT.search(text) is not None:
            return True
        if _secrets._registered and _registered_in(text):  # noqa: SLF001 - the Secret values redact() masks  # pyright: ignore[reportPrivateUsage]
            return True
        # Folded as `redact` folds it, so that what its patterns match is found.
        folded = text.lower() if text.isascii() else text.translate(_ASCII_FOLD).lower()
        for needle in needles:  # noqa: SIM110 - a plain loop: any() of a generator costs more here
            if needle in folded:
                return True
        return False

    def _masked_json(self, letter: DeadLetter) -> str:
        """Return the masked letter's JSON; serialise once when there is nothing to mask."""
        if self._redact is None:
            try:
                text = letter.to_json()
            except TypeError:  # such as a Secret in the payload: masking may fix it
                pass
            else:
                if not self._may_hold_secrets(text):
                    return text
        return self._mask(letter).to_json()

    def _write_failed(self, letter: DeadLetter, exc: BaseException) -> DeadLetterStoreError:
        if self._metrics is not None:
            self._metrics.increment(DEAD_LETTER_WRITE_FAILURES, labels={"sink": self.sink_name})
        return DeadLetterStoreError(
            f"{self.sink_name} sink could not write dead letter {letter.id}: "
            f"{type(exc).__name__}: {redact(str(exc))}"
        )


def _check_limits(limit: object, offset: object) -> None:
    check_count("limit", limit)
    check_count("offset", offset)


def purge_cutoff(older_than: datetime | timedelta | None, clock: Clock) -> datetime | None:
    """Turn ``purge(older_than=...)`` into an aware UTC cutoff (`None`: everything).

    A `timedelta` counts back from the *clock*'s wall time.
    """
    if older_than is None:
        return None
    if isinstance(older_than, timedelta):
        if older_than < timedelta(0):
            raise ConfigurationError(f"older_than must not be negative, got {older_than!r}")
        return datetime.fromtimestamp(clock.wall(), UTC) - older_than
    if isinstance(older_than, datetime):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        return _utc(older_than)
    raise TypeError(
        f"older_than must be a datetime, a timedelta or None, got {type(older_than).__name__}"
    )


class LoggingDeadLetterSink(_Masking):
    """Write each letter as one CRITICAL log line starting with ``DEAD_LETTER:``.

    The line names the operation, the reason, the error, every context field
    (``requestId``, ``orderId``, ...) and ends with the masked letter's JSON,
    so a letter can be recovered from the logs. The Guard falls back to this
    sink when its own sink fails.

    Args:
        logger: Where to log (default ``felix_reliability.dead_letters``).
        level: The level (default CRITICAL).
        redact: An extra masking hook run after the built-in one.
        secret_keys: More mapping keys whose values are masked.
        metrics: Counts this sink's write failures.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_level", "_logger")
    sink_name = "logging"

    def __init__(
        self,
        *,
        logger: logging.Logger | None = None,
        level: int = logging.CRITICAL,
        redact: Redactor | None = None,
        secret_keys: Iterable[str] = (),
        metrics: MetricsCollector | None = None,
    ) -> None:
        super().__init__(redact=redact, secret_keys=secret_keys, metrics=metrics)
        self._logger = logger or _logger
        self._level = level

    def put(self, letter: DeadLetter) -> None:
        """Log *letter*.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised.
        """
        try:
            masked = self._mask(letter)
            fields = " ".join(f"{key}={value}" for key, value in masked.context.items())
            self._logger.log(
                self._level,
                "DEAD_LETTER: operation=%s reason=%s id=%s %s error=%s: %s letter=%s",
                masked.operation,
                masked.reason.value,
                masked.id,
                fields,
                masked.error_type,
                masked.error_message,
                masked.to_json(),
                extra={"dead_letter_id": masked.id},
            )
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc

    def __repr__(self) -> str:
        return f"LoggingDeadLetterSink(logger={self._logger.name!r})"


class JsonlDeadLetterSink(_Masking):
    """Append each letter as one JSON line to a file, flushed and fsynced, for log shippers.

    The file is opened in append mode and each letter is written with a
    single ``write`` call, so several processes may share it. A line torn by
    a crash is never glued to the next letter: the sink starts a fresh line
    when the file does not end with one. Read it back with
    `read_jsonl_letters`.

    Args:
        path: The file (created with its directory's entry fsynced).
        redact: An extra masking hook run after the built-in one.
        secret_keys: More mapping keys whose values are masked.
        metrics: Counts this sink's write failures.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_fd", "_lock", "_path")
    sink_name = "jsonl"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Redactor | None = None,
        secret_keys: Iterable[str] = (),
        metrics: MetricsCollector | None = None,
    ) -> None:
        super().__init__(redact=redact, secret_keys=secret_keys, metrics=metrics)
        self._path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The file letters are appended to."""
        return self._path

    def _open(self) -> int:
        existed = self._path.exists()
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if not existed:
            dir_fd = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        size = os.fstat(fd).st_size
        if size:
            with self._path.open("rb") as reader:
                reader.seek(size - 1)
                if reader.read(1) != b"\n":
                    _write_all(fd, b"\n")
        return fd

    def put(self, letter: DeadLetter) -> None:
        """Append *letter* and return once it is on disk.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised or written.
        """
        try:
            line = (self._masked_json(letter) + "\n").encode()
            with self._lock:
                fd = self._fd
                if fd is None:
                    fd = self._fd = self._open()
                written = os.write(fd, line)
                if written < len(line):  # a short write (a full disk, a signal): finish it
                    _write_all(fd, line[written:])
                os.fsync(fd)
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc

    def close(self) -> None:
        """Close the file; a later `put` opens it again."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JsonlDeadLetterSink({str(self._path)!r})"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_jsonl_letters(
    path: str | os.PathLike[str],
    *,
    on_error: Callable[[int, str], None] | None = None,
) -> Iterator[DeadLetter]:
    """Yield the letters of a `JsonlDeadLetterSink` file, in file order.

    A line that is not a dead letter (such as one torn by a crash) is
    reported and skipped, never raised: a WARNING is logged on the
    ``felix_reliability.dead_letters`` logger and *on_error* is called with
    the line number and the reason. Blank lines are ignored.

    Args:
        path: The file.
        on_error: Called with ``(line_number, reason)`` for each skipped line.

    Raises:
        OSError: If the file cannot be opened (for example, it does not exist).

    .. versionadded:: 0.1.0
    """
    with Path(path).open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                letter = DeadLetter.from_json(raw.decode())
            except ValueError as exc:
                reason = str(exc)[:200]
                _logger.warning("skipping line %d of %s: %s", number, path, reason)
                if on_error is not None:
                    on_error(number, reason)
                continue
            yield letter


class MemoryDeadLetterStore(_Masking):
    """A store in this process's memory: for tests and for ``memory://``.

    Letters are kept as JSON, so what comes out is exactly what a durable
    store would give back, and later changes to a payload do not leak in.
    Safe to share between threads; lost when the process ends.

    Args:
        redact: An extra masking hook run after the built-in one.
        secret_keys: More mapping keys whose values are masked.
        metrics: Counts this store's write failures.
        clock: The wall time `purge` counts a `timedelta` back from.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_clock", "_letters", "_lock", "_next_seq")
    sink_name = "memory"

    def __init__(
        self,
        *,
        redact: Redactor | None = None,
        secret_keys: Iterable[str] = (),
        metrics: MetricsCollector | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(redact=redact, secret_keys=secret_keys, metrics=metrics)
        self._clock = clock or _SYSTEM_CLOCK
        self._lock = threading.Lock()
        # id -> (created_at, sequence, json)
        self._letters: dict[str, tuple[datetime, int, str]] = {}
        self._next_seq = 0

    def put(self, letter: DeadLetter) -> None:
        """Keep *letter* (masked); an id already stored keeps the stored letter.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised.
        """
        try:
            text = self._masked_json(letter)
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc
        with self._lock:
            if letter.id not in self._letters:
                self._letters[letter.id] = (letter.created_at, self._next_seq, text)
                self._next_seq += 1

    def get(self, letter_id: str) -> DeadLetter | None:
        """Return the letter with *letter_id*, or `None`."""
        entry = self._letters.get(letter_id)
        return None if entry is None else DeadLetter.from_json(entry[2])

    def list(
        self, *, operation: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[DeadLetter]:
        """Return up to *limit* letters, oldest first, after skipping *offset*."""
        _check_limits(limit, offset)
        with self._lock:
            entries = sorted(self._letters.values())
        letters = (DeadLetter.from_json(text) for _, _, text in entries)
        if operation is not None:
            letters = (letter for letter in letters if letter.operation == operation)
        selected: list[DeadLetter] = []
        for index, letter in enumerate(letters):
            if index >= offset + limit:
                break
            if index >= offset:
                selected.append(letter)
        return selected

    def count(self) -> int:
        """Return how many letters are kept."""
        return len(self._letters)

    def delete(self, letter_id: str) -> bool:
        """Delete the letter with *letter_id*; return whether there was one."""
        with self._lock:
            return self._letters.pop(letter_id, None) is not None

    def update(self, letter: DeadLetter) -> bool:
        """Replace the stored letter with *letter*'s id (masked); return whether there was one.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised.
        """
        try:
            text = self._masked_json(letter)
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc
        with self._lock:
            entry = self._letters.get(letter.id)
            if entry is None:
                return False
            self._letters[letter.id] = (letter.created_at, entry[1], text)
            return True

    def purge(self, *, older_than: datetime | timedelta | None = None) -> int:
        """Delete letters created before *older_than* (all when `None`); return how many.

        A `timedelta` counts back from now; a `datetime` is the cutoff itself.
        """
        cutoff = purge_cutoff(older_than, self._clock)
        with self._lock:
            doomed = [
                letter_id
                for letter_id, (created_at, _, _) in self._letters.items()
                if cutoff is None or created_at < cutoff
            ]
            for letter_id in doomed:
                del self._letters[letter_id]
        return len(doomed)

    def __repr__(self) -> str:
        return f"MemoryDeadLetterStore(count={len(self._letters)})"


def open_dead_letter_store(url: str) -> DeadLetterStore:
    """Open the store a URL names.

    * ``memory://`` — a new `MemoryDeadLetterStore`;
    * ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` — a
      `SQLiteDeadLetterStore`;
    * any other SQLAlchemy URL, such as ``postgresql+psycopg://...`` —
      ``felix_reliability.adapters.sql.SqlDeadLetterStore`` (the ``sql`` extra).

    >>> open_dead_letter_store("memory://").count()
    0

    Raises:
        ConfigurationError: If *url* is not a store URL.
        DeadLetterStoreError: If the store cannot be opened, or the SQL
            adapter is not available.

    .. versionadded:: 0.1.0
    """
    if not isinstance(url, str):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise TypeError(f"url must be a str, got {type(url).__name__}")
    scheme, separator, rest = url.partition("://")
    shown = redact(url)
    if not separator or not scheme or not scheme[0].isalpha():
        raise ConfigurationError(
            f"url must look like memory://, sqlite:///path or a SQLAlchemy URL; got {shown!r}"
        )
    scheme = scheme.lower()
    if scheme == "memory":
        if rest:
            raise ConfigurationError(f"a memory:// url takes no path; got {shown!r}")
        return MemoryDeadLetterStore()
    if scheme == "sqlite":
        if not rest.startswith("/") or len(rest) < 2 or rest == "/:memory:":  # noqa: PLR2004 - "/" plus one character
            raise ConfigurationError(
                "a sqlite url needs a file: sqlite:///relative/path.db or "
                f"sqlite:////absolute/path.db; got {shown!r}"
            )
        from felix_reliability._sqlite import SQLiteDeadLetterStore  # noqa: PLC0415 - _sqlite imports this module

        return SQLiteDeadLetterStore(rest[1:])
    return _open_sql_store(url, shown)


def _open_sql_store(url: str, shown: str) -> DeadLetterStore:
    import importlib  # noqa: PLC0415 - only the SQL path needs it

    try:
        module = importlib.import_module("felix_reliability.adapters.sql")
        factory = cast("Callable[[str], DeadLetterStore]", module.SqlDeadLetterStore)
    except (ImportError, AttributeError) as exc:
        raise DeadLetterStoreError(
            f"cannot open {shown!r}: SQL stores need felix_reliability.adapters.sql."
            "SqlDeadLetterStore and SQLAlchemy (pip install 'felix-reliability[sql]'); "
            f"{type(exc).__name__}: {redact(str(exc))}"
        ) from None
    return factory(url)
