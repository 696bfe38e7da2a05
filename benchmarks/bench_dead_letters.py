"""Dead-letter rows: durable puts against raw sqlite3 and raw fsynced appends, and list()."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from harness import Case, Row

from felix_reliability import DeadLetter, JsonlDeadLetterSink, SQLiteDeadLetterStore

_FOLDER = Path(tempfile.mkdtemp(prefix="felix-bench-dead-letters-"))
_ids = itertools.count()
_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _letter() -> DeadLetter:
    return DeadLetter(
        id=f"bench-{next(_ids)}",
        operation="telegram.send_message",
        payload={"chat_id": 123456789, "text": "Order 4711 is ready for pickup", "order_id": 4711},
        reason="retries_exhausted",
        error_type="httpx.ReadTimeout",
        error_message="read timed out",
        attempts=4,
        first_failure_at=_CREATED,
        last_failure_at=_CREATED,
        created_at=_CREATED,
        context={"requestId": "a1b2c3d4e5f6", "orderId": 4711},
    )


# Letters are built ahead, as the raw rows' bodies are: the rows time the put alone.
_POOL = iter([_letter() for _ in range(40_000)])


# -- SQLite put ------------------------------------------------------------------------------

_store = SQLiteDeadLetterStore(_FOLDER / "ours.db")
_raw = sqlite3.connect(_FOLDER / "raw.db", timeout=30.0, isolation_level=None)
_raw.execute("PRAGMA busy_timeout = 30000")
_raw.execute("PRAGMA journal_mode = WAL")
_raw.execute("PRAGMA synchronous = FULL")
_raw.execute(
    "CREATE TABLE IF NOT EXISTS felix_dead_letters (seq INTEGER PRIMARY KEY, id TEXT NOT NULL "
    "UNIQUE, operation TEXT NOT NULL, created_us INTEGER NOT NULL, body TEXT NOT NULL)"
)
_raw.execute("CREATE INDEX IF NOT EXISTS c ON felix_dead_letters (created_us)")
_raw.execute("CREATE INDEX IF NOT EXISTS o ON felix_dead_letters (operation, created_us)")
_BODY = _letter().to_json()
# What an application writing without the library would serialise: the same fields.
_DICT = _letter().to_dict()


def _sqlite_raw_json(n: int) -> None:
    execute = _raw.execute
    dumps = json.dumps
    for _ in range(n):
        letter_id = f"rawjson-{next(_ids)}"
        body = dumps({**_DICT, "id": letter_id})
        execute("BEGIN IMMEDIATE")
        execute(
            "INSERT OR IGNORE INTO felix_dead_letters (id, operation, created_us, body) "
            "VALUES (?, ?, ?, ?)",
            (letter_id, "telegram.send_message", 1_767_225_600_000_000, body),
        )
        execute("COMMIT")


def _sqlite_ours(n: int) -> None:
    put = _store.put
    for letter in itertools.islice(_POOL, n):
        put(letter)


def _sqlite_raw(n: int) -> None:
    execute = _raw.execute
    for _ in range(n):
        letter_id = f"raw-{next(_ids)}"
        execute("BEGIN IMMEDIATE")
        execute(
            "INSERT OR IGNORE INTO felix_dead_letters (id, operation, created_us, body) "
            "VALUES (?, ?, ?, ?)",
            (letter_id, "telegram.send_message", 1_767_225_600_000_000, _BODY),
        )
        execute("COMMIT")


# -- JSONL put -------------------------------------------------------------------------------

_sink = JsonlDeadLetterSink(_FOLDER / "ours.jsonl")
_LINE = (_BODY + "\n").encode()


def _jsonl_ours(n: int) -> None:
    put = _sink.put
    for letter in itertools.islice(_POOL, n):
        put(letter)


def _jsonl_raw_json(n: int) -> None:
    dumps = json.dumps
    with (_FOLDER / "raw-json.jsonl").open("ab") as file:
        for _ in range(n):
            file.write((dumps({**_DICT, "id": f"rawjson-{next(_ids)}"}) + "\n").encode())
            file.flush()
            os.fsync(file.fileno())


def _jsonl_raw(n: int) -> None:
    with (_FOLDER / "raw.jsonl").open("ab") as file:
        for _ in range(n):
            file.write(_LINE)
            file.flush()
            os.fsync(file.fileno())


# -- list(limit=100) at two sizes ------------------------------------------------------------


def _filled(size: int) -> SQLiteDeadLetterStore:
    path = _FOLDER / f"list-{size}.db"
    store = SQLiteDeadLetterStore(path)
    if store.count() < size:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO felix_dead_letters (id, operation, created_us, body) VALUES (?,?,?,?)",
            (
                (
                    f"fill-{index}",
                    "telegram.send_message",
                    index,
                    _BODY.replace("bench-", f"f{index}-"),
                )
                for index in range(size)
            ),
        )
        connection.execute("COMMIT")
        connection.close()
    return store


_small: SQLiteDeadLetterStore | None = None
_large: SQLiteDeadLetterStore | None = None


def _list_from(size: int):
    def run(n: int) -> None:
        global _small, _large
        if size == 1_000:
            _small = _small or _filled(size)
            store = _small
        else:
            _large = _large or _filled(size)
            store = _large
        for _ in range(n):
            store.list(limit=100)

    return run


def rows() -> list[Row]:
    """Return this module's rows."""
    return [
        Row(
            title="SQLiteDeadLetterStore.put vs raw sqlite3 insert + commit (WAL, FULL, IMMEDIATE)",
            ours=Case("felix SQLite put", _sqlite_ours),
            peers=(
                Case("raw sqlite3", _sqlite_raw),
                Case("raw sqlite3 + json.dumps", _sqlite_raw_json),
            ),
            targets={"raw sqlite3": 1 / 0.9, "raw sqlite3 + json.dumps": 1 / 0.9},
            operations=300,
            note="issue target: throughput >= 0.9x raw, i.e. time ratio <= 1.11x; the raw "
            "peers write a pre-serialised body, the json.dumps peers serialise the same fields",
        ),
        Row(
            title="JsonlDeadLetterSink.put vs raw append + flush + fsync",
            ours=Case("felix JSONL put", _jsonl_ours),
            peers=(
                Case("raw append+fsync", _jsonl_raw),
                Case("raw json.dumps+append+fsync", _jsonl_raw_json),
            ),
            targets={"raw append+fsync": 1 / 0.9, "raw json.dumps+append+fsync": 1 / 0.9},
            operations=300,
            note="issue target: throughput >= 0.9x raw, i.e. time ratio <= 1.11x; the raw "
            "peers write a pre-serialised body, the json.dumps peers serialise the same fields",
        ),
        Row(
            title="SQLiteDeadLetterStore.list(limit=100): 100,000 letters vs 1,000",
            ours=Case("list from 100,000", _list_from(100_000)),
            peers=(Case("list from 1,000", _list_from(1_000)),),
            targets={"list from 1,000": 2.0},
            operations=200,
            note="issue target: at most 2x",
        ),
    ]
