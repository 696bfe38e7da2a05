"""Run every benchmark row and print nanoseconds per call and ratios ours/peer.

Usage: ``python benchmarks/run.py [--quick] [--only TEXT] [--json PATH]``.
Needs only the ``bench`` extra (and felix-reliability itself) installed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "src"))

from harness import Result, Row, measure  # noqa: E402 - after the path is set


def _rows(only: str | None) -> list[Row]:
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        rows.extend(row for row in module.rows() if only is None or only in row.title)
    return rows


def _format(result: Result) -> list[str]:
    row = result.row
    kind = "overhead ns/op" if row.baseline else "ns/op"
    lines = [f"\n{row.title}" + (f"  ({row.note})" if row.note else "")]
    lines.append(f"  {'case':<28}{kind + ' median':>22}{'min':>12}")
    for name, median in result.median_ns.items():
        lines.append(f"  {name:<28}{median:>22.1f}{result.min_ns[name]:>12.1f}")
    for peer in row.peers:
        ratio = result.ratio(peer.name)
        target = row.targets.get(peer.name)
        verdict = ""
        if target is not None:
            verdict = f"  target <= {target:g}x  {'met' if ratio <= target else 'MISSED'}"
        lines.append(
            f"  ratio ours/{peer.name}: {ratio:.3f}x (min {result.min_ratio(peer.name):.3f}x)"
            f"{verdict}"
        )
    return lines


def main() -> int:
    """Run the rows and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, fewer operations")
    parser.add_argument("--only", help="run only rows whose title contains this text")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    rounds, scale = (5, 0.2) if args.quick else (15, 1.0)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    results = []
    for row in _rows(args.only):
        result = measure(row, rounds=rounds, scale=scale)
        results.append(result)
        print("\n".join(_format(result)), flush=True)
    if args.json:
        payload = [
            {
                "title": r.row.title,
                "median_ns": r.median_ns,
                "min_ns": r.min_ns,
                "ratios": {p.name: r.ratio(p.name) for p in r.row.peers},
                "min_ratios": {p.name: r.min_ratio(p.name) for p in r.row.peers},
                "targets": r.row.targets,
            }
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
