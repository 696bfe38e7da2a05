"""Correlation context rows: request ids."""

from __future__ import annotations

import uuid

from harness import Case, Row

from felix_reliability import new_request_id


def _ours(n: int) -> None:
    make = new_request_id
    for _ in range(n):
        make()


def _uuid4_hex(n: int) -> None:
    make = uuid.uuid4
    for _ in range(n):
        make().hex  # noqa: B018 - the attribute access is the work


def rows() -> list[Row]:
    """Return this module's rows."""
    return [
        Row(
            title="new_request_id() vs uuid.uuid4().hex",
            ours=Case("felix new_request_id", _ours),
            peers=(Case("uuid4().hex", _uuid4_hex),),
            note="issue target: at most 1 microsecond median",
        )
    ]
