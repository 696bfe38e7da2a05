"""How the demo fills and renders a report timeline (checked by mypy and pyright, not run)."""

from __future__ import annotations

from pathlib import Path

from felix_reliability._demo_report import (
    AlertEvent,
    BreakerTransition,
    DemoTimeline,
    HealthSample,
    IntervalSample,
    render_html,
)

timeline = DemoTimeline(
    interval=60.0,
    samples=[
        IntervalSample(start=0, breaker_state="closed", attempted=3, delivered=3, success_rate=1.0),
        IntervalSample(start=60, breaker_state="open", attempted=2, dead_lettered=2),
    ],
    transitions=[BreakerTransition(at=75.5, from_state="closed", to_state="open")],
    alerts=[AlertEvent(at=80, name="breaker_open", severity="warning", edge="new")],
    health=[HealthSample(at=0, status="pass"), HealthSample(at=90, status="warn")],
    summary={"sent": 5, "delivered_total": 3, "dead_lettered": 2},
)
end: float = timeline.end
document: str = render_html(timeline, title="felix_hub")
Path("report.html").write_text(document, encoding="utf-8")
