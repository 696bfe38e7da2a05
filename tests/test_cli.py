"""The command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from felix_reliability.cli import main


def test_demo_placeholder_says_so_honestly(capsys: pytest.CaptureFixture[str]) -> None:
    """Until the demo exists, the command says it is not built yet."""
    assert main(["demo"]) == 0
    assert "not built yet" in capsys.readouterr().err


def test_a_command_is_required() -> None:
    """Without a command argparse exits with usage and status 2."""
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m felix_reliability demo` runs the same command."""
    result = subprocess.run(
        [sys.executable, "-m", "felix_reliability", "demo"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    assert result.returncode == 0
    assert "not built yet" in result.stderr
