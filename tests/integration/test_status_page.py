"""The public status page: HTML with server-drawn SVG bars, Statuspage v2 JSON, Atom, badges."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from api_helpers import API_PREFIX, TRULAYER, Api, assert_problem

from slakeeper.services.ports import StoreUnavailable
from slakeeper.web import status

COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage",
                      "under_maintenance"}  # fmt: skip
INDICATORS = {"none", "minor", "major", "critical"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "completed"}
ATOM = "{http://www.w3.org/2005/Atom}"


def post(api: Api, path: str, body: dict[str, Any], status_code: int = 201) -> dict[str, Any]:
    answer = api.client.post(f"{API_PREFIX}{path}", json=body, headers=api.headers())
    assert answer.status_code == status_code, answer.text
    return answer.json()  # type: ignore[no-any-return]


def at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=UTC).isoformat()


@pytest.fixture
def page(api: Api) -> dict[str, Any]:
    """trulayer; a resolved 2 h major outage of ingest-api 3 days ago, an open degradation of
    the dashboard since 2 days ago, maintenance in progress (control-engine) and upcoming."""
    api.upload_policy(TRULAYER)
    now = api.container.clock.now()
    today = now.astimezone(UTC).date()
    outage_day, degraded_day = today - timedelta(days=3), today - timedelta(days=2)
    post(api, "/incidents", {"id": "INC-1", "title": "Ingest down", "severity": "sev-1",
                             "components": {"ingest-api": "major-outage"},
                             "started_at": at(outage_day, 10)})  # fmt: skip
    post(api, "/incidents/INC-1/updates", {"status": "identified", "message": "Bad deploy",
                                          "at": at(outage_day, 11)})  # fmt: skip
    post(api, "/incidents/INC-1/updates", {"status": "resolved", "message": "Rolled back",
                                          "at": at(outage_day, 12),
                                          "components": {"ingest-api": "operational"}})  # fmt: skip
    post(api, "/incidents", {"id": "INC-2", "title": "Slow dashboard", "severity": "sev-3",
                             "components": {"dashboard": "degraded-performance"},
                             "started_at": at(degraded_day, 8)})  # fmt: skip
    post(api, "/incidents/INC-2/updates", {"status": "monitoring",
                                          "message": "Cache warmed, watching"})  # fmt: skip
    post(api, "/maintenance", {"id": "MW-1", "title": "Policy store upgrade",
                               "components": ["control-engine"],
                               "starts_at": (now - timedelta(seconds=30)).isoformat(),
                               "ends_at": (now + timedelta(hours=1)).isoformat(),
                               "announced_at": (now - timedelta(days=3)).isoformat()})  # fmt: skip
    post(api, "/maintenance", {"id": "MW-2", "title": "Auth provider migration",
                               "components": ["auth"],
                               "starts_at": (now + timedelta(days=3)).isoformat(),
                               "ends_at": (now + timedelta(days=3, hours=2)).isoformat(),
                               "announced_at": now.isoformat()})  # fmt: skip
    return {"today": today, "outage_day": outage_day, "degraded_day": degraded_day}


def bars(html: str, component: str) -> list[tuple[str, str]]:
    """(state, title) of each rect of the component's SVG."""
    block = html.split(f'id="component-{component}"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r'<rect [^>]*data-state="([^"]+)"[^>]*><title>([^<]*)</title></rect>', block)


def test_the_page_shows_components_incidents_maintenance_and_90_daily_bars(
    api: Api, page: dict[str, Any]
) -> None:
    answer = api.client.get("/status/acme")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert '<html lang="en">' in html
    assert all(tag in html for tag in ("<header>", "<main>", "<footer>"))
    assert "<h3>Platform</h3>" in html
    for name in ("Ingest API", "Dashboard", "Eval Engine", "Control Engine", "Auth"):
        assert f'<span class="name">{name}</span>' in html
    active = html.split('id="active-title"', 1)[1].split("</section>", 1)[0]
    assert "Slow dashboard" in active
    assert "Cache warmed, watching" in active
    assert "Ingest down" not in active
    assert "Policy store upgrade" in html
    assert "Auth provider migration" in html
    history = html.split('id="history-title"', 1)[1]
    assert "Ingest down" in history
    assert "Rolled back" in history
    assert "Minor Service Outage" in html  # the worst current state: degraded performance

    today, outage_day, degraded_day = page["today"], page["outage_day"], page["degraded_day"]
    for component in ("ingest-api", "dashboard", "eval-engine", "control-engine", "auth"):
        assert len(bars(html, component)) == 90
    ingest = bars(html, "ingest-api")
    days = [today - timedelta(days=89 - index) for index in range(90)]
    by_day = dict(zip(days, ingest, strict=True))
    state, title = by_day[outage_day]
    assert state == "major-outage"
    assert f"{outage_day.isoformat()}: 91.667 % uptime" in title
    assert "Ingest down" in title
    assert by_day[outage_day - timedelta(days=1)][0] == "no-data"
    assert by_day[degraded_day] == (
        "operational",
        f"Ingest API, {degraded_day.isoformat()}: 100.000 % uptime, Operational",
    )
    dashboard = dict(zip(days, bars(html, "dashboard"), strict=True))
    assert dashboard[degraded_day][0] == dashboard[today][0] == "degraded-performance"
    assert dashboard[outage_day][0] == "operational"
    assert dict(zip(days, bars(html, "control-engine"), strict=True))[today][0] == (
        "under-maintenance"
    )
    assert html.count('tabindex="0"') == 5 * 90
    assert status.COLOURS["major-outage"] in html
    # 90-day uptime: 2 h down over the days with data (today measured until now)
    assert re.search(r"9\d\.\d{3} % uptime</span>", html.split('id="component-ingest-api"')[1])


def test_the_statuspage_v2_endpoints_use_its_names_and_values(
    api: Api, page: dict[str, Any]
) -> None:
    base = "/status/acme/api/v2"
    summary = api.client.get(f"{base}/summary.json").json()
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert set(summary["page"]) >= {"id", "name", "url", "updated_at"}
    assert summary["status"]["indicator"] == "minor"
    for name in ("status", "components", "incidents", "scheduled-maintenances"):
        body = api.client.get(f"{base}/{name}.json").json()
        assert "page" in body
        if "status" in body:
            assert body["status"]["indicator"] in INDICATORS
            assert body["status"]["description"]
        for component in body.get("components", []):
            assert {"id", "name", "status", "group_id"} <= set(component)
            assert component["status"] in COMPONENT_STATUSES, component
        for incident in body.get("incidents", []):
            assert {"id", "name", "status", "impact", "created_at", "updated_at", "resolved_at",
                    "shortlink", "incident_updates", "components"} <= set(incident)  # fmt: skip
            assert incident["status"] in INCIDENT_STATUSES
            assert incident["impact"] in INDICATORS
            for update in incident["incident_updates"]:
                assert {"id", "status", "body", "created_at"} <= set(update)
                assert update["status"] in INCIDENT_STATUSES
            for component in incident["components"]:
                assert component["status"] in COMPONENT_STATUSES
        for window in body.get("scheduled_maintenances", []):
            assert {"id", "name", "status", "scheduled_for", "scheduled_until"} <= set(window)
            assert window["status"] in MAINTENANCE_STATUSES
    components = api.client.get(f"{base}/components.json").json()["components"]
    statuses = {c["id"]: c["status"] for c in components}
    assert statuses["dashboard"] == "degraded_performance"
    assert statuses["control-engine"] == "under_maintenance"
    assert {c["group_id"] for c in components if not c["group"]} == {"group-platform"}
    incidents = api.client.get(f"{base}/incidents.json").json()["incidents"]
    assert {(i["id"], i["status"], i["impact"]) for i in incidents} == {
        ("INC-1", "resolved", "critical"), ("INC-2", "monitoring", "minor")}  # fmt: skip
    windows = api.client.get(f"{base}/scheduled-maintenances.json").json()
    assert {(w["id"], w["status"]) for w in windows["scheduled_maintenances"]} == {
        ("MW-1", "in_progress"), ("MW-2", "scheduled")}  # fmt: skip


def test_the_atom_feed_and_the_badges(api: Api, page: dict[str, Any]) -> None:
    answer = api.client.get("/status/acme/history.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for tag in ("id", "title", "updated", "content"):
            assert (entry.findtext(f"{ATOM}{tag}") or "").strip(), tag
    badge = api.client.get("/status/acme/badge/dashboard.svg")
    assert badge.headers["content-type"].startswith("image/svg+xml")
    assert "degraded performance" in ET.fromstring(badge.content).findtext(
        "{http://www.w3.org/2000/svg}title", ""
    )
    uptime = api.client.get("/status/acme/badge/ingest-api/uptime.svg")
    assert ET.fromstring(uptime.content).tag == "{http://www.w3.org/2000/svg}svg"
    assert re.search(r"\d+\.\d{3} %", uptime.text)
    assert_problem(api.client.get("/status/acme/badge/nope.svg"), 404, "not-found")


def test_an_unknown_organisation_is_a_404_problem(api: Api, page: dict[str, Any]) -> None:
    for path in ("/status/nope", "/status/nope/api/v2/summary.json", "/status/nope/history.atom",
                 "/status/nope/badge/auth.svg"):  # fmt: skip
        assert_problem(api.client.get(path), 404, "not-found")


def test_the_page_fails_gracefully_to_its_last_copy(
    api: Api, page: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> Any:
        raise StoreUnavailable("down")

    fresh = api.client.get("/status/acme")
    assert "Live data unavailable" not in fresh.text
    monkeypatch.setattr(api.container, "uow", unavailable)
    stale = api.client.get("/status/acme")
    assert stale.status_code == 200
    assert "Live data unavailable" in stale.text
    assert "Slow dashboard" in stale.text
    assert_problem(api.client.get("/status/other-org"), 503, "unavailable")
