"""The SLA report's charts as SVG, drawn on the server: pure functions from values to markup.

Three charts, each a :class:`markupsafe.Markup` string ready to be placed in the report's HTML
(and laid out by WeasyPrint for the PDF):

- :func:`uptime_strip`: one bar per local day of the period, its height and class by the day's
  uptime, a mark under each day with excluded time, a dashed line at the target;
- :func:`burn_down`: an SLO's remaining error budget (in %) over the days of the period, with
  the 0 % line marked (the budget can go negative);
- :func:`response_times`: the elapsed time of each response or resolution clock against its
  target, the target drawn as a tick, a breach shown by colour *and* a hatch *and* the word.

Every figure the charts print comes as a string from the report document and is printed as
given; floats are used only for geometry (where a bar ends), never for a displayed number.
Every text is escaped. Each chart carries ``role="img"`` with a ``<title>`` and a ``<desc>``
that says in words what it shows, so it reads without the picture. Colours are presentation
attributes, not CSS, so the charts look the same in a browser, in print and in WeasyPrint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from markupsafe import Markup, escape

from slakeeper.services.explain import human_seconds

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
DAY_SECONDS = 86400

#: Fill colours; each state also differs by shape, pattern or text, never by colour alone.
FULL = "#1b7f3b"
MET = "#7cb342"
PARTIAL = "#e0a400"
MISSED = "#c62828"
NO_DATA = "#bdbdbd"
TRACK = "#eceff1"
EXCLUDED = "#1565c0"
LINE = "#0b4f8a"
INK = "#1a1a1a"
MUTED = "#555555"
RUNNING = "#90a4ae"


@dataclass(frozen=True)
class LegendItem:
    css_class: str
    fill: str
    label: str
    shape: str = "bar"  # "bar", "hatched", "mark" or "line"


def strip_legend(target_percent: str | None) -> tuple[LegendItem, ...]:
    """The legend of :func:`uptime_strip`, for a plan with or without an uptime target."""
    states: tuple[LegendItem, ...]
    if target_percent is None:
        states = (LegendItem("partial", PARTIAL, "below 100 %"),)
    else:
        states = (
            LegendItem("met", MET, "below 100 %, target met"),
            LegendItem("missed", MISSED, "below the target (hatched)", "hatched"),
            LegendItem("target", INK, f"dashed line: the target, {target_percent} %", "line"),
        )
    return (
        LegendItem("full", FULL, "100 % up"),
        *states,
        LegendItem("no-data", NO_DATA, "no data"),
        LegendItem("excluded", EXCLUDED, "day with excluded time", "mark"),
    )


# --------------------------------------------------------------------------- small helpers
def human_duration(seconds: str | None) -> str:
    """``"4800"`` -> ``1 h 20 min``; ``"2682000"`` -> ``31 d 1 h``; exact, no float."""
    if seconds is None:
        return "—"
    value = Fraction(seconds)
    sign = "-" if value < 0 else ""
    days, rest = divmod(abs(value), DAY_SECONDS)
    if not days:
        return sign + human_seconds(rest)
    text = f"{int(days)} d"
    return f"{sign}{text} {human_seconds(rest)}" if rest else sign + text


def decimal(value: str | None) -> Decimal | None:
    """A document decimal for comparing (never for display); ``None`` for null or not a number."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _n(value: float) -> str:
    """A coordinate with two decimals at most, the same text for the same value."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg(
    chart_id: str, css_class: str, width: float, height: float, title: str, desc: str, body: str
) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" id="{escape(chart_id)}"'
        f' viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}"'
        f' role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
        f' font-family="{FONT}" font-size="13">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + body + "</svg>")


def _hatch(pattern_id: str) -> str:
    return (
        f'<defs><pattern id="{escape(pattern_id)}" width="6" height="6"'
        ' patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff" fill-opacity="0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5"/>'
        "</pattern></defs>"
    )


def _no_data(chart_id: str, css_class: str, title: str, note: str) -> Markup:
    body = (
        f'<rect x="0" y="0" width="520" height="48" fill="{TRACK}"/>'
        f'<text class="no-data" x="260" y="29" text-anchor="middle" fill="{MUTED}">'
        f"{escape(note)}</text>"
    )
    return _svg(chart_id, css_class, 520, 48, title, note, body)


def legend(items: Iterable[LegendItem]) -> Markup:
    """An HTML legend (a list) whose swatches are tiny SVGs: they print, unlike backgrounds."""
    entries = []
    for item in items:
        if item.shape == "mark":
            swatch = f'<polygon points="5,1 9,9 1,9" fill="{item.fill}"/>'
        elif item.shape == "line":
            swatch = (
                f'<line x1="0" y1="5" x2="10" y2="5" stroke="{item.fill}" stroke-width="1.5"'
                ' stroke-dasharray="3 2"/>'
            )
        else:
            swatch = f'<rect x="1" y="1" width="8" height="8" fill="{item.fill}"/>'
            if item.shape == "hatched":
                swatch += '<line x1="1" y1="9" x2="9" y2="1" stroke="#ffffff" stroke-width="2"/>'
        entries.append(
            f'<li class="legend-{escape(item.css_class)}"><svg class="swatch" viewBox="0 0 10 10"'
            f' width="10" height="10" aria-hidden="true">{swatch}</svg> {escape(item.label)}</li>'
        )
    return Markup('<ul class="legend">' + "".join(entries) + "</ul>")


# --------------------------------------------------------------------------- daily uptime strip
STRIP_SLOT = 16.0
STRIP_BAR = 12.0
STRIP_LEFT = 44.0
STRIP_TOP = 8.0
STRIP_PLOT = 100.0
STRIP_FLOORS = (Decimal("99.9"), Decimal("99.5"), Decimal(99), Decimal(98), Decimal(95),
                Decimal(90), Decimal(80), Decimal(50))  # fmt: skip


def day_class(uptime_percent: str | None, target_percent: str | None) -> str:
    """``full``, ``met``, ``partial`` (below 100 % with no target), ``missed`` or ``no-data``."""
    uptime = decimal(uptime_percent)
    if uptime is None:
        return "no-data"
    if uptime >= 100:
        return "full"
    target = decimal(target_percent)
    if target is None:
        return "partial"
    return "met" if uptime >= target else "missed"


def strip_floor(values: Iterable[Decimal]) -> Decimal:
    """The uptime at the strip's baseline: the highest round figure below every value."""
    lowest = min(values, default=Decimal(100))
    return next((floor for floor in STRIP_FLOORS if floor < lowest), Decimal(0))


def uptime_strip(
    days: Sequence[Mapping[str, Any]], *, target_percent: str | None, chart_id: str
) -> Markup:
    """One bar per day of ``days`` (the document's ``uptime.daily``), highest at 100 %."""
    title = "Daily uptime"
    if not days:
        return _no_data(chart_id, "strip", title, "No daily uptime for this period.")
    uptimes = [decimal(day.get("uptime_percent")) for day in days]
    target = decimal(target_percent)
    known = [value for value in uptimes if value is not None]
    floor = strip_floor([*known, *([target] if target is not None else [])])
    span = float(100 - floor)
    width = STRIP_LEFT + len(days) * STRIP_SLOT + 4
    height = STRIP_TOP + STRIP_PLOT + 36

    def y(value: Decimal) -> float:
        return STRIP_TOP + (float(100 - value) / span) * STRIP_PLOT

    bottom = STRIP_TOP + STRIP_PLOT
    parts = [_hatch(f"{chart_id}-hatch")]
    parts.append(
        f'<text x="{_n(STRIP_LEFT - 4)}" y="{_n(STRIP_TOP + 4)}" text-anchor="end"'
        f' font-size="12" fill="{MUTED}">100 %</text>'
        f'<text x="{_n(STRIP_LEFT - 4)}" y="{_n(bottom)}" text-anchor="end" font-size="12"'
        f' fill="{MUTED}">{escape(_plain(floor))} %</text>'
    )
    below: list[str] = []
    excluded_days: list[str] = []
    for index, (day, uptime) in enumerate(zip(days, uptimes, strict=True)):
        date = str(day.get("date", ""))
        css = day_class(day.get("uptime_percent"), target_percent)
        x = STRIP_LEFT + index * STRIP_SLOT + (STRIP_SLOT - STRIP_BAR) / 2
        excluded = (decimal(day.get("excluded_seconds")) or Decimal(0)) > 0
        label = _day_label(day, date, excluded)
        if css in ("met", "partial", "missed"):
            below.append(f"{date} ({day.get('uptime_percent')} %)")
        if excluded:
            excluded_days.append(date)
        top = bottom - 2 if uptime is None else min(y(uptime), bottom - 2)
        fill = {"full": FULL, "met": MET, "partial": PARTIAL, "missed": MISSED}.get(css, NO_DATA)
        group = [
            f'<g class="day {css}{" has-excluded" if excluded else ""}" data-date="{escape(date)}">'
            f"<title>{escape(label)}</title>",
            f'<rect class="track" x="{_n(x)}" y="{_n(STRIP_TOP)}" width="{_n(STRIP_BAR)}"'
            f' height="{_n(STRIP_PLOT)}" fill="{TRACK}"/>',
            f'<rect class="bar {css}" x="{_n(x)}" y="{_n(top)}" width="{_n(STRIP_BAR)}"'
            f' height="{_n(bottom - top)}" fill="{fill}"/>',
        ]
        if css == "missed":
            group.append(
                f'<rect class="hatch" x="{_n(x)}" y="{_n(top)}" width="{_n(STRIP_BAR)}"'
                f' height="{_n(bottom - top)}" fill="url(#{escape(chart_id)}-hatch)"/>'
            )
        if excluded:
            mid = x + STRIP_BAR / 2
            group.append(
                f'<polygon class="excluded-mark" points="{_n(mid)},{_n(bottom + 3)}'
                f' {_n(mid + 5)},{_n(bottom + 11)} {_n(mid - 5)},{_n(bottom + 11)}"'
                f' fill="{EXCLUDED}"/>'
            )
        if index % 7 == 0 or index == len(days) - 1:
            group.append(
                f'<text x="{_n(x + STRIP_BAR / 2)}" y="{_n(bottom + 28)}" text-anchor="middle"'
                f' font-size="12" fill="{MUTED}">{escape(_day_of_month(date))}</text>'
            )
        group.append("</g>")
        parts.append("".join(group))
    if target is not None and floor < target < 100:
        ty = y(target)
        parts.append(
            f'<line class="target" x1="{_n(STRIP_LEFT)}" x2="{_n(width - 4)}" y1="{_n(ty)}"'
            f' y2="{_n(ty)}" stroke="{INK}" stroke-width="1" stroke-dasharray="4 3"/>'
        )
    desc = (
        f"{len(days)} days from {days[0].get('date')} to {days[-1].get('date')}; bar height "
        f"is the day's uptime from {_plain(floor)} % at the bottom to 100 % at the top"
        + ("" if target is None else f", the dashed line is the target {target_percent} %")
        + ". "
        + (f"Days below 100 %: {', '.join(below)}. " if below else "Every day is at 100 %. ")
        + (f"Days with excluded time: {', '.join(excluded_days)}." if excluded_days else "")
    )
    return _svg(chart_id, "strip", width, height, title, desc.strip(), "".join(parts))


def _day_label(day: Mapping[str, Any], date: str, excluded: bool) -> str:
    uptime = day.get("uptime_percent")
    if uptime is None:
        return f"{date}: no data"
    text = f"{date}: uptime {uptime} %, downtime {human_duration(day.get('downtime_seconds'))}"
    if excluded:
        text += f", excluded {human_duration(day.get('excluded_seconds'))}"
    return text


def _day_of_month(date: str) -> str:
    return date[8:10].lstrip("0") or date


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------- burn-down
BURN_WIDTH = 520.0
BURN_HEIGHT = 200.0
BURN_LEFT = 52.0
BURN_RIGHT = 52.0
BURN_TOP = 14.0
BURN_BOTTOM = 30.0


@dataclass(frozen=True)
class BurnScale:
    """Where a remaining-budget value sits: 100 % (or more) at the top, 0 % (or less) below."""

    top_value: float
    bottom_value: float

    def y(self, value: float) -> float:
        plot = BURN_HEIGHT - BURN_TOP - BURN_BOTTOM
        return BURN_TOP + (self.top_value - value) / (self.top_value - self.bottom_value) * plot


def burn_scale(values: Sequence[float]) -> BurnScale:
    return BurnScale(max(100.0, *values), min(0.0, *values))


def burn_x(index: int, count: int) -> float:
    plot = BURN_WIDTH - BURN_LEFT - BURN_RIGHT
    return BURN_LEFT + (plot / 2 if count == 1 else plot * index / (count - 1))


def burn_down(points: Sequence[Mapping[str, Any]], *, name: str, chart_id: str) -> Markup:
    """An SLO's ``burn_down`` (remaining error budget % per day) as a line chart."""
    title = f"Error budget burn-down: {name}"
    usable = [
        (str(point.get("date", "")), str(point["remaining_percent"]), number)
        for point in points
        if (number := decimal(point.get("remaining_percent"))) is not None
    ]
    if not usable:
        return _no_data(chart_id, "burn-down", title, "No error budget data for this period.")
    scale = burn_scale([float(number) for _, _, number in usable])
    count = len(usable)
    left, right = BURN_LEFT, BURN_WIDTH - BURN_RIGHT
    zero = scale.y(0.0)
    bottom = BURN_HEIGHT - BURN_BOTTOM
    parts = []
    if scale.bottom_value < 0:
        parts.append(
            f'<rect class="exhausted-area" x="{_n(left)}" y="{_n(zero)}"'
            f' width="{_n(right - left)}" height="{_n(bottom - zero)}" fill="#fdecea"/>'
        )
    full = scale.y(100.0)
    parts.append(
        f'<line class="full" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(full)}" y2="{_n(full)}"'
        f' stroke="#cfd8dc" stroke-width="1"/>'
        f'<text x="{_n(left - 6)}" y="{_n(full + 4)}" text-anchor="end" font-size="12"'
        f' fill="{MUTED}">100 %</text>'
        f'<line class="zero" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(zero)}" y2="{_n(zero)}"'
        f' stroke="{MISSED}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        f'<text class="zero-label" x="{_n(left - 6)}" y="{_n(zero + 4)}" text-anchor="end"'
        f' font-size="12" fill="{MISSED}">0 %</text>'
    )
    coordinates = [
        (burn_x(index, count), scale.y(float(number)))
        for index, (_, _, number) in enumerate(usable)
    ]
    polyline = " ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates)
    parts.append(
        f'<polyline class="remaining" points="{polyline}" fill="none" stroke="{LINE}"'
        ' stroke-width="2" stroke-linejoin="round"/>'
    )
    for (date, remaining, number), (x, y) in zip(usable, coordinates, strict=True):
        colour = MISSED if number < 0 else LINE
        parts.append(
            f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{colour}">'
            f"<title>{escape(date)}: {escape(remaining)} % of the error budget left</title>"
            "</circle>"
        )
    last_date, last_value, last_number = usable[-1]
    last_x, last_y = coordinates[-1]
    parts.append(
        f'<text class="last" x="{_n(last_x + 6)}" y="{_n(last_y + 4)}" font-size="12"'
        f' fill="{MISSED if last_number < 0 else INK}">{escape(last_value)} %</text>'
        f'<text x="{_n(left)}" y="{_n(BURN_HEIGHT - 10)}" font-size="12" fill="{MUTED}">'
        f"{escape(usable[0][0])}</text>"
        f'<text x="{_n(right)}" y="{_n(BURN_HEIGHT - 10)}" text-anchor="end" font-size="12"'
        f' fill="{MUTED}">{escape(last_date)}</text>'
    )
    exhausted = next((date for date, _, number in usable if number < 0), None)
    desc = (
        f"Remaining error budget of {name} per day, from {usable[0][1]} % on {usable[0][0]} "
        f"to {last_value} % on {last_date}; the dashed line marks 0 %"
        + (f"; the budget was exhausted on {exhausted}." if exhausted else ".")
    )
    return _svg(chart_id, "burn-down", BURN_WIDTH, BURN_HEIGHT, title, desc, "".join(parts))


# --------------------------------------------------------------------------- response times
CLOCK_WIDTH = 520.0
CLOCK_ROW = 42.0
CLOCK_LEFT = 4.0
CLOCK_TARGET_X = 4.0 + (520.0 - 8.0) / 2  # the target tick; the bar area ends at 2 x target
CLOCK_MAX_RATIO = 2.0
STATE_WORDS = {
    "met": "met",
    "breached": "breached",
    "running": "running",
    "no-target": "no target",
}


@dataclass(frozen=True)
class ClockRow:
    """One clock of one incident or support request: ``INC-7 response``."""

    label: str
    clock: Mapping[str, Any]


def clock_text(clock: Mapping[str, Any]) -> str:
    """``7 min of 15 min target: met``; ``2 h so far, no target``."""
    state = str(clock.get("state") or "")
    elapsed = human_duration(clock.get("elapsed_seconds"))
    target = clock.get("target_seconds")
    word = STATE_WORDS.get(state, state)
    if state == "running":
        elapsed += " so far"
    if target is None:
        return f"{elapsed}, no target"
    return f"{elapsed} of {human_duration(target)} target: {word}"


def response_times(rows: Sequence[ClockRow], *, chart_id: str) -> Markup:
    """Horizontal bars of elapsed time against target, one row per clock."""
    title = "Response and resolution times against targets"
    if not rows:
        return _no_data(chart_id, "clocks", title, "No incidents or support requests.")
    height = len(rows) * CLOCK_ROW + 26
    plot = CLOCK_WIDTH - 2 * CLOCK_LEFT
    parts = [_hatch(f"{chart_id}-hatch")]
    summaries = []
    for index, row in enumerate(rows):
        clock = row.clock
        state = str(clock.get("state") or "")
        text = f"{row.label}: {clock_text(clock)}"
        summaries.append(text)
        top = index * CLOCK_ROW
        bar_y = top + 21
        weight = "bold" if state == "breached" else "normal"
        group = [
            f'<g class="clock {escape(state)}"><title>{escape(text)}</title>',
            f'<text x="{_n(CLOCK_LEFT)}" y="{_n(top + 14)}" font-size="14" font-weight="{weight}"'
            f' fill="{MISSED if state == "breached" else INK}">{escape(text)}</text>',
            f'<rect class="track" x="{_n(CLOCK_LEFT)}" y="{_n(bar_y)}" width="{_n(plot)}"'
            f' height="10" fill="{TRACK}"/>',
        ]
        elapsed = decimal(clock.get("elapsed_seconds"))
        target = decimal(clock.get("target_seconds"))
        if elapsed is not None and target is not None and target > 0:
            ratio = min(float(elapsed / target), CLOCK_MAX_RATIO)
            length = max(ratio * (CLOCK_TARGET_X - CLOCK_LEFT), 1.0)
            fill = {"breached": MISSED, "running": RUNNING}.get(state, FULL)
            group.append(
                f'<rect class="bar {escape(state)}" x="{_n(CLOCK_LEFT)}" y="{_n(bar_y)}"'
                f' width="{_n(length)}" height="10" fill="{fill}"/>'
            )
            if state == "breached":
                group.append(
                    f'<rect class="hatch" x="{_n(CLOCK_LEFT)}" y="{_n(bar_y)}"'
                    f' width="{_n(length)}" height="10" fill="url(#{escape(chart_id)}-hatch)"/>'
                )
            group.append(
                f'<line class="target-tick" x1="{_n(CLOCK_TARGET_X)}" x2="{_n(CLOCK_TARGET_X)}"'
                f' y1="{_n(bar_y - 2)}" y2="{_n(bar_y + 12)}" stroke="{INK}" stroke-width="2"/>'
            )
        group.append("</g>")
        parts.append("".join(group))
    axis_y = len(rows) * CLOCK_ROW + 14
    parts.append(
        f'<text x="{_n(CLOCK_LEFT)}" y="{_n(axis_y)}" font-size="12" fill="{MUTED}">0</text>'
        f'<text x="{_n(CLOCK_TARGET_X)}" y="{_n(axis_y)}" text-anchor="middle" font-size="12"'
        f' fill="{MUTED}">target</text>'
        f'<text x="{_n(CLOCK_WIDTH - CLOCK_LEFT)}" y="{_n(axis_y)}" text-anchor="end"'
        f' font-size="12" fill="{MUTED}">2 × target or more</text>'
    )
    desc = (
        "Each bar is a clock's elapsed time relative to its own target; the tick marks the "
        "target (a bar past it is over its target). " + "; ".join(summaries) + "."
    )
    return _svg(chart_id, "clocks", CLOCK_WIDTH, height, title, desc, "".join(parts))
