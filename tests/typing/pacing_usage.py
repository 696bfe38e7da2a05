"""Telegram pacing as a user configures it; checked by mypy --strict and pyright, not run."""

from __future__ import annotations

import math
from typing import assert_type

from felix_reliability.adapters.telegram import (
    AsyncTelegramNotifier,
    TelegramNotifier,
    TelegramPacing,
)

pacing = TelegramPacing(per_chat_interval=1.0, global_rate=30.0, flood_chats=2)
assert_type(pacing.per_chat_interval, float)
assert_type(pacing.global_rate, float)
assert_type(pacing.flood_chats, int)
unlimited = TelegramPacing(per_chat_interval=0.0, global_rate=math.inf)

notifier = TelegramNotifier("123:abc", pacing=pacing)
assert_type(notifier.pacing, TelegramPacing | None)
plain = TelegramNotifier("123:abc")
async_notifier = AsyncTelegramNotifier("123:abc", pacing=unlimited)
assert_type(async_notifier.pacing, TelegramPacing | None)
