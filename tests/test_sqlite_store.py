"""SQLiteDeadLetterStore: the contract, durability under kill -9, threads and processes."""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

from felix_reliability import SQLiteDeadLetterStore
from felix_reliability.exceptions import ConfigurationError, DeadLetterStoreError
from tests.dead_letter_store_contract import DeadLetterStoreContract, StoreFactory, make_letter
from tests.test_dead_letters import ROOT, SRC, kill_at_random

_names = itertools.count()


class TestSQLiteStoreContract(DeadLetterStoreContract):
    """SQLiteDeadLetterStore keeps the store contract."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        def make(**options: object) -> SQLiteDeadLetterStore:
            return SQLiteDeadLetterStore(tmp_path / f"store-{next(_names)}.db", **options)  # type: ignore[arg-type]

        return make


def test_file_uses_wal_and_full_sync(tmp_path: Path) -> None:
    """The database is in WAL mode; the connection writes with synchronous=FULL."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db", busy_timeout=2.5)
    connection = store._connect()
    assert (
        connection.execute("PRAGMA journal_mode").fetchone()[0],
        connection.execute("PRAGMA synchronous").fetchone()[0],
        connection.execute("PRAGMA busy_timeout").fetchone()[0],
    ) == ("wal", 2, 2500)
    store.close()


def test_letters_survive_reopening(tmp_path: Path) -> None:
    """A closed store reopens with its letters; a closed store object reconnects on use."""
    path = tmp_path / "letters.db"
    with SQLiteDeadLetterStore(path) as store:
        store.put(make_letter(1))
    assert store.count() == 1
    store.close()
    assert [letter.id for letter in SQLiteDeadLetterStore(path).list()] == ["letter-000001"]
    assert f"SQLiteDeadLetterStore({str(path)!r})" == repr(store)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_busy_timeout_must_be_positive(tmp_path: Path, timeout: float) -> None:
    """busy_timeout must be a positive number of seconds, named in the error."""
    with pytest.raises(ConfigurationError, match="busy_timeout"):
        SQLiteDeadLetterStore(tmp_path / "x.db", busy_timeout=timeout)


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    """A file in a missing directory cannot be opened: DeadLetterStoreError names it."""
    with pytest.raises(DeadLetterStoreError, match="could not open"):
        SQLiteDeadLetterStore(tmp_path / "missing" / "x.db")


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    """Opening a file that is not SQLite raises DeadLetterStoreError, not sqlite3.Error."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DeadLetterStoreError, match="could not open"):
        SQLiteDeadLetterStore(path)


def test_read_and_write_errors_are_store_errors(tmp_path: Path) -> None:
    """A table that vanished turns reads and writes into DeadLetterStoreError."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    store._connect().execute("DROP TABLE felix_dead_letters")
    with pytest.raises(DeadLetterStoreError, match="could not read"):
        store.count()
    with pytest.raises(DeadLetterStoreError, match="could not write"):
        store.delete("x")
    with pytest.raises(DeadLetterStoreError, match="sqlite sink could not write"):
        store.put(make_letter(1))


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    """After os.fork the child does not reuse the parent's connection."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    parent_connection = store._connect()
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about fork() when other threads run
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        try:
            store.put(make_letter(2))
            same = store._connect() is parent_connection
            store.close()
            os.write(write, b"same" if same else b"own")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert (os.read(read, 10), store.count()) == (b"own", 1)
    os.close(read)
    assert store._connect() is parent_connection


def test_the_fork_hook_records_this_process_id(tmp_path: Path) -> None:
    """The hook os.fork runs in a child sets the process id stores compare with."""
    from felix_reliability import _sqlite

    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    connection = store._connect()
    _sqlite._process_id[0] = -1  # as a forked child sees it before the hook runs
    try:
        child_connection = store._connect()
    finally:
        _sqlite._refresh_process_id()
    assert (child_connection is connection, _sqlite._process_id[0]) == (False, os.getpid())
    child_connection.close()
    connection.close()


_SQLITE_CHILD = """
import sys
from felix_reliability import SQLiteDeadLetterStore
from tests.dead_letter_store_contract import make_letter
store = SQLiteDeadLetterStore(sys.argv[1])
print("ready", flush=True)
index = 0
while True:
    letter = make_letter(index, id=f"letter-{index:06d}-{store.count()}")
    store.put(letter)
    print(letter.id, flush=True)
    index += 1
"""


def test_sqlite_store_survives_kill_9(tmp_path: Path) -> None:
    """After SIGKILL at random moments the file opens cleanly with every confirmed letter."""
    rng = random.Random(7)
    path = tmp_path / "letters.db"
    confirmed: set[str] = set()
    for _ in range(10):
        confirmed.update(kill_at_random(_SQLITE_CHILD, path, rng))
        with SQLiteDeadLetterStore(path) as store:
            stored = {letter.id for letter in store.list(limit=1_000_000)}
            check = store._connect().execute("PRAGMA integrity_check").fetchone()[0]
        assert (set(), "ok") == (confirmed - stored, check)
    assert confirmed


_PROCESS_WRITER = """
import sys
from felix_reliability import SQLiteDeadLetterStore
from tests.dead_letter_store_contract import make_letter
store = SQLiteDeadLetterStore(sys.argv[1])
for index in range(int(sys.argv[3])):
    store.put(make_letter(index, id=f"{sys.argv[2]}-{index}"))
"""


def test_threads_and_processes_share_one_file(tmp_path: Path) -> None:
    """4 threads and 2 processes put at once: every letter lands, nobody sees "locked"."""
    path = tmp_path / "letters.db"
    per_writer = 40
    shared = SQLiteDeadLetterStore(path)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(name: str, store: SQLiteDeadLetterStore) -> None:
        try:
            start.wait()
            for index in range(per_writer):
                store.put(make_letter(index, id=f"{name}-{index}"))
        except BaseException as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_WRITER, str(path), f"process{n}", str(per_writer)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    threads = [
        threading.Thread(
            target=write,
            args=(f"thread{n}", shared if n < 2 else SQLiteDeadLetterStore(path)),
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stderr = [process.communicate()[1] for process in processes]
    assert (
        errors,
        [process.returncode for process in processes],
        stderr,
    ) == ([], [0, 0], ["", ""])
    assert 6 * per_writer == shared.count()


def test_list_uses_an_index(tmp_path: Path) -> None:
    """list() walks an index in created order instead of sorting the table."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    base = "EXPLAIN QUERY PLAN SELECT body FROM felix_dead_letters "
    order = "ORDER BY created_us, seq LIMIT 100 OFFSET 0"
    for query in (base + order, base + "WHERE operation = 'op' " + order):
        plan = " ".join(str(row[-1]) for row in store._connect().execute(query))
        assert "USING INDEX" in plan
        assert "TEMP B-TREE" not in plan


def test_sqlite_module_errors_are_not_leaked(tmp_path: Path) -> None:
    """sqlite3.Error never reaches the caller; it is wrapped in DeadLetterStoreError."""
    assert not issubclass(DeadLetterStoreError, sqlite3.Error)


def test_a_failed_insert_rolls_back_and_the_store_stays_usable(tmp_path: Path) -> None:
    """A write that fails inside its transaction is rolled back; the next put works."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    store._connect().execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON felix_dead_letters "
        "WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(DeadLetterStoreError, match="refused"):
        store.put(make_letter(1, id="bad"))
    store.put(make_letter(2))
    assert (store.count(), store._connect().in_transaction) == (1, False)


def test_close_in_a_forked_child_leaves_the_parents_connection(tmp_path: Path) -> None:
    """close() in another process forgets the inherited connection without closing it."""
    store = SQLiteDeadLetterStore(tmp_path / "letters.db")
    inherited = store._connect()
    store._pid = -1  # as if this object had been inherited through os.fork
    store.close()
    assert (inherited.execute("SELECT 1").fetchone()[0], store.count()) == (1, 0)
    assert store._connect() is not inherited
    inherited.close()


def test_a_dropped_store_closes_only_its_own_processes_connection(tmp_path: Path) -> None:
    """The finalizer closes a connection in the process that opened it, never after a fork."""
    import sqlite3

    from felix_reliability._sqlite import _close_if_owner

    connection = sqlite3.connect(tmp_path / "x.db")
    _close_if_owner(connection, pid=-1)  # another process's connection: left alone
    assert connection.execute("SELECT 1").fetchone() == (1,)
    _close_if_owner(connection, pid=os.getpid())
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
