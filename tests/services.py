"""Throwaway redis-server and PostgreSQL servers for tests that need the real thing.

Each fixture starts its server on a free loopback port in a temporary
directory, with no persistence, and stops it at the end of the session.
Without the binaries the tests skip with a clear reason, unless
``FELIX_REQUIRE_SERVICES=1`` (set by ``.ci/run``), under which a missing
server fails the run instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

__all__ = ["PostgresServer", "RedisServer", "free_port", "postgres_server", "redis_server"]

REQUIRE = os.environ.get("FELIX_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str) -> None:
    message = f"{what} is not installed (apt-get install it, or run bash .ci/run)"
    if REQUIRE:
        pytest.fail(f"FELIX_REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


@dataclass
class RedisServer:
    """A running redis-server: connect to ``127.0.0.1:port``."""

    port: int
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        """Return the redis:// URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (tests use this to simulate an outage)."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def start(self) -> None:
        """Start the server again on the same port after `stop`."""
        self.process = _start_redis(self.port)


def _start_redis(port: int) -> subprocess.Popen[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "notice",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:  # blocks until the server says it is ready (or exits)
        seen.append(line)
        if "Ready to accept connections" in line:
            # Keep reading its log so that a full pipe never blocks the server.
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return process
    process.wait(timeout=10)
    raise RuntimeError("redis-server did not start:\n" + "".join(seen[-20:]))


def _drain(stream: IO[str]) -> None:
    with contextlib.suppress(ValueError, OSError):
        for _ in stream:
            pass


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Start a throwaway redis-server for the test session."""
    port = free_port()
    server = RedisServer(port=port, process=_start_redis(port))
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL cluster with a database ``felix`` owned by ``postgres``."""

    port: int
    socket_dir: str

    @property
    def url(self) -> str:
        """Return a SQLAlchemy URL (psycopg 3) for the ``felix`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/felix"


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the server as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        _missing("the postgres system user")
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL (initdb + pg_ctl in a temp dir) for the session."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        _missing("PostgreSQL (initdb, pg_ctl)")
    prefix = _as_postgres_user()
    root = Path(tempfile.mkdtemp(prefix="felix-pg-"))
    if prefix:
        shutil.chown(root, user="postgres")
    data, port = root / "data", free_port()
    subprocess.run(
        [*prefix, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(
        [
            *prefix,
            str(pg_ctl),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE felix")
        yield PostgresServer(port=port, socket_dir=str(root))
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                [*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"],
                check=True,
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)
