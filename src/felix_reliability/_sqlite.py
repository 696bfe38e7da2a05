"""SQLiteDeadLetterStore: the embedded default, durable and safe for threads and processes."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from felix_reliability._clock import Clock, SystemClock
from felix_reliability._dead_letters import (
    DeadLetter,
    Redactor,
    _check_limits,  # pyright: ignore[reportPrivateUsage] - a sibling private module
    _Masking,  # pyright: ignore[reportPrivateUsage] - a sibling private module
    purge_cutoff,
)
from felix_reliability._secrets import redact as redact_text
from felix_reliability._validation import check_positive_float
from felix_reliability.exceptions import DeadLetterStoreError

if TYPE_CHECKING:
    from felix_reliability._metrics import MetricsCollector

__all__ = ["SQLiteDeadLetterStore"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)

# ``seq`` (the rowid) breaks ties between letters created in the same
# microsecond; the indexes make ``list(limit=100)`` a short index walk
# whatever the size of the table.
_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS felix_dead_letters (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        operation TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS felix_dead_letters_created ON felix_dead_letters (created_us)",
    """CREATE INDEX IF NOT EXISTS felix_dead_letters_operation
        ON felix_dead_letters (operation, created_us)""",
)


_INSERT: Final = (
    "INSERT OR IGNORE INTO felix_dead_letters (id, operation, created_us, body) VALUES (?, ?, ?, ?)"
)


# This process's id, read on every write without a system call; a forked
# child refreshes it before any of its code runs (os.fork runs the hook).
_process_id = [os.getpid()]


def _refresh_process_id() -> None:
    _process_id[0] = os.getpid()


os.register_at_fork(after_in_child=_refresh_process_id)


def _close_if_owner(connection: sqlite3.Connection, pid: int) -> None:
    if os.getpid() == pid:
        connection.close()


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class SQLiteDeadLetterStore(_Masking):
    """Dead letters in a SQLite file: the embedded default.

    The database runs in WAL mode with ``synchronous=FULL``; every write is
    one ``BEGIN IMMEDIATE`` transaction, and a writer that finds the file
    busy waits up to *busy_timeout* seconds. So `put` returns only when the
    letter is on disk, a ``kill -9`` at any instant leaves a file that
    reopens cleanly with every letter whose `put` returned, and several
    threads and processes may share one file. A process that forks (such as
    a gunicorn worker) opens its own connection on first use.

    Args:
        path: The database file (created with its tables if missing).
        busy_timeout: Seconds a write waits for another writer.
        redact: An extra masking hook run after the built-in one.
        secret_keys: More mapping keys whose values are masked.
        metrics: Counts this store's write failures.
        clock: The wall time `purge` counts a `timedelta` back from.

    Raises:
        DeadLetterStoreError: If the file cannot be opened as a store.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> with SQLiteDeadLetterStore(pathlib.Path(folder) / "letters.db") as store:
    ...     store.count()
    0

    .. versionadded:: 0.1.0
    """

    __slots__ = ("__weakref__", "_busy_timeout", "_clock", "_connection", "_lock", "_path", "_pid")
    sink_name = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        redact: Redactor | None = None,
        secret_keys: Iterable[str] = (),
        metrics: MetricsCollector | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(redact=redact, secret_keys=secret_keys, metrics=metrics)
        self._busy_timeout = check_positive_float("busy_timeout", busy_timeout)
        self._path = Path(path)
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = _process_id[0]
        with self._lock:
            self._connect()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == _process_id[0]:
            return self._connection
        # After a fork the parent's connection must not be used (nor closed) here.
        self._pid = _process_id[0]
        try:
            connection = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - only on file systems without WAL
                raise sqlite3.OperationalError(f"journal_mode is {mode}, not wal")
            connection.execute("PRAGMA synchronous = FULL")
            self._write(connection, _SCHEMA)
        except sqlite3.Error as exc:
            connection.close()
            raise self._error("open", exc) from exc
        self._connection = connection
        # A store dropped without close() still closes its connection (Python
        # 3.13 warns otherwise), but only in the process that opened it.
        weakref.finalize(self, _close_if_owner, connection, self._pid)
        return connection

    @staticmethod
    def _write(
        connection: sqlite3.Connection,
        statements: Sequence[str],
        params: Sequence[Sequence[object]] = (),
    ) -> int:
        connection.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            for index, statement in enumerate(statements):
                cursor = connection.execute(statement, params[index] if params else ())
                changed += max(cursor.rowcount, 0)
            connection.execute("COMMIT")
        except BaseException:
            connection.rollback()  # a no-op when the failure already ended the transaction
            raise
        return changed

    def _error(self, action: str, exc: BaseException) -> DeadLetterStoreError:
        return DeadLetterStoreError(
            f"SQLite dead-letter store {str(self._path)!r} could not {action}: "
            f"{type(exc).__name__}: {redact_text(str(exc))}"
        )

    def _execute(self, statement: str, params: Sequence[object] = ()) -> int:
        with self._lock:
            connection = self._connect()
            try:
                return self._write(connection, (statement,), (params,))
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc

    def _query(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            connection = self._connect()
            try:
                return connection.execute(statement, params).fetchall()
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def put(self, letter: DeadLetter) -> None:
        """Write *letter* (masked) and return once it is durable.

        An id that is already stored keeps the stored letter.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised or written.
        """
        try:
            body = self._masked_json(letter)
            micros = (letter.created_at - _EPOCH) // _MICROSECOND  # _micros(), inlined
            params = (letter.id, letter.operation, micros, body)
            with self._lock:
                connection = self._connect()
                execute = connection.execute
                execute("BEGIN IMMEDIATE")
                try:
                    execute(_INSERT, params)
                    execute("COMMIT")
                except BaseException:
                    connection.rollback()  # a no-op when the failure already ended it
                    raise
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc

    def get(self, letter_id: str) -> DeadLetter | None:
        """Return the letter with *letter_id*, or `None`."""
        rows = self._query("SELECT body FROM felix_dead_letters WHERE id = ?", (letter_id,))
        return DeadLetter.from_json(rows[0][0]) if rows else None

    def list(
        self, *, operation: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[DeadLetter]:
        """Return up to *limit* letters, oldest first, after skipping *offset*."""
        _check_limits(limit, offset)
        if operation is None:
            rows = self._query(
                "SELECT body FROM felix_dead_letters ORDER BY created_us, seq LIMIT ? OFFSET ?",
                (limit, offset),
            )
        else:
            rows = self._query(
                "SELECT body FROM felix_dead_letters WHERE operation = ? "
                "ORDER BY created_us, seq LIMIT ? OFFSET ?",
                (operation, limit, offset),
            )
        return [DeadLetter.from_json(body) for (body,) in rows]

    def count(self) -> int:
        """Return how many letters the file holds."""
        return int(self._query("SELECT count(*) FROM felix_dead_letters")[0][0])

    def delete(self, letter_id: str) -> bool:
        """Delete the letter with *letter_id*; return whether there was one."""
        return self._execute("DELETE FROM felix_dead_letters WHERE id = ?", (letter_id,)) > 0

    def update(self, letter: DeadLetter) -> bool:
        """Replace the stored letter with *letter*'s id (masked); return whether there was one.

        Raises:
            DeadLetterStoreError: If the letter cannot be serialised or written.
        """
        try:
            body = self._masked_json(letter)
        except Exception as exc:
            raise self._write_failed(letter, exc) from exc
        params = (letter.operation, _micros(letter.created_at), body, letter.id)
        return (
            self._execute(
                "UPDATE felix_dead_letters SET operation = ?, created_us = ?, body = ? "
                "WHERE id = ?",
                params,
            )
            > 0
        )

    def purge(self, *, older_than: datetime | timedelta | None = None) -> int:
        """Delete letters created before *older_than* (all when `None`); return how many.

        A `timedelta` counts back from now; a `datetime` is the cutoff itself.
        """
        cutoff = purge_cutoff(older_than, self._clock)
        if cutoff is None:
            return self._execute("DELETE FROM felix_dead_letters")
        return self._execute(
            "DELETE FROM felix_dead_letters WHERE created_us < ?", (_micros(cutoff),)
        )

    def close(self) -> None:
        """Close the connection; a later call opens it again."""
        with self._lock:
            if self._connection is not None and self._pid == _process_id[0]:
                self._connection.close()
            self._connection = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteDeadLetterStore({str(self._path)!r})"
