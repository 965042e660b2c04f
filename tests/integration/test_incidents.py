"""Incidents and maintenance through the API, on both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_helpers import API_PREFIX, Api, assert_problem

from conftest import EXAMPLES

SAAS = EXAMPLES / "generic-saas.yaml"


def post(api: Api, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    answer = api.client.post(f"{API_PREFIX}{path}", json=body, headers=api.headers())
    assert answer.status_code == status, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_critical_incident_must_carry_the_fields_the_policy_requires(api: Api) -> None:
    api.upload_policy(EXAMPLES / "oneai.yaml")
    body = {"id": "INC-1", "title": "API down", "severity": "Sev-1",
            "components": {"api": "major-outage"}, "fields": {"requestId": "r-1"}}  # fmt: skip
    answer = api.client.post(f"{API_PREFIX}/incidents", json=body, headers=api.headers())
    problem = assert_problem(answer, 422, "validation")
    assert {e["field"] for e in problem["errors"]} == {
        "fields.endpoint", "fields.provider", "fields.model", "fields.timestamp",
        "fields.business_impact",
    }  # fmt: skip
    body["fields"] = {name: "x" for name in ("requestId", "endpoint", "provider", "model",
                                               "timestamp", "business_impact")}  # fmt: skip
    created = post(api, "/incidents", body)
    assert (created["severity"], created["status"], created["customers"]) == (
        "critical",
        "investigating",
        "all",
    )


def test_incident_clocks_follow_the_targets_of_the_customers_plan(api: Api) -> None:
    api.upload_policy(SAAS)
    api.customer("big", plan="enterprise", monthly_fee=None, annual_fee="1200")
    now = api.container.clock.now()
    created = post(api, "/incidents", {
        "id": "INC-2", "title": "Login fails", "severity": "P0", "customers": ["big"],
        "components": {"platform": "partial-outage"},
        "started_at": (now - timedelta(hours=2)).isoformat()})  # fmt: skip
    assert created["response"]["target_seconds"] == "3600"  # urgent on enterprise: 1 h, 24x7
    assert created["response"]["state"] == "breached"
    updated = post(api, "/incidents/INC-2/updates", {
        "status": "identified", "message": "Found it",
        "at": (now - timedelta(minutes=90)).isoformat()})  # fmt: skip
    assert updated["response"]["state"] == "met"
    assert updated["response"]["stopped_at"] is not None
    components = api.client.get(f"{API_PREFIX}/components", headers=api.headers()).json()
    assert {c["id"]: c["status"] for c in components} == {"platform": "partial-outage"}
    post(api, "/incidents/INC-2/updates", {"status": "resolved", "message": "Fixed",
                                            "components": {"platform": "operational"}})  # fmt: skip
    components = api.client.get(f"{API_PREFIX}/components", headers=api.headers()).json()
    assert components[0]["status"] == "operational"
    reopened = post(api, "/incidents/INC-2/updates", {"status": "investigating",
                                                      "message": "It is back"})  # fmt: skip
    assert (reopened["status"], reopened["resolved_at"]) == ("investigating", None)
    assert len(reopened["resolution"]) == 2


def test_a_post_incident_report_is_due_five_business_days_after_resolution(api: Api) -> None:
    api.upload_policy()  # trulayer: Sev-1 and Sev-2, 5 business days, Mon-Fri
    post(api, "/incidents", {"id": "INC-3", "title": "Ingest down", "severity": "sev-1",
                             "components": {"ingest-api": "major-outage"},
                             "started_at": "2026-11-02T10:00:00Z"})  # fmt: skip
    resolved = post(api, "/incidents/INC-3/updates", {
        "status": "resolved", "message": "Fixed", "at": "2026-11-02T12:00:00Z",
        "components": {"ingest-api": "operational"}})  # fmt: skip
    # Resolved on Monday 2 November: due at the close of Monday 9 November (the fifth day).
    assert resolved["postmortem"]["due_at"] == "2026-11-10T00:00:00Z"
    assert resolved["postmortem"]["state"] == "overdue"
    answer = api.client.put(
        f"{API_PREFIX}/incidents/INC-3/postmortem",
        json={"markdown": "# Ingest outage\n\nRoot cause: ..."},
        headers=api.headers(),
    )
    assert answer.json()["postmortem"]["state"] == "attached-late"
    post(api, "/incidents", {"id": "INC-4", "title": "Slow page", "severity": "sev-3"})
    minor = api.client.get(f"{API_PREFIX}/incidents/INC-4", headers=api.headers()).json()
    assert minor["postmortem"]["state"] == "not-required"


def test_maintenance_says_at_once_whether_its_notice_excludes_it(api: Api) -> None:
    api.upload_policy()  # 48 h notice
    now = api.container.clock.now()

    def window(window_id: str, notice_hours: int) -> dict[str, Any]:
        starts = now - timedelta(hours=1)
        ends = starts + timedelta(minutes=30)
        return post(api, "/maintenance", {
            "id": window_id, "title": "Database upgrade", "components": ["ingest-api"],
            "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
            "announced_at": (starts - timedelta(hours=notice_hours)).isoformat()})  # fmt: skip

    early, late = window("MW-early", 72), window("MW-late", 24)
    assert (early["excluded"], late["excluded"]) == (True, False)
    assert early["required_notice_seconds"] == 48 * 3600
    assert early["state"] == "in-progress"
    assert early["overrun_seconds"] == 30 * 60  # still running, 30 min past its end
    components = api.client.get(f"{API_PREFIX}/components", headers=api.headers()).json()
    assert {c["id"]: c["status"] for c in components}["ingest-api"] == "under-maintenance"
    done = post(api, "/maintenance/MW-early/complete",
                {"at": (now - timedelta(minutes=10)).isoformat()}, status=200)  # fmt: skip
    assert (done["state"], done["overrun_seconds"]) == ("completed", 20 * 60)


def test_the_sla_report_counts_declared_outages_maintenance_and_exclusions(api: Api) -> None:
    api.upload_policy()  # trulayer, pro: 99.9 %, 1 day per excess hour
    api.customer("acme", plan="pro", monthly_fee="1250.00")
    api.customer("globex", plan="pro", monthly_fee="1250.00")

    def outage(incident_id: str, component: str, start: str, end: str, **extra: Any) -> None:
        post(api, "/incidents", {"id": incident_id, "title": "Outage", "severity": "sev-2",
                                 "components": {component: "major-outage"},
                                 "started_at": start, **extra})  # fmt: skip
        post(api, f"/incidents/{incident_id}/updates", {
            "status": "resolved", "message": "Fixed", "at": end,
            "components": {component: "operational"}})  # fmt: skip

    outage("INC-1", "dashboard", "2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z")
    outage("INC-2", "ingest-api", "2026-11-05T10:00:00Z", "2026-11-05T12:00:00Z")
    post(api, "/incidents/INC-2/exclusions", {
        "category": "force-majeure", "components": ["ingest-api"], "reason": "Cloud region down",
        "start": "2026-11-05T10:00:00Z", "end": "2026-11-05T11:00:00Z"})  # fmt: skip
    outage("INC-3", "dashboard", "2026-11-12T10:00:00Z", "2026-11-12T10:30:00Z",
           customers=["globex"])  # fmt: skip
    post(api, "/maintenance", {
        "id": "MW-1", "title": "Upgrade", "components": ["ingest-api"],
        "starts_at": "2026-11-10T02:00:00Z", "ends_at": "2026-11-10T03:00:00Z",
        "announced_at": "2026-11-07T02:00:00Z"})  # fmt: skip
    post(api, "/maintenance/MW-1/complete", {"at": "2026-11-10T03:30:00Z"}, status=200)

    report = api.client.get(
        f"{API_PREFIX}/reports/sla", params={"period": "2026-11"}, headers=api.headers()
    ).json()
    rows = {row["id"]: row for row in report["customers"]}
    acme = rows["acme"]
    # 60 (INC-1) + 120 (INC-2) + 60 maintenance + 30 overrun minutes; 60 + 60 excluded.
    assert (acme["downtime_seconds"], acme["excluded_seconds"]) == ("16200", "7200")
    assert acme["counted_downtime_seconds"] == "9000"
    assert acme["uptime_percent"] == "99.652778"
    # 9000 - 2592 s = 1.78 h of excess, rounded down: 1 day of a 30-day month.
    assert (acme["credit"]["days"], acme["credit"]["amount"]) == ("1", "41.67")
    assert "Cloud region down" in {e["reason"] for e in acme["exclusions"]}
    # INC-3 named globex only.
    assert rows["globex"]["counted_downtime_seconds"] == str(9000 + 30 * 60)
