"""The throwaway servers start, answer and stop."""

from __future__ import annotations

import pytest

from tests.services import PostgresServer, RedisServer

pytestmark = pytest.mark.services


def test_redis_server_answers(redis_server: RedisServer) -> None:
    """The redis fixture gives a server that answers PING and stores keys."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    assert client.ping() is True
    client.set("felix:test", "1")
    assert client.get("felix:test") == b"1"
    client.close()


def test_postgres_server_answers(postgres_server: PostgresServer) -> None:
    """The PostgreSQL fixture gives a database that runs SQL through SQLAlchemy."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_server.url)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT 1 + 1")).scalar_one() == 2
    engine.dispose()
