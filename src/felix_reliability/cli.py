"""The ``felix-reliability`` command.

Exit codes: 0 success; 1 an operational error (a bad store URL, a missing
file, a bad handler path, a letter not found, letters refused on replay);
2 a usage error (argparse), or a ``purge`` without ``--yes``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final, TextIO, cast

from felix_reliability._dead_letters import (
    DeadLetter,
    DeadLetterStore,
    open_dead_letter_store,
    read_jsonl_letters,
)
from felix_reliability._replay import ReplayReport, replay_dead_letters
from felix_reliability._secrets import redact
from felix_reliability.exceptions import FelixReliabilityError

__all__ = ["main"]

_DURATION: Final = re.compile(r"(\d+)([smhdw])")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class _CommandError(Exception):
    """An operational error: printed as one line, exit code 1."""


def _duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration such as 30d, 12h, 15m, 45s or 2w"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _positive_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 < rate < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of letters per second")
    return rate


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="felix-reliability",
        description="Dependable calls to flaky remote APIs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the felix_hub story on the embedded defaults")
    _add_dead_letters(
        commands.add_parser("dead-letters", help="list, replay and purge dead letters")
    )
    return parser


def _add_dead_letters(group: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        required=True,
        metavar="URL",
        help="memory://, sqlite:///relative.db, sqlite:////absolute.db or a SQLAlchemy URL",
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", parents=[common], help="list letters, oldest first")
    listing.add_argument("--operation", help="only letters of this operation")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many first (0)")

    show = actions.add_parser("show", parents=[common], help="print one letter as JSON")
    show.add_argument("id", help="the letter id")

    actions.add_parser("count", parents=[common], help="print how many letters are stored")

    replay = actions.add_parser("replay", parents=[common], help="offer letters to a handler")
    replay.add_argument(
        "--handler",
        required=True,
        metavar="MODULE:FUNCTION",
        help="a function taking a DeadLetter: returning accepts it, raising refuses it",
    )
    replay.add_argument("--rate", type=_positive_rate, help="at most N letters per second")
    replay.add_argument("--operation", help="only letters of this operation")
    replay.add_argument("--limit", type=int, help="offer at most this many letters")
    replay.add_argument("--max-replays", type=int, default=5, help="skip letters refused N times")

    purge = actions.add_parser("purge", parents=[common], help="delete letters for good")
    purge.add_argument(
        "--older-than", type=_duration, metavar="AGE", help="only letters older than AGE (30d)"
    )
    purge.add_argument("--yes", action="store_true", help="confirm the deletion")

    load = actions.add_parser("import", parents=[common], help="load a JSONL sink's letters")
    load.add_argument("--from", dest="source", required=True, metavar="FILE.jsonl")


def _load_handler(path: str) -> Callable[[DeadLetter], object]:
    module_name, _, function_name = path.partition(":")
    if not module_name or not function_name:
        raise _CommandError(f"--handler must be MODULE:FUNCTION, got {path!r}")
    # Like ``python -m``, find the handler's module in the working directory.
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _CommandError(f"cannot import handler module {module_name!r}: {exc}") from exc
    handler: object = module
    for part in function_name.split("."):
        handler = getattr(handler, part, None)
    if not callable(handler):
        raise _CommandError(f"{module_name!r} has no callable {function_name!r}")
    return cast("Callable[[DeadLetter], object]", handler)


def _table(letters: Sequence[DeadLetter]) -> str:
    header = ("ID", "CREATED (UTC)", "OPERATION", "REASON", "TRIES", "REPLAYS", "ERROR")
    rows = [header] + [
        (
            letter.id,
            letter.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            letter.operation,
            letter.reason.value,
            str(letter.attempts),
            str(letter.replay_count),
            f"{letter.error_type}: {letter.error_message}".strip(": ")[:60],
        )
        for letter in letters
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _dead_letters(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:  # noqa: C901, PLR0912 - one branch per action
    handler = _load_handler(args.handler) if args.action == "replay" else None
    if args.action == "purge" and not args.yes:
        err.write("purge deletes letters for good: add --yes to confirm\n")
        return 2
    store = open_dead_letter_store(args.store)
    try:
        if args.action == "list":
            letters = store.list(operation=args.operation, limit=args.limit, offset=args.offset)
            if args.json:
                out.write(json.dumps([letter.to_dict() for letter in letters], indent=2) + "\n")
            elif letters:
                out.write(_table(letters) + "\n")
            else:
                out.write("no dead letters\n")
        elif args.action == "show":
            letter = store.get(args.id)
            if letter is None:
                raise _CommandError(f"no dead letter with id {args.id!r}")
            out.write(json.dumps(letter.to_dict(), indent=None if args.json else 2) + "\n")
        elif args.action == "count":
            count = store.count()
            out.write((json.dumps({"count": count}) if args.json else str(count)) + "\n")
        elif args.action == "replay":
            return _replay(store, cast("Callable[[DeadLetter], object]", handler), args, out, err)
        elif args.action == "purge":
            purged = store.purge(older_than=args.older_than)
            out.write(
                (json.dumps({"purged": purged}) if args.json else f"purged {purged} letters") + "\n"
            )
        else:
            return _import(store, args, out, err)
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return 0


def _replay(
    store: DeadLetterStore,
    handler: Callable[[DeadLetter], object],
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> int:
    def progress(report: ReplayReport) -> None:
        err.write(
            f"\rreplayed {len(report.replayed)}, failed {len(report.failed)}, "
            f"skipped {len(report.skipped)}"
        )
        err.flush()

    report = replay_dead_letters(
        store,
        handler,
        operation=args.operation,
        limit=args.limit,
        max_replays=args.max_replays,
        rate=args.rate,
        progress=progress,
    )
    err.write("\n")
    if args.json:
        out.write(
            json.dumps(
                {
                    "replayed": report.replayed,
                    "failed": report.failed,
                    "skipped": report.skipped,
                    "circuit_open": report.circuit_open,
                }
            )
            + "\n"
        )
    else:
        out.write(
            f"replayed {len(report.replayed)}, failed {len(report.failed)}, "
            f"skipped {len(report.skipped)}"
            + (" (stopped: circuit open)" if report.circuit_open else "")
            + "\n"
        )
    return 1 if report.failed or report.circuit_open else 0


def _import(store: DeadLetterStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def skipped(line: int, reason: str) -> None:
        bad.append(line)
        err.write(f"skipping line {line} of {args.source}: {reason}\n")

    bad: list[int] = []
    imported = 0
    try:
        for letter in read_jsonl_letters(args.source, on_error=skipped):
            store.put(letter)
            imported += 1
    except OSError as exc:
        raise _CommandError(f"cannot read {args.source!r}: {exc.strerror or exc}") from exc
    if args.json:
        out.write(json.dumps({"imported": imported, "skipped_lines": bad}) + "\n")
    else:
        out.write(f"imported {imported} letters, skipped {len(bad)} bad lines\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default `sys.argv[1:]`) and return the exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "demo":
        sys.stderr.write(
            "felix-reliability demo: the demo is not built yet (see the open issue "
            "'The main job and the docs site'); the library's components are usable.\n"
        )
        return 0
    try:
        return _dead_letters(args, sys.stdout, sys.stderr)
    except (_CommandError, FelixReliabilityError, ValueError) as exc:
        sys.stderr.write(f"felix-reliability: error: {redact(str(exc))}\n")
        return 1
