"""The SLA report's SVG charts: pure functions, checked by parsing the SVG they return."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest

from slakeeper.services import report_charts as charts
from slakeeper.services.report_charts import ClockRow

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def with_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [
        element
        for element in root.iter(f"{SVG}{tag}")
        if css_class in element.get("class", "").split()
    ]


def day(date: str, uptime: str | None, downtime: str = "0", excluded: str = "0") -> dict[str, Any]:
    return {
        "date": date,
        "uptime_percent": uptime,
        "downtime_seconds": downtime,
        "excluded_seconds": excluded,
    }


def october(**special: dict[str, Any]) -> list[dict[str, Any]]:
    days = [day(f"2026-10-{number:02d}", "100") for number in range(1, 32)]
    for key, value in special.items():
        days[int(key.removeprefix("d")) - 1] = value
    return days


def assert_accessible(root: ET.Element) -> None:
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert title.text
    assert desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


# --------------------------------------------------------------------------- durations
@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        ("0", "0 s"),
        ("4800", "1 h 20 min"),
        ("2678.4", "44 min 38.4 s"),
        ("86400", "1 d"),
        ("2682000", "31 d 1 h"),
        (None, "—"),
    ],
)
def test_durations_are_spelled_exactly(seconds: str | None, text: str) -> None:
    assert charts.human_duration(seconds) == text


# --------------------------------------------------------------------------- uptime strip
def test_the_strip_has_one_bar_per_day() -> None:
    root = parse(charts.uptime_strip(october(), target_percent="99.9", chart_id="strip"))
    assert len(with_class(root, "rect", "bar")) == 31
    assert len(with_class(root, "g", "day")) == 31
    assert_accessible(root)


def test_a_full_day_and_a_day_below_target_get_different_classes_and_heights() -> None:
    days = october(d14=day("2026-10-14", "99", downtime="864"))
    root = parse(charts.uptime_strip(days, target_percent="99.9", chart_id="strip"))
    bars = with_class(root, "rect", "bar")
    assert "full" in bars[0].get("class", "")
    assert "missed" in bars[13].get("class", "")
    assert float(bars[13].get("height", "0")) < float(bars[0].get("height", "0"))
    assert len(with_class(root, "rect", "hatch")) == 1, "below target is hatched, not only red"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "2026-10-14 (99 %)" in (desc.text or "")


@pytest.mark.parametrize(
    ("uptime", "target", "expected"),
    [
        ("100", "99.9", "full"),
        ("100.000", None, "full"),
        ("99.95", "99.9", "met"),
        ("99.9", "99.9", "met"),
        ("99.899", "99.9", "missed"),
        ("99", None, "partial"),
        (None, "99.9", "no-data"),
    ],
)
def test_a_day_is_classed_by_exact_comparison_with_the_target(
    uptime: str | None, target: str | None, expected: str
) -> None:
    assert charts.day_class(uptime, target) == expected


def test_days_with_excluded_time_are_marked_and_every_bar_has_a_hover_title() -> None:
    days = october(d20=day("2026-10-20", "100", excluded="1200"))
    root = parse(charts.uptime_strip(days, target_percent="99.9", chart_id="strip"))
    marks = with_class(root, "polygon", "excluded-mark")
    assert len(marks) == 1
    groups = with_class(root, "g", "day")
    titles = [group.findtext(f"{SVG}title") for group in groups]
    assert titles[19] == "2026-10-20: uptime 100 %, downtime 0 s, excluded 20 min"
    assert all(titles)


def test_the_strip_baseline_sits_below_the_lowest_day_and_the_target() -> None:
    assert charts.strip_floor([Decimal("100")]) == Decimal("99.9")
    assert charts.strip_floor([Decimal("95.833")]) == Decimal(95)
    assert charts.strip_floor([Decimal("0")]) == Decimal(0)


def test_the_strip_without_days_says_there_is_no_data() -> None:
    svg = charts.uptime_strip([], target_percent="99.9", chart_id="strip")
    root = parse(svg)
    assert with_class(root, "text", "no-data")
    assert not with_class(root, "rect", "bar")
    assert_accessible(root)


def test_the_strip_draws_the_same_svg_for_the_same_days() -> None:
    days = october(d14=day("2026-10-14", "95.833", downtime="3600"))
    first = charts.uptime_strip(days, target_percent="99.9", chart_id="strip")
    assert first == charts.uptime_strip(days, target_percent="99.9", chart_id="strip")


# --------------------------------------------------------------------------- burn-down
def burn(values: list[str]) -> list[dict[str, str]]:
    return [
        {"date": f"2026-10-{index:02d}", "remaining_percent": value}
        for index, value in enumerate(values, start=1)
    ]


def points(root: ET.Element) -> list[tuple[float, float]]:
    (line,) = with_class(root, "polyline", "remaining")
    pairs = [pair.split(",") for pair in line.get("points", "").split()]
    return [(float(x), float(y)) for x, y in pairs]


def zero_y(root: ET.Element) -> float:
    (zero,) = with_class(root, "line", "zero")
    assert zero.get("y1") == zero.get("y2")
    return float(zero.get("y1", "nan"))


def test_the_burn_down_points_advance_in_x_one_per_day() -> None:
    root = parse(charts.burn_down(burn(["100", "80", "80", "40", "10"]), name="API", chart_id="b"))
    xs = [x for x, _ in points(root)]
    assert len(xs) == 5
    assert xs == sorted(xs)
    assert len(set(xs)) == 5
    assert_accessible(root)


def test_the_zero_line_passes_through_a_day_with_no_budget_left_and_can_be_crossed() -> None:
    root = parse(charts.burn_down(burn(["100", "50", "0", "-50"]), name="API", chart_id="b"))
    line = points(root)
    zero = zero_y(root)
    assert line[2][1] == pytest.approx(zero)
    assert line[0][1] < zero < line[3][1], "100 % above the zero line, -50 % below it"
    full = line[0][1]
    # 100 % to 0 % spans twice what 0 % to -50 % does
    assert zero - full == pytest.approx(2 * (line[3][1] - zero))
    assert with_class(root, "rect", "exhausted-area")


def test_a_budget_that_never_goes_negative_puts_zero_at_the_bottom_of_the_plot() -> None:
    root = parse(charts.burn_down(burn(["100", "90"]), name="API", chart_id="b"))
    assert zero_y(root) == pytest.approx(charts.BURN_HEIGHT - charts.BURN_BOTTOM)
    assert not with_class(root, "rect", "exhausted-area")


def test_the_burn_down_prints_the_remaining_budget_as_given() -> None:
    root = parse(charts.burn_down(burn(["100", "-47.70"]), name="API", chart_id="b"))
    (last,) = with_class(root, "text", "last")
    assert last.text == "-47.70 %"


def test_a_burn_down_without_points_says_there_is_no_data() -> None:
    root = parse(charts.burn_down([], name="API", chart_id="b"))
    assert with_class(root, "text", "no-data")
    assert not with_class(root, "polyline", "remaining")


# --------------------------------------------------------------------------- response times
def clock(target: str | None, elapsed: str, state: str) -> dict[str, Any]:
    return {"target_seconds": target, "elapsed_seconds": elapsed, "state": state}


def test_a_breached_clock_differs_by_colour_pattern_and_words() -> None:
    rows = [
        ClockRow("INC-7 response", clock("900", "420", "met")),
        ClockRow("INC-9 response", clock("1800", "3300", "breached")),
    ]
    root = parse(charts.response_times(rows, chart_id="clocks"))
    met, breached = with_class(root, "rect", "bar")
    assert met.get("fill") != breached.get("fill")
    assert len(with_class(root, "rect", "hatch")) == 1
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    assert "INC-9 response: 55 min of 30 min target: breached" in texts
    assert "INC-7 response: 7 min of 15 min target: met" in texts
    assert_accessible(root)


def test_bars_are_drawn_relative_to_their_target_and_the_tick_marks_it() -> None:
    rows = [
        ClockRow("half", clock("3600", "1800", "met")),
        ClockRow("exact", clock("60", "60", "met")),
        ClockRow("far over", clock("60", "6000", "breached")),
    ]
    root = parse(charts.response_times(rows, chart_id="clocks"))
    half, exact, far = (float(bar.get("width", "0")) for bar in with_class(root, "rect", "bar"))
    ticks = with_class(root, "line", "target-tick")
    assert len(ticks) == 3
    tick_x = float(ticks[0].get("x1", "nan")) - charts.CLOCK_LEFT
    assert exact == pytest.approx(tick_x)
    assert half == pytest.approx(tick_x / 2)
    assert far == pytest.approx(2 * tick_x), "a bar stops at twice its target"


def test_a_clock_without_target_has_no_bar_and_says_so() -> None:
    rows = [ClockRow("T-1 response", clock(None, "7200", "no-target"))]
    root = parse(charts.response_times(rows, chart_id="clocks"))
    assert not with_class(root, "rect", "bar")
    assert not with_class(root, "line", "target-tick")
    assert "T-1 response: 2 h, no target" in [text.text for text in root.iter(f"{SVG}text")]


def test_no_clocks_render_a_note() -> None:
    root = parse(charts.response_times([], chart_id="clocks"))
    assert with_class(root, "text", "no-data")


# --------------------------------------------------------------------------- escaping
HOSTILE = '<script>alert("x")</script> & "quotes"'


def test_every_text_in_the_charts_is_escaped() -> None:
    strip = charts.uptime_strip(
        [day(HOSTILE, "99", downtime="864")], target_percent="99.9", chart_id="strip"
    )
    burn_down = charts.burn_down(
        [{"date": HOSTILE, "remaining_percent": "10"}], name=HOSTILE, chart_id="burn"
    )
    clocks = charts.response_times([ClockRow(HOSTILE, clock("60", "30", "met"))], chart_id="clocks")
    legend = charts.legend(charts.strip_legend("99.9"))
    for svg in (strip, burn_down, clocks):
        assert "<script>" not in svg
        root = parse(svg)  # still well-formed XML
        texts = " ".join(element.text or "" for element in root.iter())
        assert HOSTILE in texts
    assert "<script>" not in legend
