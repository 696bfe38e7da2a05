"""The demo's HTML report: self-contained, one SVG series per metric, every text escaped."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given

from felix_reliability._demo_report import (
    _LEFT,
    _RATE,
    _RIGHT,
    MAX_SECONDS,
    AlertEvent,
    BreakerTransition,
    DemoTimeline,
    HealthSample,
    IntervalSample,
    render_html,
)
from tests.strategies_report import timelines

SERIES = ("health", "breaker-state", "success-rate", "dead-letters", "alerts")
HOSTILE = "<script>alert(\"x\")</script> & 'q'"


class _Page(HTMLParser):
    """Collects the start tags and the text of a document as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(document: str) -> _Page:
    page = _Page()
    page.feed(document)
    page.close()
    return page


def svg_of(document: str) -> ET.Element:
    match = re.search(r"<svg\b.*</svg>", document, re.DOTALL)
    assert match is not None
    return ET.fromstring(match.group(0))  # noqa: S314 - our own output, no entities


def series(svg: ET.Element, name: str) -> ET.Element:
    found = svg.findall(f".//g[@data-series='{name}']")
    assert len(found) == 1
    return found[0]


def known_timeline(*, alert_name: str = "breaker_open") -> DemoTimeline:
    """Six 10-minute intervals: normal, idle, an outage with dead letters, recovery."""
    return DemoTimeline(
        interval=600,
        samples=[
            IntervalSample(
                start=0, breaker_state="closed", attempted=10, delivered=10, success_rate=1.0
            ),
            IntervalSample(start=600, breaker_state="closed"),
            IntervalSample(
                start=1200,
                breaker_state="open",
                attempted=12,
                delivered=2,
                dead_lettered=4,
                success_rate=0.2,
            ),
            IntervalSample(
                start=1800, breaker_state="open", attempted=5, dead_lettered=5, success_rate=0.0
            ),
            IntervalSample(
                start=2400, breaker_state="half_open", attempted=3, delivered=3, success_rate=1.0
            ),
            IntervalSample(
                start=3000, breaker_state="closed", attempted=10, delivered=10, success_rate=1.0
            ),
        ],
        transitions=[
            BreakerTransition(at=1250, from_state="closed", to_state="open"),
            BreakerTransition(at=2430, from_state="open", to_state="half_open"),
            BreakerTransition(at=2460, from_state="half_open", to_state="closed"),
        ],
        alerts=[
            AlertEvent(at=1300, name=alert_name, severity="warning", edge="new"),
            AlertEvent(at=1900, name="dead_letter_backlog", severity="critical", edge="escalated"),
            AlertEvent(at=2500, name=alert_name, severity="warning", edge="resolved"),
        ],
        health=[
            HealthSample(at=0, status="pass"),
            HealthSample(at=1200, status="fail"),
            HealthSample(at=2500, status="pass"),
        ],
        summary={"duplicates": 1, "sent": 40, "dead_lettered": 9, "permanent_dead_letters": 2},
    )


def test_document_is_html5_with_a_title() -> None:
    """The report is one HTML5 document whose title and heading are the given title."""
    document = render_html(known_timeline(), title="felix_hub day")
    page = parse(document)
    assert document.startswith("<!DOCTYPE html>\n")
    assert page.tags[0] == ("html", {"lang": "en"})
    assert "felix_hub day" in page.text


def test_document_has_no_script_and_no_external_resource() -> None:
    """Nothing runs and nothing is fetched: no script, URL, link, image or font."""
    document = render_html(known_timeline())
    tags = {tag for tag, _ in parse(document).tags}
    assert set() == tags & {"script", "link", "img", "iframe", "object", "embed", "image"}
    for needle in ("http:", "https:", "//", "url(", "@import", "@font-face", "src=", "href="):
        assert needle not in document.replace("</", "")


def test_each_series_is_one_group() -> None:
    """Each metric is exactly one <g data-series> in the SVG."""
    svg = svg_of(render_html(known_timeline()))
    found = [g.get("data-series") for g in svg.iter("g") if g.get("data-series")]
    assert list(SERIES) == found


def test_svg_is_accessible() -> None:
    """The SVG is an image with a title and a description of the run."""
    svg = svg_of(render_html(known_timeline()))
    assert svg.get("role") == "img"
    assert svg.findtext("title") == "Timeline of the scripted day"
    description = svg.findtext("desc") or ""
    assert "6 intervals of 600 s" in description
    assert "opened 1 times, 9 messages were dead-lettered, 2 alerts" in description


def test_breaker_band_has_one_rectangle_per_interval() -> None:
    """The breaker band draws each interval in its end state, with a tooltip."""
    band = series(svg_of(render_html(known_timeline())), "breaker-state")
    rects = band.findall("rect")
    expected = ["closed", "closed", "open", "open", "half_open", "closed"]
    assert expected == [r.get("data-state") for r in rects]
    assert rects[2].findtext("title") == "00:20 to 00:30 breaker open"


def test_success_rate_skips_idle_intervals() -> None:
    """The rate has a point per interval with events; an idle one breaks the line."""
    rate = series(svg_of(render_html(known_timeline())), "success-rate")
    points = rate.findall("circle")
    assert [p.get("data-rate") for p in points] == ["1.0", "0.2", "0.0", "1.0", "1.0"]
    assert [len(p.get("points", "").split()) for p in rate.findall("polyline")] == [1, 4]
    assert points[1].findtext("title") == "00:20 success rate 20.0%"


def test_dead_letters_are_bars_scaled_to_the_highest() -> None:
    """A bar per interval that dead-lettered something; the highest fills the panel."""
    bars = series(svg_of(render_html(known_timeline())), "dead-letters").findall("rect")
    assert [b.get("data-count") for b in bars] == ["4", "5"]
    heights = [float(b.get("height", "nan")) for b in bars]
    assert math.isclose(heights[0] / heights[1], 0.8)


def test_dead_letter_scale_is_labelled() -> None:
    """The panel's scale runs from 0 to the highest count, or only 0 when there is none."""
    panel = series(svg_of(render_html(known_timeline())), "dead-letters")
    assert [t.text for t in panel.findall("text")][1:] == ["0", "5"]
    empty = series(svg_of(render_html(DemoTimeline(interval=60))), "dead-letters")
    assert [t.text for t in empty.findall("text")][1:] == ["0"]


def test_alerts_are_markers_with_tooltips() -> None:
    """Raised and escalated alerts are triangles, resolved ones circles."""
    alerts = series(svg_of(render_html(known_timeline())), "alerts")
    markers = [m for m in alerts if m.tag in {"polygon", "circle"}]
    assert [m.tag for m in markers] == ["polygon", "polygon", "circle"]
    assert [m.get("data-edge") for m in markers] == ["new", "escalated", "resolved"]
    assert markers[0].findtext("title") == "00:21:40 warning alert breaker_open new"


def test_health_band_runs_until_the_next_sample() -> None:
    """Each health sample colours the band until the next one, the last to the end."""
    band = series(svg_of(render_html(known_timeline())), "health")
    rects = band.findall("rect")
    assert [r.get("data-status") for r in rects] == ["pass", "fail", "pass"]
    assert rects[2].findtext("title") == "00:41:40 to 01:00 health pass"


def test_x_axis_is_labelled_in_hours_and_minutes() -> None:
    """An hour-long run gets ticks every 5 minutes in hh:mm."""
    svg = svg_of(render_html(known_timeline()))
    axis = svg.find(".//g[@class='x-axis']")
    assert axis is not None
    labels = [t.text for t in axis.findall("text")]
    assert labels[0] == "00:00"
    assert labels[-2] == "01:00"
    assert labels[-1] == "Time of the scripted day (hh:mm)"


def test_short_run_is_labelled_in_seconds() -> None:
    """A run shorter than a few minutes gets hh:mm:ss ticks."""
    samples = [IntervalSample(start=i, breaker_state="closed") for i in range(10)]
    svg = svg_of(render_html(DemoTimeline(interval=1, samples=samples)))
    labels = [t.text for t in svg.findall(".//g[@class='x-axis']/text")]
    assert labels[:2] == ["00:00:00", "00:00:01"]
    assert labels[-1] == "Time of the scripted day (hh:mm:ss)"


def test_long_run_is_labelled_in_whole_days() -> None:
    """A run of many days gets at most a dozen ticks, a whole number of days apart."""
    svg = svg_of(render_html(DemoTimeline(interval=MAX_SECONDS)))
    labels = [t.text for t in svg.findall(".//g[@class='x-axis']/text")][:-1]
    assert len(labels) <= 13
    assert labels[1] == "744:00"  # 31 days: 365 days in at most a dozen steps


def test_events_after_the_last_sample_extend_the_axis() -> None:
    """The axis runs to the last sample or event, whichever is later."""
    timeline = DemoTimeline(
        interval=60,
        samples=[IntervalSample(start=0, breaker_state="closed")],
        alerts=[AlertEvent(at=300, name="late", severity="warning", edge="new")],
    )
    assert timeline.end == 300
    assert DemoTimeline(interval=60).end == 60


def test_hostile_names_are_escaped_everywhere() -> None:
    """Markup, quotes and ampersands in names and the title reach the page as text."""
    document = render_html(known_timeline(alert_name=HOSTILE), title=HOSTILE)
    page = parse(document)
    assert "script" not in {tag for tag, _ in page.tags}
    assert "".join(page.text).count(HOSTILE) >= 4
    svg = svg_of(document)
    titles = [t.text for t in series(svg, "alerts").iter("title")]
    assert f"00:21:40 warning alert {HOSTILE} new" == titles[0]


def test_control_characters_are_replaced() -> None:
    """Characters XML forbids become U+FFFD, so the SVG still parses."""
    timeline = DemoTimeline(
        interval=60, alerts=[AlertEvent(at=0, name="a\x00b\x1bc", severity="critical", edge="new")]
    )
    svg = svg_of(render_html(timeline))
    title = series(svg, "alerts").findtext("polygon/title")
    assert title == "00:00 critical alert a\ufffdb\ufffdc new"


def test_summary_shows_contract_keys_first() -> None:
    """The contract's keys come first in their order, then others, humanly labelled."""
    page = parse(render_html(known_timeline()))
    keys = [attrs["data-key"] for tag, attrs in page.tags if tag == "td" and "data-key" in attrs]
    assert keys == ["sent", "dead_lettered", "duplicates", "permanent_dead_letters"]
    text = "".join(page.text)
    assert "SentDead-lettered" not in text
    assert "Permanent dead letters2" in text


def test_tables_list_transitions_alerts_and_health() -> None:
    """Transitions, alerts and health samples are tabled with hh:mm:ss times."""
    text = "|".join(parse(render_html(known_timeline())).text)
    assert "00:20:50|closed|open" in text
    assert "00:40:30|open|half-open" in text
    assert "00:31:40|dead_letter_backlog|critical|escalated" in text
    assert "00:20:00|fail" in text


def test_empty_timeline_renders_cleanly() -> None:
    """A run with nothing in it still renders every series, empty, and says so."""
    document = render_html(DemoTimeline(interval=60))
    svg = svg_of(document)
    for name in SERIES:
        marks = [e for e in series(svg, name) if e.tag in {"rect", "circle", "polygon", "polyline"}]
        assert marks == []
    text = "".join(parse(document).text)
    for note in (
        "No interval samples recorded",
        "No counts recorded.",
        "No breaker transitions recorded.",
        "No alerts recorded.",
        "No health checks recorded.",
    ):
        assert note in text


def test_values_compare_by_content() -> None:
    """Timelines are frozen values: equal when their content is equal."""
    assert known_timeline() == known_timeline()
    with pytest.raises(AttributeError):
        known_timeline().interval = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "error", "field"),
    [
        (lambda: IntervalSample(start=-1, breaker_state="closed"), ValueError, "start"),
        (lambda: IntervalSample(start="0", breaker_state="closed"), TypeError, "start"),
        (
            lambda: IntervalSample(start=MAX_SECONDS + 1, breaker_state="closed"),
            ValueError,
            "start",
        ),
        (lambda: IntervalSample(start=0, breaker_state="broken"), ValueError, "breaker_state"),
        (
            lambda: IntervalSample(start=0, breaker_state="open", attempted=-1),
            ValueError,
            "attempted",
        ),
        (
            lambda: IntervalSample(start=0, breaker_state="open", delivered=True),
            TypeError,
            "delivered",
        ),
        (
            lambda: IntervalSample(start=0, breaker_state="open", dead_lettered=1.5),
            TypeError,
            "dead_lettered",
        ),
        (
            lambda: IntervalSample(start=0, breaker_state="open", success_rate=1.5),
            ValueError,
            "success_rate",
        ),
        (
            lambda: IntervalSample(start=0, breaker_state="open", success_rate=math.nan),
            ValueError,
            "success_rate",
        ),
        (lambda: BreakerTransition(at=-1, from_state="open", to_state="closed"), ValueError, "at"),
        (
            lambda: BreakerTransition(at=0, from_state="opened", to_state="closed"),
            ValueError,
            "from_state",
        ),
        (
            lambda: BreakerTransition(at=0, from_state="open", to_state="shut"),
            ValueError,
            "to_state",
        ),
        (lambda: AlertEvent(at=0, name=3, severity="warning", edge="new"), TypeError, "name"),
        (lambda: AlertEvent(at=0, name="a", severity="info", edge="new"), ValueError, "severity"),
        (lambda: AlertEvent(at=0, name="a", severity="warning", edge="gone"), ValueError, "edge"),
        (lambda: HealthSample(at=0, status="ok"), ValueError, "status"),
        (lambda: DemoTimeline(interval=0), ValueError, "interval"),
        (lambda: DemoTimeline(interval=MAX_SECONDS * 2), ValueError, "interval"),
        (
            lambda: DemoTimeline(interval=1, samples=[HealthSample(at=0, status="pass")]),
            TypeError,
            "samples[0]",
        ),
        (lambda: DemoTimeline(interval=1, summary={"sent": -1}), ValueError, "summary['sent']"),
        (lambda: DemoTimeline(interval=1, summary={"sent": "3"}), TypeError, "summary['sent']"),
        (lambda: DemoTimeline(interval=1, summary={1: 3}), TypeError, "summary keys"),
        (lambda: DemoTimeline(interval=1, summary={"": 3}), ValueError, "summary keys"),
    ],
)
def test_invalid_values_raise_naming_the_field(build, error, field) -> None:
    """A bad value raises at construction, naming the field."""
    with pytest.raises(error, match=re.escape(field)):
        build()


def _alert(at: float) -> AlertEvent:
    return AlertEvent(at=at, name="a", severity="warning", edge="new")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {
                "samples": [
                    IntervalSample(start=60, breaker_state="closed"),
                    IntervalSample(start=0, breaker_state="closed"),
                ]
            },
            "samples[1]",
        ),
        (
            {
                "samples": [
                    IntervalSample(start=0, breaker_state="closed"),
                    IntervalSample(start=0, breaker_state="open"),
                ]
            },
            "samples[1]",
        ),
        (
            {
                "transitions": [
                    BreakerTransition(at=5, from_state="closed", to_state="open"),
                    BreakerTransition(at=4, from_state="open", to_state="closed"),
                ]
            },
            "transitions[1]",
        ),
        ({"alerts": [_alert(1), _alert(1), _alert(0)]}, "alerts[2]"),
        (
            {"health": [HealthSample(at=9, status="pass"), HealthSample(at=3, status="fail")]},
            "health[1]",
        ),
    ],
)
def test_unsorted_times_raise_naming_the_field(kwargs, field) -> None:
    """Samples must increase strictly and events must be sorted; the error says which."""
    with pytest.raises(ValueError, match=re.escape(field)):
        DemoTimeline(interval=60, **kwargs)


def test_events_at_the_same_time_are_allowed() -> None:
    """Two alerts at the same instant are sorted."""
    assert len(DemoTimeline(interval=60, alerts=[_alert(1), _alert(1)]).alerts) == 2


@given(timelines())
def test_any_valid_timeline_renders(timeline: DemoTimeline) -> None:
    """Any valid timeline renders an SVG that parses, with the rate inside the plot."""
    document = render_html(timeline)
    svg = svg_of(document)
    assert "script" not in {tag for tag, _ in parse(document).tags}
    rate = series(svg, "success-rate")
    for polyline in rate.findall("polyline"):
        for point in polyline.get("points", "").split():
            x, y = map(float, point.split(","))
            assert _LEFT <= x <= _RIGHT
            assert _RATE[0] <= y <= _RATE[1]
    expected = sum(1 for s in timeline.samples if s.success_rate is not None)
    assert expected == len(rate.findall("circle"))
    assert len(timeline.alerts) == len(series(svg, "alerts")) - 1
