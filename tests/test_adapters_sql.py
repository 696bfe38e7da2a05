"""SqlDeadLetterStore: the store contract on PostgreSQL and SQLite, and 4 processes putting."""

from __future__ import annotations

import gc
import multiprocessing
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from felix_reliability import DeadLetterStore, open_dead_letter_store
from felix_reliability.adapters.sql import SqlDeadLetterStore, dead_letter_table
from felix_reliability.exceptions import DeadLetterStoreError
from tests.dead_letter_store_contract import (
    DeadLetterStoreContract,
    RecordingMetrics,
    StoreFactory,
    make_letter,
)
from tests.services import PostgresServer


def unique_table() -> str:
    """A table name no other test uses."""
    return f"letters_{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def dispose_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dispose of every engine a test makes: Python 3.13 warns about unclosed SQLite files."""
    made: list[Engine] = []

    def tracked(*args: Any, **kwargs: Any) -> Engine:
        engine = sqlalchemy.create_engine(*args, **kwargs)
        made.append(engine)
        return engine

    monkeypatch.setattr(sys.modules[__name__], "create_engine", tracked)
    yield
    for engine in made:
        engine.dispose()


@pytest.fixture(scope="module")
def pg_engine(postgres_server: PostgresServer) -> Iterator[Engine]:
    """One engine on the session's PostgreSQL."""
    engine = create_engine(postgres_server.url)
    yield engine
    engine.dispose()


@pytest.mark.services
class TestPostgresContract(DeadLetterStoreContract):
    """SqlDeadLetterStore on PostgreSQL keeps the store contract."""

    @pytest.fixture
    def make_store(self, pg_engine: Engine) -> StoreFactory:
        return lambda **options: SqlDeadLetterStore(pg_engine, table=unique_table(), **options)


class TestSqliteContract(DeadLetterStoreContract):
    """SqlDeadLetterStore on SQLite (through SQLAlchemy) keeps the store contract."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Iterator[StoreFactory]:
        engine = create_engine(f"sqlite:///{tmp_path / 'letters.db'}")
        yield lambda **options: SqlDeadLetterStore(engine, table=unique_table(), **options)
        engine.dispose()


def put_many(url: str, table: str, worker: int, count: int) -> None:
    """Put *count* letters from one process (a spawned worker)."""
    store = SqlDeadLetterStore(url, table=table)
    for index in range(count):
        store.put(make_letter(index, id=f"w{worker}-{index}"))
    store.close()


@pytest.mark.services
def test_four_processes_put_concurrently(postgres_server: PostgresServer) -> None:
    """4 processes creating the table and putting at once: every letter lands once."""
    table = unique_table()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=put_many, args=(postgres_server.url, table, worker, 50))
        for worker in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    store = SqlDeadLetterStore(postgres_server.url, table=table)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert store.count() == 200
    assert {letter.id for letter in store.list(limit=1000)} == {
        f"w{worker}-{index}" for worker in range(4) for index in range(50)
    }
    store.close()


@pytest.mark.services
def test_open_dead_letter_store_takes_a_postgresql_url(postgres_server: PostgresServer) -> None:
    """open_dead_letter_store() opens a SqlDeadLetterStore for a SQLAlchemy URL."""
    store = open_dead_letter_store(postgres_server.url)
    assert isinstance(store, SqlDeadLetterStore)
    store.put(make_letter(1, id=f"open-{uuid.uuid4().hex}"))
    assert store.count() >= 1
    store.close()


@pytest.mark.services
def test_a_committed_letter_is_seen_by_a_new_connection(
    postgres_server: PostgresServer, pg_engine: Engine
) -> None:
    """put() has committed when it returns: another connection reads the row at once."""
    store = SqlDeadLetterStore(postgres_server.url, table=unique_table())
    store.put(make_letter(1))
    with pg_engine.connect() as connection:
        count = connection.execute(text(f"SELECT count(*) FROM {store.table.name}")).scalar()  # noqa: S608 - our own identifier
    assert count == 1
    store.close()


@pytest.mark.services
def test_nul_and_backslash_in_ids_and_operations(pg_engine: Engine) -> None:
    """PostgreSQL text holds no NUL: ids and operations are escaped one-to-one."""
    store = SqlDeadLetterStore(pg_engine, table=unique_table())
    store.put(make_letter(1, id="a\x00", operation="op\x00"))
    store.put(make_letter(2, id="a\\0", operation="op\\0"))
    assert (store.get("a\x00").operation, store.get("a\\0").operation) == ("op\x00", "op\\0")  # type: ignore[union-attr]
    assert [letter.id for letter in store.list(operation="op\x00")] == ["a\x00"]
    assert (store.delete("a\x00"), store.count()) == (True, 1)


def test_the_table_is_created_on_first_use_only(tmp_path: Path) -> None:
    """Construction touches nothing; the first operation creates the table and indexes."""
    engine = create_engine(f"sqlite:///{tmp_path / 'letters.db'}")
    store = SqlDeadLetterStore(engine)
    assert not inspect(engine).has_table("felix_dead_letters")
    assert store.count() == 0
    indexes = {index["name"] for index in inspect(engine).get_indexes("felix_dead_letters")}
    assert indexes == {"felix_dead_letters_created", "felix_dead_letters_operation"}


def test_create_table_false_expects_a_migrated_table(tmp_path: Path) -> None:
    """With create_table=False the store uses the table migrations made, and never creates it."""
    engine = create_engine(f"sqlite:///{tmp_path / 'letters.db'}")
    with pytest.raises(DeadLetterStoreError, match="could not read"):
        SqlDeadLetterStore(engine, create_table=False).count()
    metadata = MetaData()
    dead_letter_table(metadata)
    metadata.create_all(engine)
    store = SqlDeadLetterStore(engine, create_table=False)
    store.put(make_letter(1))
    assert store.count() == 1


def test_a_table_created_by_someone_else_meanwhile_is_used(tmp_path: Path) -> None:
    """Losing the race to create the table is not an error."""
    engine = create_engine(f"sqlite:///{tmp_path / 'letters.db'}")
    store = SqlDeadLetterStore(engine)
    metadata = MetaData()
    dead_letter_table(metadata)
    metadata.create_all(engine)
    store.table.create = lambda *args, **kwargs: (_ for _ in ()).throw(  # type: ignore[method-assign]
        OperationalError("CREATE TABLE", {}, Exception("table exists"))
    )
    assert store.count() == 0


def test_a_failed_create_is_reported(tmp_path: Path) -> None:
    """A table that cannot be created raises DeadLetterStoreError."""
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'letters.db'}")
    with pytest.raises(DeadLetterStoreError, match="could not read"):
        SqlDeadLetterStore(engine).count()


def test_a_read_only_database_without_the_table_is_reported(tmp_path: Path) -> None:
    """A CREATE refused while the table is still missing raises DeadLetterStoreError."""
    path = tmp_path / "letters.db"
    create_engine(f"sqlite:///{path}").connect().close()  # an empty database file
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(DeadLetterStoreError, match="readonly"):
        SqlDeadLetterStore(engine).count()


def test_the_table_is_created_once(tmp_path: Path) -> None:
    """A thread that waited for the creation lock finds the table made and does nothing."""
    store = SqlDeadLetterStore(create_engine(f"sqlite:///{tmp_path / 'letters.db'}"))
    assert store.count() == 0
    store.table.create = None  # type: ignore[method-assign]  # creating again would fail
    store._create()
    assert store.count() == 0


def test_a_failed_put_is_counted_and_raised(tmp_path: Path) -> None:
    """A write that fails raises DeadLetterStoreError and counts a write failure."""
    metrics = RecordingMetrics()
    store = SqlDeadLetterStore(
        create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'letters.db'}"), metrics=metrics
    )
    with pytest.raises(DeadLetterStoreError, match="letter-000001") as caught:
        store.put(make_letter(1))
    assert sum(metrics.counts.values()) == 1
    assert (str(caught.value).count("\n"), "INSERT" in str(caught.value)) == (0, False)


@pytest.mark.parametrize("table", ["", "1abc", "drop table x; --", "a" * 51])
def test_bad_table_names_are_refused(table: str) -> None:
    """Only plain identifiers are accepted as table names."""
    with pytest.raises(ValueError, match="table"):
        SqlDeadLetterStore("sqlite://", table=table)


def test_configuration_types_are_checked() -> None:
    """A non-str table or a non-engine target raises TypeError naming it."""
    with pytest.raises(TypeError, match="table"):
        SqlDeadLetterStore("sqlite://", table=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="engine_or_url"):
        SqlDeadLetterStore(3)  # type: ignore[arg-type]


def test_an_exhausted_pool_is_a_store_error(tmp_path: Path) -> None:
    """SQLAlchemy's own errors (no driver cause), such as a pool timeout, read as one line."""
    engine = create_engine(
        f"sqlite:///{tmp_path / 'letters.db'}", pool_size=1, max_overflow=0, pool_timeout=0.01
    )
    store = SqlDeadLetterStore(engine)
    assert store.count() == 0
    with engine.connect(), pytest.raises(DeadLetterStoreError, match="TimeoutError: QueuePool"):
        store.count()  # waits 10 ms for the only connection: a pool timeout, no clock seam


def test_a_bad_url_is_a_store_error() -> None:
    """A URL SQLAlchemy cannot parse raises DeadLetterStoreError, without its password."""
    with pytest.raises(DeadLetterStoreError) as caught:
        SqlDeadLetterStore("nosuchdialect://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)


def test_repr_hides_the_password() -> None:
    """The repr (used in error messages) never shows the URL's password."""
    store = SqlDeadLetterStore("postgresql+psycopg://app:hunter2@db.internal/felix")
    assert repr(store) == (
        "SqlDeadLetterStore('postgresql+psycopg://app:***@db.internal/felix', "
        "table='felix_dead_letters')"
    )


def test_an_engine_passed_in_is_not_disposed(tmp_path: Path) -> None:
    """close() disposes only of an engine the store created."""
    engine = create_engine(f"sqlite:///{tmp_path / 'letters.db'}")
    store = SqlDeadLetterStore(engine)
    store.put(make_letter(1))
    store.close()
    assert (store.engine, store.count()) == (engine, 1)


def test_a_forked_process_renews_the_pool(tmp_path: Path) -> None:
    """After a fork the store disposes of the parent's pooled connections, then works."""
    store: DeadLetterStore = SqlDeadLetterStore(f"sqlite:///{tmp_path / 'letters.db'}")
    store.put(make_letter(1))
    assert isinstance(store, SqlDeadLetterStore)
    store._pid = -1
    with warnings.catch_warnings():
        # The "parent's" connections are dropped unclosed, as after a real fork.
        warnings.simplefilter("ignore", ResourceWarning)
        store.put(make_letter(2))
        gc.collect()
    assert store.count() == 2
    store.close()
