"""The public status page of an organisation (no authentication).

``GET /status/{org}`` is server-rendered HTML (Jinja2, inline CSS, SVG bars drawn here, no
JavaScript); ``/status/{org}/api/v2/*.json`` is the Statuspage v2 public API's shape;
``history.atom`` an Atom 1.0 feed of incidents; ``badge/{component}.svg`` and
``badge/{component}/uptime.svg`` small SVG badges. The page is fail-graceful: the last page
rendered for an organisation is kept in memory (``app.state``) and served, with a "live data
unavailable" banner, while the store cannot be reached.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from slakeeper.bootstrap import UNAVAILABLE_ERRORS, Container
from slakeeper.problems import problem
from slakeeper.services import status_page
from slakeeper.services.errors import NotFound
from slakeeper.services.records import iso
from slakeeper.services.status_page import ComponentStatus, DayBar, IncidentEntry, StatusPage

router = APIRouter(tags=["status page"])

#: Colours of the states (bars and badges); each has a text label beside it on the page.
COLOURS = {
    "operational": "#2b8a3e",
    "degraded-performance": "#e6b000",
    "partial-outage": "#e8590c",
    "major-outage": "#c92a2a",
    "under-maintenance": "#1971c2",
    status_page.NO_DATA: "#adb5bd",
}
LABELS = {
    "operational": "Operational",
    "degraded-performance": "Degraded performance",
    "partial-outage": "Partial outage",
    "major-outage": "Major outage",
    "under-maintenance": "Under maintenance",
    status_page.NO_DATA: "No data",
}
#: Statuspage's incident impact / page indicator for our worst component state.
INDICATOR = {
    "operational": "none",
    "under-maintenance": "none",
    "degraded-performance": "minor",
    "partial-outage": "major",
    "major-outage": "critical",
}
DESCRIPTION = {
    "operational": "All Systems Operational",
    "under-maintenance": "Service Under Maintenance",
    "degraded-performance": "Minor Service Outage",
    "partial-outage": "Partial System Outage",
    "major-outage": "Major System Outage",
}
#: Fills on which black text reads better than white.
DARK_TEXT = {"#e6b000", "#e8590c", "#adb5bd"}
BANNER_MARK = "<!--live-data-banner-->"
BANNER = (
    '<div class="stale" role="alert"><strong>Live data unavailable.</strong> '
    "This is the last page we could build; it may be out of date.</div>"
)
BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 8, 2, 34

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("slakeeper", "templates/status"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# ------------------------------------------------------------------ the page model (pure)
def underscore(value: str) -> str:
    return value.replace("-", "_")


def bar_label(component: ComponentStatus, bar: DayBar) -> str:
    day = bar.day.isoformat()
    if bar.uptime is None:
        return f"{component.name}, {day}: no data"
    text = f"{component.name}, {day}: {bar.uptime.percent(3)} % uptime, {LABELS[bar.state]}"
    if bar.incidents:
        text += "; incidents: " + ", ".join(bar.incidents)
    return text


def page_model(page: StatusPage, base_url: str) -> dict[str, Any]:
    """Everything the template shows, computed from the service's :class:`StatusPage`."""
    width = status_page.DAYS * (BAR_WIDTH + BAR_GAP) - BAR_GAP

    def component(row: ComponentStatus) -> dict[str, Any]:
        bars = [
            {
                "x": index * (BAR_WIDTH + BAR_GAP),
                "fill": COLOURS[bar.state],
                "state": bar.state,
                "label": bar_label(row, bar),
            }
            for index, bar in enumerate(row.days)
        ]
        return {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "label": LABELS[row.status],
            "colour": COLOURS[row.status],
            "uptime": f"{row.uptime.percent(3)} %",
            "bars": bars,
            "first_day": row.days[0].day.isoformat(),
        }

    def incident(entry: IncidentEntry) -> dict[str, Any]:
        return {
            "id": entry.view.incident.id,
            "title": entry.view.incident.title,
            "status": entry.view.status,
            "impact": entry.impact,
            "impact_label": LABELS[entry.impact],
            "colour": COLOURS[entry.impact],
            "started_at": _human(entry.view.incident.started_at),
            "resolved_at": _human(entry.view.resolved_at),
            "updates": [
                {"status": u.status, "message": u.message, "at": _human(u.at), "iso": iso(u.at)}
                for u in reversed(entry.view.updates)
            ],
        }

    return {
        "org": page.org.slug,
        "name": page.name,
        "base_url": base_url,
        "status": page.status,
        "status_label": DESCRIPTION[page.status],
        "status_colour": COLOURS[page.status],
        "generated_at": _human(page.now),
        "groups": [
            {"name": name or "Components", "components": [component(row) for row in rows]}
            for name, rows in page.groups
        ],
        "svg_width": width,
        "bar_width": BAR_WIDTH,
        "bar_height": BAR_HEIGHT,
        "active": [incident(entry) for entry in page.active_incidents],
        "maintenance": [
            {
                "id": m.window.id,
                "title": m.window.title,
                "state": m.state,
                "starts_at": _human(m.window.starts_at),
                "ends_at": _human(m.window.ends_at),
                "components": [c.name for c in page.components if c.id in m.window.components],
            }
            for m in page.current_maintenance
        ],
        "history": [
            {"month": month, "incidents": [incident(entry) for entry in entries]}
            for month, entries in page.history
        ],
        "colours": [(LABELS[state], colour) for state, colour in COLOURS.items()],
        "banner_mark": BANNER_MARK,
    }


def _human(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def render_html(page: StatusPage, base_url: str) -> str:
    return _templates.get_template("page.html.j2").render(page_model(page, base_url))


# ------------------------------------------------------------------ Statuspage v2 (pure)
def page_json(page: StatusPage, url: str) -> dict[str, Any]:
    return {
        "id": page.org.slug,
        "name": page.name,
        "url": url,
        "time_zone": "Etc/UTC",
        "updated_at": iso(page.updated_at),
    }


def status_json(page: StatusPage) -> dict[str, Any]:
    return {"indicator": INDICATOR[page.status], "description": DESCRIPTION[page.status]}


def _group_id(name: str) -> str:
    return "group-" + "-".join(name.lower().split())


def components_json(page: StatusPage) -> list[dict[str, Any]]:
    created = iso(page.org.created_at)
    items: list[dict[str, Any]] = []
    position = 0
    for name, rows in page.groups:
        if name is not None:
            position += 1
            items.append({
                "id": _group_id(name), "name": name,
                "status": underscore(status_page.worst([row.status for row in rows])),
                "created_at": created, "updated_at": iso(page.updated_at), "position": position,
                "description": None, "showcase": False, "group_id": None,
                "page_id": page.org.slug, "group": True, "only_show_if_degraded": False,
                "components": [row.id for row in rows],
            })  # fmt: skip
        for row in rows:
            position += 1
            items.append({
                "id": row.id, "name": row.name, "status": underscore(row.status),
                "created_at": created, "updated_at": iso(page.updated_at), "position": position,
                "description": None, "showcase": True,
                "group_id": _group_id(name) if name is not None else None,
                "page_id": page.org.slug, "group": False, "only_show_if_degraded": False,
            })  # fmt: skip
    return items


def incident_json(entry: IncidentEntry, page: StatusPage, url: str) -> dict[str, Any]:
    view = entry.view
    names = {c.id: c.name for c in page.components}
    return {
        "id": view.incident.id,
        "name": view.incident.title,
        "status": view.status,
        "impact": INDICATOR[entry.impact],
        "created_at": iso(view.incident.created_at),
        "updated_at": iso(entry.updated_at),
        "monitoring_at": next((iso(u.at) for u in view.updates if u.status == "monitoring"), None),
        "resolved_at": iso(view.resolved_at),
        "started_at": iso(view.incident.started_at),
        "shortlink": f"{url}#incident-{view.incident.id}",
        "page_id": page.org.slug,
        "incident_updates": [
            {
                "id": f"{view.incident.id}-{u.seq}",
                "incident_id": view.incident.id,
                "status": u.status,
                "body": u.message,
                "created_at": iso(u.at),
                "updated_at": iso(u.at),
                "display_at": iso(u.at),
                "affected_components": [
                    {"code": c, "name": names.get(c, c), "new_status": underscore(i)}
                    for c, i in u.components.items()
                ],
            }
            for u in reversed(view.updates)
        ],
        "components": [
            {"id": c, "name": names.get(c, c), "status": underscore(i)}
            for c, i in entry.components.items()
        ],
    }


def maintenance_json(page: StatusPage, url: str) -> list[dict[str, Any]]:
    names = {c.id: c.name for c in page.components}
    return [
        {
            "id": m.window.id,
            "name": m.window.title,
            "status": underscore(m.state),
            "impact": "maintenance",
            "created_at": iso(m.window.announced_at),
            "updated_at": iso(m.window.completed_at or m.window.created_at),
            "scheduled_for": iso(m.window.starts_at),
            "scheduled_until": iso(m.window.ends_at),
            "resolved_at": iso(m.window.completed_at),
            "shortlink": f"{url}#maintenance-{m.window.id}",
            "page_id": page.org.slug,
            "incident_updates": [],
            "components": [
                {"id": c, "name": names.get(c, c), "status": "under_maintenance"}
                for c in m.window.components
            ],
        }
        for m in page.maintenance
    ]


def atom_feed(page: StatusPage, url: str) -> bytes:
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        element.text = text
        return element

    add(feed, "id", f"tag:slakeeper,2026:status/{page.org.slug}")
    add(feed, "title", f"{page.name} status: incident history")
    add(feed, "updated", iso(page.updated_at))
    add(feed, "link", href=url)
    add(add(feed, "author"), "name", page.name)
    for entry in page.incidents:
        view = entry.view
        item = add(feed, "entry")
        add(item, "id", f"tag:slakeeper,2026:status/{page.org.slug}/incident/{view.incident.id}")
        add(item, "title", f"{view.incident.title} ({view.status})")
        add(item, "updated", iso(entry.updated_at))
        add(item, "published", iso(view.incident.started_at))
        add(item, "link", href=f"{url}#incident-{view.incident.id}")
        lines = [f"{iso(u.at)} {u.status}: {u.message}" for u in reversed(view.updates)]
        add(item, "content", "\n".join(lines), type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def badge_svg(label: str, value: str, colour: str) -> str:
    left, right = 6 * len(label) + 12, 6 * len(value) + 12
    text = "#111" if colour in DARK_TEXT else "#fff"
    title = escape(f"{label}: {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" '
        f'role="img" aria-label={quoteattr(f"{label}: {value}")}><title>{title}</title>'
        f'<rect width="{left}" height="20" fill="#343a40"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14" fill="#fff">{escape(label)}</text>'
        f'<text x="{left + 6}" y="14" fill="{text}">{escape(value)}</text></g></svg>'
    )


# ------------------------------------------------------------------ routes
def _load(request: Request, org: str) -> StatusPage:
    container: Container = request.app.state.container
    with container.uow() as uow:
        return status_page.build(uow, org, container.clock.now())


def _page_url(request: Request, org: str) -> str:
    return str(request.url_for("status_page", org=org))


def _json(
    request: Request, org: str, body: Callable[[StatusPage, str], dict[str, Any]]
) -> Response:
    try:
        page = _load(request, org)
    except NotFound as exc:
        return problem("not-found", exc.message, instance=request.url.path)
    url = _page_url(request, org)
    return JSONResponse({"page": page_json(page, url), **body(page, url)})


def _cache(request: Request) -> dict[str, str]:
    cache: dict[str, str] | None = getattr(request.app.state, "status_page_cache", None)
    if cache is None:
        cache = {}
        request.app.state.status_page_cache = cache
    return cache


@router.get("/status/{org}", response_class=HTMLResponse, name="status_page")
def status_html(request: Request, org: str) -> Response:
    cache = _cache(request)
    try:
        page = _load(request, org)
    except NotFound as exc:
        return problem("not-found", exc.message, instance=request.url.path)
    except UNAVAILABLE_ERRORS:
        if org not in cache:
            return problem(
                "unavailable",
                "the status page cannot be built: the store is unreachable",
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )
        return HTMLResponse(cache[org].replace(BANNER_MARK, BANNER, 1))
    html = render_html(page, _page_url(request, org))
    cache[org] = html
    return HTMLResponse(html)


@router.get("/status/{org}/api/v2/summary.json")
def summary(request: Request, org: str) -> Response:
    return _json(request, org, lambda page, url: {
        "status": status_json(page),
        "components": components_json(page),
        "incidents": [incident_json(e, page, url) for e in page.active_incidents],
        "scheduled_maintenances": [
            m for m in maintenance_json(page, url) if m["status"] != "completed"
        ],
    })  # fmt: skip


@router.get("/status/{org}/api/v2/status.json")
def status(request: Request, org: str) -> Response:
    return _json(request, org, lambda page, url: {"status": status_json(page)})


@router.get("/status/{org}/api/v2/components.json")
def components(request: Request, org: str) -> Response:
    return _json(request, org, lambda page, url: {"components": components_json(page)})


@router.get("/status/{org}/api/v2/incidents.json")
def incidents(request: Request, org: str) -> Response:
    return _json(request, org, lambda page, url: {
        "incidents": [incident_json(e, page, url) for e in page.incidents]
    })  # fmt: skip


@router.get("/status/{org}/api/v2/scheduled-maintenances.json")
def scheduled_maintenances(request: Request, org: str) -> Response:
    return _json(request, org, lambda page, url: {
        "scheduled_maintenances": maintenance_json(page, url)
    })  # fmt: skip


@router.get("/status/{org}/history.atom")
def history_atom(request: Request, org: str) -> Response:
    try:
        page = _load(request, org)
    except NotFound as exc:
        return problem("not-found", exc.message, instance=request.url.path)
    return Response(atom_feed(page, _page_url(request, org)), media_type="application/atom+xml")


def _component(request: Request, org: str, component: str) -> ComponentStatus | Response:
    try:
        page = _load(request, org)
    except NotFound as exc:
        return problem("not-found", exc.message, instance=request.url.path)
    for row in page.components:
        if row.id == component:
            return row
    return problem(
        "not-found", f"component '{component}' does not exist", instance=request.url.path
    )


_SVG_HEADERS = {"Cache-Control": "max-age=60"}


@router.get("/status/{org}/badge/{component}.svg")
def badge(request: Request, org: str, component: str) -> Response:
    row = _component(request, org, component)
    if isinstance(row, Response):
        return row
    svg = badge_svg(row.name, LABELS[row.status].lower(), COLOURS[row.status])
    return Response(svg, media_type="image/svg+xml", headers=_SVG_HEADERS)


@router.get("/status/{org}/badge/{component}/uptime.svg")
def uptime_badge(request: Request, org: str, component: str) -> Response:
    row = _component(request, org, component)
    if isinstance(row, Response):
        return row
    svg = badge_svg(f"{row.name} uptime (90 d)", f"{row.uptime.percent(3)} %", "#237032")
    return Response(svg, media_type="image/svg+xml", headers=_SVG_HEADERS)
