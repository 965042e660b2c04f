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
