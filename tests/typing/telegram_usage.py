"""FakeTelegramServer as a user's tests use it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

from typing import assert_type

from felix_reliability.testing import FakeTelegramServer

with FakeTelegramServer("123:abc") as server:
    assert_type(server, FakeTelegramServer)
    assert_type(server.base_url, str)
    assert_type(server.token, str)
    server.rate_limit(5, chat_id=42)
    server.server_error(502, html=True, times=None)
    server.reject(403, "Forbidden: bot was blocked by the user", chat_id="@channel")
    server.migrate(-100, -1001234)
    server.reset_connection(after_processing=True, times=2)
    server.slow(0.1)
    server.start_outage("reset")
    server.end_outage()
    server.set_fault_rate(0.3, seed=1, kinds=("rate_limit", "reset_after", "slow"), slow_delay=0.01)
    for kind, chat_id in server.fault_log:
        assert_type(kind, str)
        assert_type(chat_id, int | str | None)
    server.clear_faults()
    for message in server.messages:
        chat: int | str = message.chat_id
        text: str = message.text
        params = dict(message.params)
    assert_type(server.count(42, "hi"), int)
    assert_type(server.duplicate_count, int)
    assert_type(server.request_count, int)
    duplicates: dict[object, int] = server.duplicates()
    server.clear()

standalone = FakeTelegramServer(None).start()
standalone.close()
