"""The SQL dead-letter store as a user writes it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import assert_type

from sqlalchemy import Engine, MetaData, Table, create_engine

from felix_reliability import DeadLetter, DeadLetterStore, open_dead_letter_store
from felix_reliability.adapters.sql import SqlDeadLetterStore, dead_letter_table

store = SqlDeadLetterStore("postgresql+psycopg://app@db.internal/felix_hub")
protocol: DeadLetterStore = store
engine = create_engine("postgresql+psycopg://app@db.internal/felix_hub")
migrated = SqlDeadLetterStore(engine, table="hub_dead_letters", create_table=False)
assert_type(migrated.engine, Engine)
assert_type(migrated.table, Table)
assert_type(store.list(operation="telegram.send_message", limit=10), Sequence[DeadLetter])
assert_type(store.get("letter-1"), DeadLetter | None)
assert_type(store.purge(older_than=timedelta(days=30)), int)
target_metadata = MetaData()
assert_type(dead_letter_table(target_metadata), Table)
opened: DeadLetterStore = open_dead_letter_store("postgresql+psycopg://app@db.internal/felix_hub")
store.close()
