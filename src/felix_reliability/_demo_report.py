"""The demo's HTML report: one self-contained file with an inline SVG timeline.

The demo fills a `DemoTimeline` as it runs its scripted day and
`render_html()` turns it into an HTML5 document that needs nothing else: no
JavaScript, no stylesheet or font to fetch, no image but the inline SVG. It
can be opened from disk, mailed, or attached to a CI run.

The timeline has one series per metric, each a `<g data-series="...">` so
tests can find them: ``health`` and ``breaker-state`` (coloured bands, one
rectangle per sample), ``success-rate`` (a polyline with a point per interval
that had events), ``dead-letters`` (a bar per interval that dead-lettered
something) and ``alerts`` (a marker per alert edge). Every text that reaches
the page is escaped, since alert names may come from anywhere.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, Literal, cast

import attrs

from felix_reliability._validation import check_non_negative_float, check_positive_float
from felix_reliability.exceptions import ConfigurationError

__all__ = [
    "MAX_SECONDS",
    "SUMMARY_KEYS",
    "AlertEvent",
    "BreakerTransition",
    "DemoTimeline",
    "HealthSample",
    "IntervalSample",
    "render_html",
    "render_svg",
]

BreakerStateName = Literal["closed", "half_open", "open"]
Severity = Literal["warning", "critical"]
AlertEdge = Literal["new", "escalated", "resolved"]
HealthStatusName = Literal["pass", "warn", "fail"]

_BREAKER_STATES: Final = ("closed", "half_open", "open")
_SEVERITIES: Final = ("warning", "critical")
_EDGES: Final = ("new", "escalated", "resolved")
_HEALTH_STATUSES: Final = ("pass", "warn", "fail")

#: The keys `felix-reliability demo --json` promises (DESIGN.md, "Command line"),
#: in the order the report shows them, with their labels.
SUMMARY_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "sent": "Sent",
        "delivered_first_try": "Delivered first try",
        "delivered_after_retry": "Delivered after retry",
        "dead_lettered": "Dead-lettered",
        "replayed": "Replayed after recovery",
        "delivered_total": "Delivered in total",
        "duplicates": "Duplicates (at least once)",
    }
)


#: The longest time the report draws: a year of the scripted day is plenty, and
#: the bound keeps every coordinate finite.
MAX_SECONDS: Final = 365 * 86400.0

# --- validation -------------------------------------------------------------


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ConfigurationError(f"{name} must be >= 0, got {value!r}")
    return value


def _check_time(name: str, value: object) -> float:
    seconds = check_non_negative_float(name, value)
    if seconds > MAX_SECONDS:
        raise ConfigurationError(f"{name} must be <= {MAX_SECONDS:g} seconds, got {value!r}")
    return seconds


def _check_rate(name: str, value: object) -> float | None:
    if value is None:
        return None
    number = check_non_negative_float(name, value)
    if number > 1:
        raise ConfigurationError(f"{name} must be in [0, 1] or None, got {value!r}")
    return number


def _check_interval(value: object) -> float:
    seconds = check_positive_float("interval", value)
    if seconds > MAX_SECONDS:
        raise ConfigurationError(f"interval must be <= {MAX_SECONDS:g} seconds, got {value!r}")
    return seconds


def _check_sorted(name: str, times: Sequence[float], *, strictly: bool = False) -> None:
    for index in range(1, len(times)):
        before, after = times[index - 1], times[index]
        if after < before or (strictly and after == before):
            order = "strictly increasing" if strictly else "sorted"
            raise ConfigurationError(
                f"{name} must be {order} by time: {name}[{index}] at {after!r} "
                f"follows {name}[{index - 1}] at {before!r}"
            )


def _check_summary(value: Mapping[str, int]) -> Mapping[str, int]:
    checked: dict[str, int] = {}
    # The demo is typed, but the summary may come from parsed JSON: check anyway.
    for key, count in cast("Iterable[tuple[object, object]]", value.items()):
        if not isinstance(key, str):
            raise TypeError(f"summary keys must be str, got {type(key).__name__} {key!r}")
        if not key:
            raise ConfigurationError("summary keys must not be empty")
        checked[key] = _check_count(f"summary[{key!r}]", count)
    return MappingProxyType(checked)


# --- the data model ---------------------------------------------------------


def _is_time(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _check_time(attribute.name, value)


def _is_count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    _check_count(attribute.name, value)


def _is_rate(
    _instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    _check_rate(attribute.name, value)


def _is_text(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance] - callers may be untyped
        raise TypeError(f"{attribute.name} must be a str, got {type(value).__name__} {value!r}")


@attrs.frozen
class IntervalSample:
    """What happened in one interval of the scripted day.

    Args:
        start: Seconds from the start of the scripted day.
        breaker_state: The breaker's state at the end of the interval.
        attempted: Messages attempted in the interval (retries included).
        delivered: Messages delivered in the interval.
        dead_lettered: Messages dead-lettered in the interval.
        success_rate: Delivered over finished calls in [0, 1], or `None` when
            the interval had no events.
    """

    start: float = attrs.field(validator=_is_time)
    breaker_state: BreakerStateName = attrs.field(validator=attrs.validators.in_(_BREAKER_STATES))
    attempted: int = attrs.field(default=0, validator=_is_count)
    delivered: int = attrs.field(default=0, validator=_is_count)
    dead_lettered: int = attrs.field(default=0, validator=_is_count)
    success_rate: float | None = attrs.field(default=None, validator=_is_rate)


@attrs.frozen
class BreakerTransition:
    """The breaker moved from one state to another at *at* seconds."""

    at: float = attrs.field(validator=_is_time)
    from_state: BreakerStateName = attrs.field(validator=attrs.validators.in_(_BREAKER_STATES))
    to_state: BreakerStateName = attrs.field(validator=attrs.validators.in_(_BREAKER_STATES))


@attrs.frozen
class AlertEvent:
    """An alert edge: raised (``new``), ``escalated`` or ``resolved`` at *at* seconds."""

    at: float = attrs.field(validator=_is_time)
    name: str = attrs.field(validator=_is_text)
    severity: Severity = attrs.field(validator=attrs.validators.in_(_SEVERITIES))
    edge: AlertEdge = attrs.field(validator=attrs.validators.in_(_EDGES))


@attrs.frozen
class HealthSample:
    """The health status evaluated at *at* seconds."""

    at: float = attrs.field(validator=_is_time)
    status: HealthStatusName = attrs.field(validator=attrs.validators.in_(_HEALTH_STATUSES))


# Named converters, so type checkers see what the constructor accepts.
def _samples(value: Iterable[IntervalSample]) -> tuple[IntervalSample, ...]:
    return tuple(value)


def _transitions(value: Iterable[BreakerTransition]) -> tuple[BreakerTransition, ...]:
    return tuple(value)


def _alerts(value: Iterable[AlertEvent]) -> tuple[AlertEvent, ...]:
    return tuple(value)


def _health(value: Iterable[HealthSample]) -> tuple[HealthSample, ...]:
    return tuple(value)


@attrs.frozen
class DemoTimeline:
    """A whole demo run, as the report draws it.

    Args:
        interval: The length of one sample interval, in seconds.
        samples: One `IntervalSample` per interval, strictly increasing by start.
        transitions: Breaker transitions, sorted by time.
        alerts: Alert edges, sorted by time.
        health: Health status samples, sorted by time.
        summary: The run's counts; `SUMMARY_KEYS` first, any other key after.
    """

    interval: float = attrs.field(converter=_check_interval)
    samples: tuple[IntervalSample, ...] = attrs.field(default=(), converter=_samples)
    transitions: tuple[BreakerTransition, ...] = attrs.field(default=(), converter=_transitions)
    alerts: tuple[AlertEvent, ...] = attrs.field(default=(), converter=_alerts)
    health: tuple[HealthSample, ...] = attrs.field(default=(), converter=_health)
    summary: Mapping[str, int] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_check_summary, hash=False
    )

    def __attrs_post_init__(self) -> None:
        _check_items("samples", self.samples, IntervalSample)
        _check_items("transitions", self.transitions, BreakerTransition)
        _check_items("alerts", self.alerts, AlertEvent)
        _check_items("health", self.health, HealthSample)
        _check_sorted("samples", [s.start for s in self.samples], strictly=True)
        _check_sorted("transitions", [t.at for t in self.transitions])
        _check_sorted("alerts", [a.at for a in self.alerts])
        _check_sorted("health", [h.at for h in self.health])

    @property
    def end(self) -> float:
        """Return the time the timeline's x axis runs to: its last sample or event."""
        ends = [self.interval]
        if self.samples:
            ends.append(self.samples[-1].start + self.interval)
        ends.extend(
            events[-1].at for events in (self.transitions, self.alerts, self.health) if events
        )
        return max(ends)


def _check_items(name: str, items: Sequence[object], kind: type[object]) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            raise TypeError(
                f"{name}[{index}] must be a {kind.__name__}, got {type(item).__name__} {item!r}"
            )


# --- text -------------------------------------------------------------------

# Characters XML 1.0 forbids even as references; HTML parsers replace them too.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """Return *value* as text safe in HTML and in the SVG's XML alike."""
    return html.escape(_NOT_XML.sub("\N{REPLACEMENT CHARACTER}", str(value)), quote=True)


def _clock(seconds: float, *, always_seconds: bool = False) -> str:
    """Format seconds from the start of the scripted day as hh:mm, or hh:mm:ss if needed."""
    whole = math.floor(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if secs or always_seconds:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}"


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _state_label(state: str) -> str:
    return state.replace("_", "-")


def _num(value: float) -> str:
    return f"{value:.2f}"


# --- the SVG ----------------------------------------------------------------

_WIDTH: Final = 1000
_LEFT: Final = 140
_RIGHT: Final = 970
_LEGEND_Y: Final = 22
_HEALTH: Final = (44, 60)
_BREAKER: Final = (68, 92)
_RATE: Final = (108, 248)
_DEAD: Final = (268, 348)
_ALERTS: Final = (362, 390)
_AXIS_Y: Final = 400
_HEIGHT: Final = 448

_STATE_COLOURS: Final = {"closed": "#2e7d32", "half_open": "#f9a825", "open": "#c62828"}
_HEALTH_COLOURS: Final = {"pass": "#2e7d32", "warn": "#f9a825", "fail": "#c62828"}
_SEVERITY_COLOURS: Final = {"warning": "#ef6c00", "critical": "#c62828"}
_RESOLVED_COLOUR: Final = "#2e7d32"
_RATE_COLOUR: Final = "#1565c0"
_DEAD_COLOUR: Final = "#6a1b9a"
# Adjacent interval rectangles would show hairline seams if anti-aliased.
_CRISP: Final = 'shape-rendering="crispEdges"'
_TICK_STEPS: Final = (1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


@attrs.frozen
class _Scale:
    """Maps seconds of the scripted day to x coordinates of the plot."""

    end: float

    def x(self, seconds: float) -> float:
        return _LEFT + (_RIGHT - _LEFT) * min(seconds, self.end) / self.end


def _rate_y(rate: float) -> float:
    top, bottom = _RATE
    return bottom - (bottom - top) * rate


def _tick_step(end: float) -> float:
    for step in _TICK_STEPS:
        if end / step <= 12:  # noqa: PLR2004 - at most a dozen labels fit the width
            return float(step)
    return float(math.ceil(end / 12 / 86400) * 86400)


def _ticks(end: float) -> list[float]:
    step = _tick_step(end)
    return [index * step for index in range(math.floor(end / step) + 1)]


def _title(text: str) -> str:
    return f"<title>{_text(text)}</title>"


def _row_label(y: float, text: str) -> str:
    return f'<text x="8" y="{_num(y)}" class="row">{_text(text)}</text>'


def _span(start: float, end: float) -> str:
    return f"{_clock(start)} to {_clock(end)}"


def _health_band(timeline: DemoTimeline, scale: _Scale) -> str:
    top, bottom = _HEALTH
    parts = [_row_label((top + bottom) / 2 + 4, "Health")]
    for index, sample in enumerate(timeline.health):
        end = timeline.health[index + 1].at if index + 1 < len(timeline.health) else scale.end
        x0, x1 = scale.x(sample.at), scale.x(end)
        parts.append(
            f'<rect x="{_num(x0)}" y="{top}" width="{_num(x1 - x0)}" height="{bottom - top}" '
            f'fill="{_HEALTH_COLOURS[sample.status]}" {_CRISP} data-status="{sample.status}">'
            f"{_title(f'{_span(sample.at, end)} health {sample.status}')}</rect>"
        )
    return _group("health", parts)


def _breaker_band(timeline: DemoTimeline, scale: _Scale) -> str:
    top, bottom = _BREAKER
    parts = [_row_label((top + bottom) / 2 + 4, "Breaker")]
    for sample in timeline.samples:
        end = sample.start + timeline.interval
        x0, x1 = scale.x(sample.start), scale.x(end)
        label = _state_label(sample.breaker_state)
        parts.append(
            f'<rect x="{_num(x0)}" y="{top}" width="{_num(x1 - x0)}" height="{bottom - top}" '
            f'fill="{_STATE_COLOURS[sample.breaker_state]}" {_CRISP} '
            f'data-state="{sample.breaker_state}">'
            f"{_title(f'{_span(sample.start, end)} breaker {label}')}</rect>"
        )
    return _group("breaker-state", parts)


def _rate_runs(timeline: DemoTimeline) -> list[list[IntervalSample]]:
    """Split the samples into runs with a success rate; an idle interval breaks the line."""
    runs: list[list[IntervalSample]] = [[]]
    for sample in timeline.samples:
        if sample.success_rate is None:
            runs.append([])
        else:
            runs[-1].append(sample)
    return [run for run in runs if run]


def _rate_series(timeline: DemoTimeline, scale: _Scale) -> str:
    top, bottom = _RATE
    parts = [_row_label((top + bottom) / 2 + 4, "Success rate")]
    for rate in (0.0, 0.5, 1.0):
        y = _rate_y(rate)
        parts.append(
            f'<line x1="{_LEFT}" y1="{_num(y)}" x2="{_RIGHT}" y2="{_num(y)}" class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{_num(y + 4)}" text-anchor="end" class="tick">'
            f"{rate * 100:.0f}%</text>"
        )
    half = timeline.interval / 2
    for run in _rate_runs(timeline):
        points = " ".join(
            f"{_num(scale.x(s.start + half))},{_num(_rate_y(s.success_rate or 0.0))}" for s in run
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{_RATE_COLOUR}" stroke-width="2"/>'
        )
        for sample in run:
            rate = sample.success_rate or 0.0
            parts.append(
                f'<circle cx="{_num(scale.x(sample.start + half))}" cy="{_num(_rate_y(rate))}" '
                f'r="3" fill="{_RATE_COLOUR}" data-rate="{rate!r}">'
                f"{_title(f'{_clock(sample.start)} success rate {_percent(rate)}')}</circle>"
            )
    return _group("success-rate", parts)


def _dead_letter_series(timeline: DemoTimeline, scale: _Scale) -> str:
    top, bottom = _DEAD
    highest = max((s.dead_lettered for s in timeline.samples), default=0)
    parts = [
        _row_label((top + bottom) / 2 + 4, "Dead letters"),
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_RIGHT}" y2="{bottom}" class="grid"/>',
        f'<text x="{_LEFT - 6}" y="{bottom + 4}" text-anchor="end" class="tick">0</text>',
    ]
    if highest:
        parts.append(
            f'<text x="{_LEFT - 6}" y="{top + 10}" text-anchor="end" class="tick">{highest}</text>'
        )
    for sample in timeline.samples:
        if sample.dead_lettered == 0:
            continue
        height = (bottom - top) * sample.dead_lettered / highest
        x0 = scale.x(sample.start)
        width = max(scale.x(sample.start + timeline.interval) - x0 - 1, 1)
        parts.append(
            f'<rect x="{_num(x0)}" y="{_num(bottom - height)}" width="{_num(width)}" '
            f'height="{_num(height)}" fill="{_DEAD_COLOUR}" data-count="{sample.dead_lettered}">'
            f"{_title(f'{_clock(sample.start)} {sample.dead_lettered} dead-lettered')}</rect>"
        )
    return _group("dead-letters", parts)


def _alert_marker(x: float, y: float, alert: AlertEvent) -> str:
    tip = _title(f"{_clock(alert.at)} {alert.severity} alert {alert.name} {alert.edge}")
    data = f'data-severity="{alert.severity}" data-edge="{alert.edge}"'
    if alert.edge == "resolved":
        return (
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="6" fill="{_RESOLVED_COLOUR}" {data}>'
            f"{tip}</circle>"
        )
    points = f"{_num(x)},{_num(y - 7)} {_num(x + 7)},{_num(y + 6)} {_num(x - 7)},{_num(y + 6)}"
    colour = _SEVERITY_COLOURS[alert.severity]
    return f'<polygon points="{points}" fill="{colour}" {data}>{tip}</polygon>'


def _alert_series(timeline: DemoTimeline, scale: _Scale) -> str:
    top, bottom = _ALERTS
    middle = (top + bottom) / 2
    parts = [_row_label(middle + 4, "Alerts")]
    parts.extend(_alert_marker(scale.x(alert.at), middle, alert) for alert in timeline.alerts)
    return _group("alerts", parts)


def _x_axis(scale: _Scale) -> str:
    with_seconds = _tick_step(scale.end) % 60 != 0
    parts = [f'<line x1="{_LEFT}" y1="{_AXIS_Y}" x2="{_RIGHT}" y2="{_AXIS_Y}" class="axis"/>']
    for tick in _ticks(scale.end):
        x = _num(scale.x(tick))
        parts.append(
            f'<line x1="{x}" y1="{_AXIS_Y}" x2="{x}" y2="{_AXIS_Y + 5}" class="axis"/>'
            f'<text x="{x}" y="{_AXIS_Y + 18}" text-anchor="middle" class="tick">'
            f"{_clock(tick, always_seconds=with_seconds)}</text>"
        )
    parts.append(
        f'<text x="{(_LEFT + _RIGHT) / 2}" y="{_AXIS_Y + 38}" text-anchor="middle" class="row">'
        f"Time of the scripted day ({'hh:mm:ss' if with_seconds else 'hh:mm'})</text>"
    )
    return '<g class="x-axis">' + "".join(parts) + "</g>"


def _legend() -> str:
    items = [
        ("rect", _STATE_COLOURS["closed"], "closed / pass"),
        ("rect", _STATE_COLOURS["half_open"], "half-open / warn"),
        ("rect", _STATE_COLOURS["open"], "open / fail"),
        ("line", _RATE_COLOUR, "success rate"),
        ("rect", _DEAD_COLOUR, "dead letters"),
        ("triangle", _SEVERITY_COLOURS["warning"], "warning alert"),
        ("triangle", _SEVERITY_COLOURS["critical"], "critical alert"),
        ("circle", _RESOLVED_COLOUR, "resolved"),
    ]
    parts: list[str] = []
    x = 8
    for shape, colour, label in items:
        parts.append(_legend_swatch(shape, colour, x))
        parts.append(f'<text x="{x + 16}" y="{_LEGEND_Y + 4}" class="tick">{_text(label)}</text>')
        x += 16 + 6 * len(label) + 22  # about 6 px a character at 11 px
    return '<g class="legend">' + "".join(parts) + "</g>"


def _legend_swatch(shape: str, colour: str, x: int) -> str:
    y = _LEGEND_Y
    if shape == "line":
        return (
            f'<line x1="{x}" y1="{y}" x2="{x + 12}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
        )
    if shape == "triangle":
        return f'<polygon points="{x + 6},{y - 6} {x + 12},{y + 5} {x},{y + 5}" fill="{colour}"/>'
    if shape == "circle":
        return f'<circle cx="{x + 6}" cy="{y}" r="5" fill="{colour}"/>'
    return f'<rect x="{x}" y="{y - 6}" width="12" height="12" fill="{colour}"/>'


def _group(series: str, parts: Iterable[str]) -> str:
    return f'<g data-series="{series}">' + "".join(parts) + "</g>"


def _empty_note(timeline: DemoTimeline) -> str:
    if timeline.samples:
        return ""
    return (
        f'<text x="{(_LEFT + _RIGHT) / 2}" y="{_num(sum(_RATE) / 2)}" text-anchor="middle" '
        'class="row">No interval samples recorded</text>'
    )


def _description(timeline: DemoTimeline) -> str:
    opened = sum(1 for t in timeline.transitions if t.to_state == "open")
    dead = sum(s.dead_lettered for s in timeline.samples)
    raised = sum(1 for a in timeline.alerts if a.edge != "resolved")
    return (
        f"{len(timeline.samples)} intervals of {timeline.interval:g} s up to "
        f"{_clock(timeline.end)}: the breaker opened {opened} times, {dead} messages were "
        f"dead-lettered, {raised} alerts were raised or escalated."
    )


def render_svg(timeline: DemoTimeline) -> str:
    """Return the inline SVG timeline of *timeline* (no xmlns: it lives in HTML5)."""
    scale = _Scale(timeline.end)
    body = "".join(
        [
            _legend(),
            _health_band(timeline, scale),
            _breaker_band(timeline, scale),
            _rate_series(timeline, scale),
            _dead_letter_series(timeline, scale),
            _alert_series(timeline, scale),
            _empty_note(timeline),
            _x_axis(scale),
        ]
    )
    return (
        f'<svg role="img" aria-labelledby="timeline-title timeline-desc" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}">'
        '<title id="timeline-title">Timeline of the scripted day</title>'
        f'<desc id="timeline-desc">{_text(_description(timeline))}</desc>'
        f"{body}</svg>"
    )


# --- the HTML document ------------------------------------------------------

_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1040px;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.75rem; text-align: left; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0; overflow-x: auto; }
svg { max-width: 100%; height: auto; font-family: system-ui, sans-serif; }
svg .row { font-size: 13px; fill: #1b1b1b; }
svg .tick { font-size: 11px; fill: #444; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .axis { stroke: #444; stroke-width: 1; }
p.empty { color: #555; font-style: italic; }
"""


def _table(what: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return f'<p class="empty">No {_text(what)} recorded.</p>'
    head = "".join(f'<th scope="col">{_text(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary_label(key: str) -> str:
    if key in SUMMARY_KEYS:
        return SUMMARY_KEYS[key]
    return key.replace("_", " ").capitalize()


def _summary_table(summary: Mapping[str, int]) -> str:
    keys = [key for key in SUMMARY_KEYS if key in summary]
    keys += [key for key in summary if key not in SUMMARY_KEYS]
    if not keys:
        return '<p class="empty">No counts recorded.</p>'
    rows = "".join(
        f'<tr><th scope="row">{_text(_summary_label(key))}</th>'
        f'<td class="count" data-key="{_text(key)}">{summary[key]}</td></tr>'
        for key in keys
    )
    return f'<table class="summary"><caption>Summary</caption><tbody>{rows}</tbody></table>'


_CAPTION: Final = (
    "<figcaption>Health and breaker state bands, success rate per interval, "
    "dead letters per interval and alerts; hover a mark for its value.</figcaption>"
)


def render_html(timeline: DemoTimeline, *, title: str = "felix-reliability demo report") -> str:
    """Return a self-contained HTML5 report of *timeline*.

    Args:
        timeline: The demo run to draw.
        title: The page's title and heading; escaped like every other text.

    Returns:
        One HTML document with inline CSS and SVG: no script, no external resource.
    """
    transitions = [
        (_clock(t.at, always_seconds=True), _state_label(t.from_state), _state_label(t.to_state))
        for t in timeline.transitions
    ]
    alerts = [
        (_clock(a.at, always_seconds=True), a.name, a.severity, a.edge) for a in timeline.alerts
    ]
    health = [(_clock(h.at, always_seconds=True), h.status) for h in timeline.health]
    return "".join(
        [
            "<!DOCTYPE html>\n",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
            f"<header><h1>{_text(title)}</h1>{_summary_table(timeline.summary)}</header>",
            "<main><section><h2>Timeline</h2><figure>",
            render_svg(timeline),
            _CAPTION,
            "</figure></section>",
            "<section><h2>Breaker transitions</h2>",
            _table("breaker transitions", ("Time", "From", "To"), transitions),
            "</section><section><h2>Alerts</h2>",
            _table("alerts", ("Time", "Alert", "Severity", "Change"), alerts),
            "</section><section><h2>Health</h2>",
            _table("health checks", ("Time", "Status"), health),
            "</section></main></body></html>\n",
        ]
    )
