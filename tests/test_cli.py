"""The command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from felix_reliability.cli import main


def test_a_command_is_required() -> None:
    """Without a command argparse exits with usage and status 2."""
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m felix_reliability demo` runs the same command."""
    result = subprocess.run(
        [sys.executable, "-m", "felix_reliability", "demo", "--orders", "30"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    assert result.returncode == 0
    assert "verdict: every deliverable notification was delivered" in result.stdout


# -- dead-letters, end to end in subprocesses -------------------------------------------------

SRC = str(Path(__file__).parents[1] / "src")
ROOT = str(Path(__file__).parents[1])

_HANDLERS = """
from felix_reliability.exceptions import CircuitOpenError

def accept(letter):
    pass

def refuse(letter):
    raise TimeoutError("still down")

def open_circuit(letter):
    raise CircuitOpenError("telegram", 10.0)

not_callable = 3
"""


def python() -> list[str]:
    """The interpreter command; under coverage, one that measures the subprocess too."""
    import coverage

    if coverage.Coverage.current() is None:
        return [sys.executable]
    return [
        sys.executable,
        "-m",
        "coverage",
        "run",
        "--parallel-mode",
        f"--rcfile={ROOT}/pyproject.toml",
    ]


def felix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m felix_reliability dead-letters ARGS` in *cwd*."""
    return subprocess.run(
        [*python(), "-m", "felix_reliability", "dead-letters", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([SRC, ROOT]),
            "COVERAGE_FILE": f"{ROOT}/.coverage",
        },
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory with a store of three letters and a handler module."""
    from felix_reliability import SQLiteDeadLetterStore
    from tests.dead_letter_store_contract import make_letter

    with SQLiteDeadLetterStore(tmp_path / "letters.db") as store:
        for index in range(3):
            store.put(make_letter(index, operation="mail.send" if index == 2 else "tg.send"))
    (tmp_path / "handlers.py").write_text(_HANDLERS, encoding="utf-8")
    return tmp_path


STORE = "sqlite:///letters.db"


def test_list_prints_a_table(workdir: Path) -> None:
    """list shows one row per letter under a header, oldest first."""
    result = felix("list", "--store", STORE, cwd=workdir)
    lines = result.stdout.splitlines()
    assert (result.returncode, len(lines)) == (0, 4)
    assert lines[0].startswith("ID")
    assert "letter-000000" in lines[1]
    assert "httpx.ReadTimeout: read timed out" in lines[1]


def test_list_json_and_filters(workdir: Path) -> None:
    """list --json prints the letters as a JSON array; --operation and --limit apply."""
    result = felix(
        "list",
        "--store",
        STORE,
        "--json",
        "--operation",
        "tg.send",
        "--limit",
        "1",
        "--offset",
        "1",
        cwd=workdir,
    )
    assert (
        result.returncode,
        [letter["id"] for letter in json.loads(result.stdout)],
    ) == (0, ["letter-000001"])


def test_list_of_an_empty_store(tmp_path: Path) -> None:
    """An empty store says so."""
    result = felix("list", "--store", "memory://", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "no dead letters\n")


def test_show_and_count(workdir: Path) -> None:
    """show prints one letter as JSON; count prints the number (or JSON)."""
    shown = felix("show", "letter-000001", "--store", STORE, cwd=workdir)
    compact = felix("show", "letter-000001", "--store", STORE, "--json", cwd=workdir)
    counted = felix("count", "--store", STORE, cwd=workdir)
    counted_json = felix("count", "--store", STORE, "--json", cwd=workdir)
    assert (
        json.loads(shown.stdout)["id"],
        len(compact.stdout.splitlines()),
        counted.stdout,
        json.loads(counted_json.stdout),
    ) == ("letter-000001", 1, "3\n", {"count": 3})


def test_show_unknown_id_fails(workdir: Path) -> None:
    """show of an unknown id exits 1 with a clear message."""
    result = felix("show", "nope", "--store", STORE, cwd=workdir)
    assert (
        result.returncode,
        result.stderr,
    ) == (1, "felix-reliability: error: no dead letter with id 'nope'\n")


def test_replay_accepts_and_reports_progress(workdir: Path) -> None:
    """replay runs the handler, prints progress on stderr and a summary on stdout."""
    result = felix(
        "replay", "--store", STORE, "--handler", "handlers:accept", "--rate", "1000", cwd=workdir
    )
    assert (result.returncode, result.stdout) == (0, "replayed 3, failed 0, skipped 0\n")
    assert "replayed 3, failed 0, skipped 0" in result.stderr  # after \r progress lines
    assert felix("count", "--store", STORE, cwd=workdir).stdout == "0\n"


def test_replay_with_refusals_exits_1(workdir: Path) -> None:
    """Refused letters stay and make the exit code 1; --json lists their ids."""
    result = felix(
        "replay",
        "--store",
        STORE,
        "--handler",
        "handlers:refuse",
        "--json",
        "--operation",
        "mail.send",
        cwd=workdir,
    )
    assert (result.returncode, json.loads(result.stdout)) == (
        1,
        {"replayed": [], "failed": ["letter-000002"], "skipped": [], "circuit_open": False},
    )


def test_replay_stops_at_an_open_circuit(workdir: Path) -> None:
    """An open circuit stops the replay, says so and exits 1."""
    result = felix(
        "replay",
        "--store",
        STORE,
        "--handler",
        "handlers:open_circuit",
        "--limit",
        "5",
        "--max-replays",
        "3",
        cwd=workdir,
    )
    assert (
        result.returncode,
        result.stdout,
    ) == (1, "replayed 0, failed 0, skipped 0 (stopped: circuit open)\n")


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("handlers", "MODULE:FUNCTION"),
        ("no_such_module:accept", "cannot import handler module 'no_such_module'"),
        ("handlers:missing", "has no callable 'missing'"),
        ("handlers:not_callable", "has no callable 'not_callable'"),
    ],
)
def test_replay_bad_handler_paths(workdir: Path, handler: str, message: str) -> None:
    """A bad --handler exits 1 with one clear line and no traceback."""
    result = felix("replay", "--store", STORE, "--handler", handler, cwd=workdir)
    assert (
        result.returncode,
        message in result.stderr,
        "Traceback" in result.stderr,
    ) == (1, True, False)


def test_bad_rate_is_a_usage_error(workdir: Path) -> None:
    """--rate must be a positive number: argparse exits 2."""
    result = felix(
        "replay", "--store", STORE, "--handler", "handlers:accept", "--rate", "x", cwd=workdir
    )
    assert (result.returncode, "positive number" in result.stderr) == (2, True)


def test_purge_asks_for_yes(workdir: Path) -> None:
    """purge without --yes deletes nothing and exits 2."""
    result = felix("purge", "--store", STORE, cwd=workdir)
    assert (result.returncode, felix("count", "--store", STORE, cwd=workdir).stdout) == (2, "3\n")
    assert "--yes" in result.stderr


def test_purge_older_than(workdir: Path) -> None:
    """purge --older-than 30d --yes deletes the old letters (all of 2026-01-01 here)."""
    kept = felix("purge", "--store", STORE, "--older-than", "99999w", "--yes", cwd=workdir)
    purged = felix("purge", "--store", STORE, "--older-than", "30d", "--yes", "--json", cwd=workdir)
    assert (kept.stdout, json.loads(purged.stdout)) == ("purged 0 letters\n", {"purged": 3})


def test_purge_everything(workdir: Path) -> None:
    """purge --yes without --older-than deletes every letter."""
    result = felix("purge", "--store", STORE, "--yes", cwd=workdir)
    assert (result.returncode, result.stdout) == (0, "purged 3 letters\n")


def test_bad_duration_is_a_usage_error(workdir: Path) -> None:
    """--older-than takes 30d, 12h, 15m, 45s or 2w."""
    result = felix("purge", "--store", STORE, "--older-than", "a month", "--yes", cwd=workdir)
    assert (result.returncode, "not a duration" in result.stderr) == (2, True)


def test_import_loads_a_jsonl_file(workdir: Path) -> None:
    """import --from FILE.jsonl puts its letters and reports torn lines it skipped."""
    from tests.dead_letter_store_contract import make_letter

    source = workdir / "letters.jsonl"
    source.write_text(
        make_letter(10).to_json() + "\n{torn\n" + make_letter(11).to_json() + "\n", encoding="utf-8"
    )
    result = felix("import", "--store", STORE, "--from", "letters.jsonl", cwd=workdir)
    again = felix("import", "--store", STORE, "--from", "letters.jsonl", "--json", cwd=workdir)
    assert (result.returncode, result.stdout) == (0, "imported 2 letters, skipped 1 bad lines\n")
    assert "skipping line 2 of letters.jsonl" in result.stderr
    assert (
        json.loads(again.stdout),
        felix("count", "--store", STORE, cwd=workdir).stdout,
    ) == ({"imported": 2, "skipped_lines": [2]}, "5\n")


def test_import_of_a_missing_file_fails(workdir: Path) -> None:
    """A missing --from file exits 1 and names it."""
    result = felix("import", "--store", STORE, "--from", "nope.jsonl", cwd=workdir)
    assert (
        result.returncode,
        result.stderr,
    ) == (
        1,
        "felix-reliability: error: cannot read 'nope.jsonl': No such file or directory\n",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "url must look like"),
        ("sqlite:///missing/dir/x.db", "could not open"),
        ("postgresql://user:hunter2@db/app", "could not read"),
    ],
)
def test_bad_store_urls_fail_cleanly(tmp_path: Path, url: str, message: str) -> None:
    """A bad or unavailable store exits 1 with one line, no traceback, no password."""
    result = felix("count", "--store", url, cwd=tmp_path)
    assert (
        result.returncode,
        message in result.stderr,
        "Traceback" in result.stderr,
        "hunter2" in result.stderr,
    ) == (1, True, False, False)


def test_store_is_required(tmp_path: Path) -> None:
    """--store is required: argparse exits 2."""
    assert felix("count", cwd=tmp_path).returncode == 2


def test_main_in_process_runs_dead_letters(capsys: pytest.CaptureFixture[str]) -> None:
    """main() runs a dead-letters action in-process and returns its exit code."""
    assert main(["dead-letters", "count", "--store", "memory://"]) == 0
    assert capsys.readouterr().out == "0\n"


def test_handler_module_is_found_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like python -m, the command imports --handler modules from the working directory."""
    (tmp_path / "felix_cli_test_handlers.py").write_text(_HANDLERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))]
    )
    monkeypatch.delitem(sys.modules, "felix_cli_test_handlers", raising=False)
    code = main(
        [
            "dead-letters",
            "replay",
            "--store",
            "memory://",
            "--handler",
            "felix_cli_test_handlers:accept",
        ]
    )
    assert (code, capsys.readouterr().out) == (0, "replayed 0, failed 0, skipped 0\n")
    assert str(tmp_path) == sys.path[0]
