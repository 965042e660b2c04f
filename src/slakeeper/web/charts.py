"""SVG charts drawn on the server: the models the templates turn into ``<svg>`` (no JavaScript).

Every shape carries its own text (``<title>``) and each chart has a table beside it, so what a
colour says is also said in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slakeeper.services.status_page import DayBar
from slakeeper.web.formatting import STATUS_LABELS, decimal

#: Fills of the component states; the same palette as the public status page.
FILLS = {
    "operational": "#2b8a3e",
    "degraded-performance": "#e6b000",
    "partial-outage": "#e8590c",
    "major-outage": "#c92a2a",
    "under-maintenance": "#1971c2",
    "no-data": "#adb5bd",
}
GOOD_FILL, BAD_FILL, EMPTY_FILL = "#2b8a3e", "#c92a2a", "#ced4da"
DAY_WIDTH, DAY_GAP, DAY_HEIGHT = 12, 3, 36
HOUR_WIDTH, HOUR_GAP, CHART_HEIGHT = 20, 4, 120


def day_strip(component_name: str, bars: Sequence[DayBar]) -> dict[str, Any]:
    """One rect per day, coloured by the day's worst state, with its uptime in words."""
    rects = []
    rows = []
    for index, bar in enumerate(bars):
        day = bar.day.isoformat()
        uptime = None if bar.uptime is None else f"{bar.uptime.percent(3)} %"
        words = STATUS_LABELS.get(bar.state, bar.state)
        label = f"{component_name}, {day}: " + (
            "no data" if uptime is None else f"{uptime} uptime, {words}"
        )
        if bar.incidents:
            label += "; " + ", ".join(bar.incidents)
        rects.append({
            "x": index * (DAY_WIDTH + DAY_GAP), "fill": FILLS.get(bar.state, FILLS["no-data"]),
            "state": bar.state, "label": label,
        })  # fmt: skip
        rows.append({"day": day, "uptime": uptime or "no data", "state": words,
                     "incidents": ", ".join(bar.incidents)})  # fmt: skip
    return {
        "width": max(1, len(bars) * (DAY_WIDTH + DAY_GAP) - DAY_GAP),
        "height": DAY_HEIGHT,
        "bar_width": DAY_WIDTH,
        "rects": rects,
        "rows": rows,
        "first": rows[0]["day"] if rows else "",
        "last": rows[-1]["day"] if rows else "",
    }


def hourly_chart(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Good and bad per hour as stacked bars (height: events in the hour against the busiest
    hour); an hour without events is a thin grey mark."""
    busiest = max((int(p["total"]) for p in points), default=0)
    bars = []
    rows = []
    for index, point in enumerate(points):
        good, total = int(point["good"]), int(point["total"])
        bad = total - good
        hour = str(point["start"])[11:16]
        x = index * (HOUR_WIDTH + HOUR_GAP)
        if total == 0:
            label = f"{hour} UTC: no events"
            shapes: list[dict[str, Any]] = [
                {"y": CHART_HEIGHT - 2, "height": 2, "fill": EMPTY_FILL}
            ]
        else:
            height = max(2, round(CHART_HEIGHT * total / busiest))
            bad_height = round(height * bad / total) if bad else 0
            if bad and bad_height == 0:
                bad_height = 1  # a bad event is never invisible
            good_height = height - bad_height
            label = f"{hour} UTC: {good} good of {total} ({decimal(point['sli_percent'], 3)} %)"
            shapes = [
                {"y": CHART_HEIGHT - good_height, "height": good_height, "fill": GOOD_FILL},
                {"y": CHART_HEIGHT - height, "height": bad_height, "fill": BAD_FILL},
            ]
            shapes = [s for s in shapes if s["height"] > 0]
        bars.append({"x": x, "label": label, "shapes": shapes})
        rows.append({
            "hour": f"{str(point['start'])[:10]} {hour}", "good": good, "bad": bad,
            "total": total,
            "sli": "–" if not total else f"{decimal(point['sli_percent'], 3)} %",
        })  # fmt: skip
    return {
        "width": max(1, len(points) * (HOUR_WIDTH + HOUR_GAP) - HOUR_GAP),
        "height": CHART_HEIGHT,
        "bar_width": HOUR_WIDTH,
        "bars": bars,
        "rows": rows,
        "busiest": busiest,
        "first": rows[0]["hour"] if rows else "",
        "last": rows[-1]["hour"] if rows else "",
    }
