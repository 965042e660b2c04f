"""The customer's SLA report for a period, as standalone HTML or PDF, from one JSON document.

The close service builds the report document (``kind: slakeeper/sla-report``, ``version: 1``,
see ``docs/reports.md``); :func:`render_report` only lays it out. Every figure in the document
is a string and is printed as given: nothing here converts money or a percentage to a float.
Durations in seconds are spelled for people (``1 h 10 min``) exactly, instants are shown in the
period's time zone, and the charts (:mod:`slakeeper.services.report_charts`) are SVG drawn here,
on the server.

The HTML is one standalone page: inline CSS, no script, no external resource. The PDF is that
same HTML laid out by WeasyPrint (:mod:`slakeeper.services.agreement_pdf`, as for the
agreement), with the report's title, author and creation date taken from the document, so the
same document gives the same bytes in both formats. Nothing here reads files, the clock or the
environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup

from slakeeper.services import report_charts as charts
from slakeeper.services.agreement import MONTH_NAMES

KIND = "slakeeper/sla-report"
VERSION = 1

#: The report's sections (``<h2>``), in order, with their anchors.
SECTIONS = (
    ("summary", "Summary"),
    ("daily-uptime", "Daily uptime"),
    ("components", "Components"),
    ("downtime", "Downtime"),
    ("slos", "Service level objectives"),
    ("incidents", "Incidents"),
    ("support", "Support requests"),
    ("credit", "Service credit"),
    ("claim", "Claiming the credit"),
    ("responsibilities", "Customer responsibilities"),
    ("scope", "Scope"),
)
SECTION_TITLES = tuple(title for _, title in SECTIONS)

CREDIT_STATES = {
    "eligible": "owed, not yet claimed",
    "claimed": "claimed, being verified against the data",
    "approved": "approved, to be applied to an invoice",
    "rejected": "rejected after verification",
    "applied": "applied to an invoice",
    "none": "no credit is owed",
}
STATUS_TEXT = {
    "closed": "Closed: the final figures for the period.",
    "open": "Open: the period so far. The figures change until the period closes.",
}


def render_report(document: Mapping[str, Any], fmt: Literal["html", "pdf"]) -> bytes:
    """The report ``document`` as UTF-8 HTML or as PDF bytes; equal documents, equal bytes.

    Raises ``ValueError`` for a document that is not a version 1 SLA report or lacks a field.
    """
    if fmt not in ("html", "pdf"):
        raise ValueError(f"unknown report format {fmt!r}; use 'html' or 'pdf'")
    html = render_report_html(document)
    if fmt == "html":
        return html.encode("utf-8")
    from slakeeper.services.agreement_pdf import html_to_pdf

    return html_to_pdf(html)


def render_report_html(document: Mapping[str, Any]) -> str:
    """The report as one standalone HTML page (the PDF is laid out from this same text)."""
    kind, version = document.get("kind"), document.get("version")
    if kind != KIND or version != VERSION:
        raise ValueError(
            f"not a {KIND} version {VERSION} document (kind {kind!r}, version {version!r})"
        )
    try:
        zone = str(document["period"]["timezone"])
        ZoneInfo(zone)
        context = {
            "r": document,
            "zone": zone,
            "sections": SECTIONS,
            "period_text": _period_text(document["period"]),
            "status_text": STATUS_TEXT.get(str(document["status"]), str(document["status"])),
            "credit_states": CREDIT_STATES,
            "strip": charts.uptime_strip(
                document["uptime"]["daily"],
                target_percent=document["uptime"].get("target_percent"),
                chart_id="daily-uptime-chart",
            ),
            "strip_legend": charts.legend(
                charts.strip_legend(document["uptime"].get("target_percent"))
            ),
            "burn_downs": [
                charts.burn_down(
                    slo.get("burn_down") or [], name=str(slo["name"]), chart_id=f"burn-down-{n}"
                )
                for n, slo in enumerate(document["slos"], start=1)
            ],
            "clock_chart": charts.response_times(
                clock_rows(document["incidents"], document["support"]), chart_id="clock-chart"
            ),
        }
        return _environment().get_template("report.html.j2").render(context)
    except KeyError as error:
        raise ValueError(f"the report document is incomplete: no field {error}") from error
    except (TypeError, jinja2.UndefinedError, ZoneInfoNotFoundError) as error:
        raise ValueError(f"the report document is incomplete or malformed: {error}") from error


def clock_rows(
    incidents: Sequence[Mapping[str, Any]], support: Sequence[Mapping[str, Any]]
) -> list[charts.ClockRow]:
    """The response and resolution clock of each incident, then of each support request."""
    rows = []
    for item in [*incidents, *support]:
        for clock in ("response", "resolution"):
            if item.get(clock) is not None:
                rows.append(charts.ClockRow(f"{item['id']} {clock}", item[clock]))
    return rows


# --------------------------------------------------------------------------- formatting
def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"instant {value!r} has no time zone; the document uses UTC 'Z'")
    return moment


def when(value: str | None, zone: str) -> Markup:
    """``2026-10-14 10:12 CEST``: an instant in the period's time zone, for tables (the date
    and the time each kept on one line)."""
    if value is None:
        return Markup("—")
    local = _instant(value).astimezone(ZoneInfo(zone))
    return Markup('<span class="nowrap">{}</span> <span class="nowrap">{}</span>').format(
        f"{local:%Y-%m-%d}", f"{local:%H:%M %Z}"
    )


def local_when(value: str | None, zone: str) -> str:
    """``1 December 2026, 00:00 Europe/Berlin``."""
    if value is None:
        return "—"
    local = _instant(value).astimezone(ZoneInfo(zone))
    return f"{local.day} {MONTH_NAMES[local.month - 1]} {local.year}, {local:%H:%M} {zone}"


def utc_when(value: str) -> str:
    """``2026-11-30 23:00 UTC``."""
    return f"{_instant(value).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def long_when(value: str | None, zone: str) -> str:
    """``1 December 2026, 00:00 Europe/Berlin (2026-11-30 23:00 UTC)``."""
    if value is None:
        return "—"
    return f"{local_when(value, zone)} ({utc_when(value)})"


def _date(value: str, zone: str) -> str:
    local = _instant(value).astimezone(ZoneInfo(zone))
    return f"{local.day} {MONTH_NAMES[local.month - 1]} {local.year} {local:%H:%M}"


def _period_text(period: Mapping[str, Any]) -> str:
    zone = str(period["timezone"])
    start, end = _date(period["start"], zone), _date(period["end"], zone)
    return f"{period['label']}: from {start} to {end} ({zone} time)"


def span(start: str, end: str) -> str:
    """The duration between two instants, spelled (``20 min``)."""
    seconds = int((_instant(end) - _instant(start)).total_seconds())
    return charts.human_duration(str(seconds))


def percent(value: str | None) -> str:
    return "—" if value is None else f"{value} %"


def seconds(value: str | None) -> str:
    """``1 h 10 min (4200 s)``: spelled, with the exact figure as given."""
    if value is None:
        return "—"
    return f"{charts.human_duration(value)} ({value} s)"


def days(value: str) -> str:
    """``1 day``, ``3 days``, ``0.5 days``: the figure as given, with its unit."""
    return f"{value} day" if str(value) == "1" else f"{value} days"


def yes_no(value: object) -> str:
    return "yes" if value is True else "no" if value is False else "—"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("slakeeper", "templates/report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        when=when,
        long_when=long_when,
        local_when=local_when,
        utc_when=utc_when,
        span=span,
        percent=percent,
        seconds=seconds,
        duration=charts.human_duration,
        clock=charts.clock_text,
        yes_no=yes_no,
        days=days,
    )
    return environment
