"""The main job: `felix-reliability demo` tells felix_hub's day and loses nothing."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from felix_reliability._demo import run_demo
from felix_reliability.cli import main


def test_demo_json_counts_add_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a fixed seed and a small day the counts add up and the exit code is 0."""
    report = tmp_path / "report.html"
    code = main(["demo", "--orders", "150", "--seed", "3", "--json", "--report", str(report)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["ok"] is True
    assert data["sent"] == 150
    assert (
        data["delivered_first_try"] + data["delivered_after_retry"] + data["dead_lettered"]
        == data["sent"]
    )
    assert data["delivered_total"] + data["permanent_dead_letters"] == data["sent"]
    assert data["replayed"] == data["dead_lettered"] - data["permanent_dead_letters"]
    assert data["dead_letters_left"] == data["permanent_dead_letters"] == 2
    assert data["duplicates"] == 0
    assert data["delivered_after_retry"] > 0
    assert (data["health"]["before"], data["health"]["after"]) == ("pass", "pass")
    assert data["health"]["during"] in {"warn", "fail"}
    assert data["transitions"][0]["to"] == "open"
    assert data["transitions"][-1]["to"] == "closed"
    assert data["alerts_raised"] >= 1
    assert data["log_lines"] == data["log_lines_with_request_id"] > 0


def test_demo_report_is_self_contained_with_one_series_per_metric(tmp_path: Path) -> None:
    """The HTML report has no script or network reference and an SVG with every series."""
    report = tmp_path / "report.html"
    assert main(["demo", "--orders", "100", "--seed", "5", "--report", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    match = re.search(r"<svg\b.*</svg>", html, re.DOTALL)
    assert match is not None
    svg = ET.fromstring(match.group(0))
    series = {g.get("data-series") for g in svg.iter("g") if g.get("data-series")}
    assert {"breaker-state", "success-rate", "dead-letters", "alerts", "health"} <= series


def test_demo_text_report_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json a readable report goes to stdout and plain progress lines to stderr."""
    assert main(["demo", "--orders", "60", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "every deliverable notification was delivered at least once" in captured.out
    assert "[13:00] Telegram outage begins" in captured.err
    assert "\r" not in captured.err


def test_demo_uses_the_store_it_is_given(tmp_path: Path) -> None:
    """--store puts the letters where the operator asked; the permanent ones stay there."""
    from felix_reliability import SQLiteDeadLetterStore

    path = tmp_path / "letters.db"
    result = run_demo(orders=50, seed=2, store_url=f"sqlite:///{path}")
    assert result.ok
    store = SQLiteDeadLetterStore(path)
    assert store.count() == result.summary["dead_letters_left"] == 2
    store.close()


def test_demo_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    """A non-positive order count is a usage error naming the option."""
    with pytest.raises(SystemExit) as info:
        main(["demo", "--orders", "0"])
    assert info.value.code == 2
    assert "--orders" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--orders", "many"])
    with pytest.raises(ValueError, match="orders"):
        run_demo(orders=0)


def test_a_lost_notification_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exit code is 1 when a deliverable order never reached Telegram."""
    from felix_reliability import _demo

    real = _demo.DemoResult.ok
    monkeypatch.setattr(_demo.DemoResult, "ok", property(lambda self: False))
    assert main(["demo", "--orders", "20", "--json"]) == 1
    monkeypatch.setattr(_demo.DemoResult, "ok", real)


def test_progress_on_a_terminal_redraws_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal the progress line is redrawn in place and ends with a newline."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["demo", "--orders", "30", "--json"]) == 0
    assert terminal.getvalue().count("\r\x1b[2K") > 10
    assert terminal.getvalue().endswith("\n")
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_log_counter_tells_lines_without_a_request_id() -> None:
    """A log line outside any request is counted, but not as carrying a request id."""
    import logging

    from felix_reliability._demo import _LogCounter

    counter = _LogCounter()
    counter.handle(logging.LogRecord("x", logging.ERROR, __file__, 1, "no context", None, None))
    assert (counter.lines, counter.with_request_id) == (1, 0)
