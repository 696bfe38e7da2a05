"""The ``felix-reliability`` command.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="felix-reliability",
        description="Dependable calls to flaky remote APIs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the felix_hub story on the embedded defaults")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default `sys.argv[1:]`) and return the exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "demo":  # pragma: no branch - the only command so far
        sys.stderr.write(
            "felix-reliability demo: the demo is not built yet (see the open issue "
            "'The main job and the docs site'); the library's components are usable.\n"
        )
        return 0
    return 0  # pragma: no cover - argparse rejects unknown commands
