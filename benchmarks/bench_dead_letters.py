"""Dead-letter rows: durable puts against raw sqlite3 and raw fsynced appends, and list()."""

from __future__ import annotations

import functools
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


def _letter(prefix: str = "ours") -> DeadLetter:
    return DeadLetter(
        id=f"{prefix}-{next(_ids):06d}",  # ids of one length: every case writes equal rows
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


# Letters are built ahead, and so are the raw cases' bodies: the rows time the
# put alone. Every case writes the same bytes: a raw body is exactly the text
# our put writes for a letter of the same shape (an id of the same length),
# and the json.dumps peers serialise the same fields the same way. Each case
# has its own file, created alike, so no case grows another's file or index.
_POOL = iter([_letter() for _ in range(20_000)])
_RAW_BODIES = iter([(letter.id, letter.to_json()) for letter in map(_letter, ["rawa"] * 10_000)])
_RAW_LINES = iter([(_letter("rawa").to_json() + "\n").encode() for _ in range(10_000)])
_RAW_DICTS = iter([_letter("rawj").to_dict() for _ in range(10_000)])
_CREATED_US = 1_767_225_600_000_000
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
_sample = _letter("same")
if _sample.to_json() != _dumps(_sample.to_dict()):
    raise RuntimeError("the json.dumps peers would not write the text our put writes")


# -- SQLite put ------------------------------------------------------------------------------

_INSERT = (
    "INSERT OR IGNORE INTO felix_dead_letters (id, operation, created_us, body) VALUES (?, ?, ?, ?)"
)


def _raw_connection(name: str) -> sqlite3.Connection:
    """Open a file created by the store (same schema), with the store's pragmas."""
    SQLiteDeadLetterStore(_FOLDER / name).close()
    connection = sqlite3.connect(_FOLDER / name, timeout=30.0, isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 30000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    return connection


_store = SQLiteDeadLetterStore(_FOLDER / "ours.db")
_raw = _raw_connection("raw.db")
_raw_json = _raw_connection("raw-json.db")
_BODY = _letter().to_json()  # for the list rows' fill


def _sqlite_ours(n: int) -> None:
    put = _store.put
    for letter in itertools.islice(_POOL, n):
        put(letter)


def _sqlite_raw(n: int) -> None:
    execute = _raw.execute
    for letter_id, body in itertools.islice(_RAW_BODIES, n):
        execute("BEGIN IMMEDIATE")
        execute(_INSERT, (letter_id, "telegram.send_message", _CREATED_US, body))
        execute("COMMIT")


def _sqlite_raw_json(n: int) -> None:
    execute = _raw_json.execute
    dumps = _dumps
    for fields in itertools.islice(_RAW_DICTS, n):
        body = dumps(fields)
        execute("BEGIN IMMEDIATE")
        execute(_INSERT, (fields["id"], "telegram.send_message", _CREATED_US, body))
        execute("COMMIT")


# -- JSONL put -------------------------------------------------------------------------------

_sink = JsonlDeadLetterSink(_FOLDER / "ours.jsonl")
_raw_file = (_FOLDER / "raw.jsonl").open("ab")  # kept open, as the sink keeps its file
_raw_json_file = (_FOLDER / "raw-json.jsonl").open("ab")


def _jsonl_ours(n: int) -> None:
    put = _sink.put
    for letter in itertools.islice(_POOL, n):
        put(letter)


def _jsonl_raw(n: int) -> None:
    file = _raw_file
    fileno = file.fileno()
    for line in itertools.islice(_RAW_LINES, n):
        file.write(line)
        file.flush()
        os.fsync(fileno)


def _jsonl_raw_json(n: int) -> None:
    file = _raw_json_file
    fileno = file.fileno()
    dumps = _dumps
    for fields in itertools.islice(_RAW_DICTS, n):
        file.write((dumps(fields) + "\n").encode())
        file.flush()
        os.fsync(fileno)


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
                    _BODY.replace("ours-", f"f{index}-"),
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
            operations=10,
            rounds=300,
            note="issue target: throughput >= 0.9x raw, i.e. time ratio <= 1.11x; every case "
            "writes the same bytes to its own file: the raw peers a pre-serialised body, the "
            "json.dumps peers the same fields serialised alike",
        ),
        Row(
            title="JsonlDeadLetterSink.put vs raw append + flush + fsync",
            ours=Case("felix JSONL put", _jsonl_ours),
            peers=(
                Case("raw append+fsync", _jsonl_raw),
                Case("raw json.dumps+append+fsync", _jsonl_raw_json),
            ),
            targets={"raw append+fsync": 1 / 0.9, "raw json.dumps+append+fsync": 1 / 0.9},
            operations=10,
            rounds=300,
            note="issue target: throughput >= 0.9x raw, i.e. time ratio <= 1.11x; every case "
            "writes the same bytes to its own file: the raw peers a pre-serialised body, the "
            "json.dumps peers the same fields serialised alike",
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
