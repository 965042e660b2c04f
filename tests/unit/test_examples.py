"""Each seed SLA, as an example policy, states the numbers its seed states."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXAMPLES
from slakeeper.policy import models as pm
from slakeeper.policy.loader import load_policy_file

FIXED_IDS = {
    "oneai.yaml": (
        {"self-serve", "enterprise"},
        {"api", "model-catalog", "agent-ledger"},
        {"global"},
    ),
    "opsmantik.yaml": ({"enterprise"}, {"api-sync", "dashboard"}, {"global"}),
    "trulayer.yaml": (
        {"free", "pro", "team"},
        {"ingest-api", "dashboard", "eval-engine", "control-engine", "auth"},
        {"us-east", "eu-west"},
    ),
    "generic-saas.yaml": (
        {"developer", "launch", "business", "enterprise"},
        {"platform"},
        {"global"},
    ),
    "ai-agency.yaml": ({"standard", "priority", "critical"}, {"workflow"}, {"global"}),
}


def load(name: str) -> pm.Policy:
    return load_policy_file(EXAMPLES / name).policy


def target(policy: pm.Policy, severity: str, plan: str, clock: str) -> object:
    for entry in policy.support.targets:
        matches_plan = not entry.plans or plan in entry.plans
        if matches_plan and policy.severity(entry.severity).id == severity:
            value = getattr(entry, clock)
            if value is not None:
                return value, entry.calendar
    raise AssertionError(f"no {clock} target for {severity} on {plan}")


@pytest.mark.parametrize("name", sorted(FIXED_IDS))
def test_example_policy_uses_the_fixed_ids(name: str) -> None:
    policy = load(name)
    plans, components, regions = FIXED_IDS[name]
    assert {plan.id for plan in policy.plans} == plans
    assert {component.id for component in policy.components} == components
    assert {region.id for region in policy.regions} == regions


def test_every_example_policy_is_in_the_table() -> None:
    assert sorted(path.name for path in Path(EXAMPLES).glob("*.yaml")) == sorted(FIXED_IDS)


def test_trulayer_pro_is_99_9_on_ingest_and_dashboard_from_any_region() -> None:
    policy = load("trulayer.yaml")
    for plan_id in ("pro", "team"):
        plan = policy.plan(plan_id)
        assert plan.uptime.target == Decimal("99.9")
        assert plan.uptime.measured_on == ["ingest-api", "dashboard"]
        assert plan.uptime.component_rule is pm.ComponentRule.ANY_OF
        assert plan.uptime.region_rule is pm.RegionRule.ANY_REGION
        assert plan.uptime.down_rule.error_statuses == ["5xx"]
        assert plan.credits is not None
        schedule = plan.credits.schedule
        assert isinstance(schedule, pm.TimePerExcessSchedule)
        assert schedule.days_per_hour == 1
        assert schedule.cap_days == 30
        assert plan.credits.exclusive_remedy is True
        assert plan.credits.claim.window_days == 30
        assert plan.credits.claim.after is pm.ClaimAfter.PERIOD_END
        assert set(plan.exclusions.honoured) == {
            pm.ExclusionCategory.SCHEDULED_MAINTENANCE,
            pm.ExclusionCategory.FORCE_MAJEURE,
            pm.ExclusionCategory.CUSTOMER_CAUSED,
            pm.ExclusionCategory.BETA,
        }
    free = policy.plan("free")
    assert free.uptime.best_effort
    assert free.credits is not None
    assert free.credits.schedule.type == "none"


def test_trulayer_fail_modes_post_incident_reports_and_notice() -> None:
    policy = load("trulayer.yaml")
    modes = {component.id: component.fail_mode for component in policy.components}
    assert modes == {
        "ingest-api": pm.FailMode.FAIL_OPEN,
        "eval-engine": pm.FailMode.FAIL_OPEN,
        "control-engine": pm.FailMode.FAIL_CLOSED,
        "dashboard": pm.FailMode.FAIL_GRACEFUL,
        "auth": pm.FailMode.FAIL_CLOSED,
    }
    assert policy.component("auth").third_party == "Clerk"
    assert policy.maintenance.min_notice == timedelta(hours=48)
    rules = policy.post_incident_reports
    assert rules is not None
    assert rules.severities == ["sev-1", "sev-2"]
    assert rules.due_business_days == 5


def test_generic_saas_enterprise_credits_10_25_50_capped_at_50() -> None:
    policy = load("generic-saas.yaml")
    enterprise = policy.plan("enterprise")
    assert enterprise.credits is not None
    schedule = enterprise.credits.schedule
    assert isinstance(schedule, pm.TiersSchedule)
    bands = [(band.uptime_below, band.uptime_at_least, band.percent) for band in schedule.bands]
    assert bands == [
        (Decimal("99.99"), Decimal("99.9"), Decimal(10)),
        (Decimal("99.9"), Decimal("99.0"), Decimal(25)),
        (Decimal("99.0"), None, Decimal(50)),
    ]
    assert enterprise.credits.cap_percent == Decimal(50)
    assert enterprise.credits.fee_basis is not pm.FeeBasis.MONTHLY
    assert enterprise.credits.claim.after is pm.ClaimAfter.INCIDENT
    assert enterprise.credits.claim.window_days == 30
    for plan_id in ("developer", "launch", "business"):
        assert policy.plan(plan_id).uptime.best_effort


def test_generic_saas_calendars_and_support_table() -> None:
    policy = load("generic-saas.yaml")
    hours = {
        calendar.id: (calendar.timezone, calendar.always_open, calendar.schedule)
        for calendar in policy.calendars
    }
    assert set(hours) == {"business-hours", "extended-hours", "24x7"}
    business = policy.calendar("business-hours")
    assert business.timezone == "America/New_York"
    assert business.schedule[0].days == (0, 1, 2, 3, 4)
    assert business.schedule[0].hours == [(9 * 60, 18 * 60)]
    extended = policy.calendar("extended-hours")
    assert extended.schedule[0].hours == [(6 * 60, 22 * 60)]
    assert policy.calendar("24x7").always_open
    assert all(not c.holidays.dates and not c.holidays.countries for c in policy.calendars)
    assert target(policy, "urgent", "developer", "response") == ("best-effort", "business-hours")
    assert target(policy, "urgent", "launch", "response") == (timedelta(hours=4), "business-hours")
    assert target(policy, "urgent", "business", "response") == (
        timedelta(hours=1),
        "extended-hours",
    )
    assert target(policy, "urgent", "enterprise", "response") == (timedelta(hours=1), "24x7")
    assert target(policy, "normal", "business", "response") == (
        timedelta(hours=8),
        "extended-hours",
    )
    assert target(policy, "normal", "enterprise", "response") == (timedelta(hours=3), "24x7")
    launch_normal, _ = target(policy, "normal", "launch", "response")  # type: ignore[misc]
    assert launch_normal == pm.BusinessDays(business_days=1)


def test_opsmantik_support_credits_data_loss_and_slos() -> None:
    policy = load("opsmantik.yaml")
    assert target(policy, "p0", "enterprise", "response") == (timedelta(hours=2), "24x7")
    assert target(policy, "p0", "enterprise", "resolution") == (timedelta(hours=8), "24x7")
    assert target(policy, "p1", "enterprise", "response") == (timedelta(hours=4), "24x7")
    assert target(policy, "p1", "enterprise", "resolution") == (timedelta(hours=24), "24x7")
    assert target(policy, "p2", "enterprise", "response") == (timedelta(hours=24), "24x7")
    assert policy.severity("P0").id == "p0"
    assert policy.severity("critical").id == "p0"
    plan = policy.plan("enterprise")
    assert plan.uptime.target == Decimal("99.9")
    assert plan.credits is not None
    schedule = plan.credits.schedule
    assert isinstance(schedule, pm.TiersSchedule)
    assert [(b.uptime_below, b.percent) for b in schedule.bands] == [
        (Decimal("99.9"), Decimal(10)),
        (Decimal("99.0"), Decimal(25)),
    ]
    assert plan.credits.data_loss is not None
    assert plan.credits.data_loss.percent == 100
    assert plan.credits.data_loss.termination_right is True
    assert policy.maintenance.min_notice == timedelta(hours=48)
    slos = {slo.id: slo for slo in policy.slos}
    assert slos["api-availability"].objective == Decimal("99.5")
    assert slos["api-availability"].sli.error_statuses == ["5xx"]
    assert slos["api-availability"].sli.not_errors == ["4xx", "429"]
    assert slos["api-availability"].window.unit == "month"
    latency = slos["ingest-latency"]
    assert latency.sli.threshold == timedelta(milliseconds=500)
    assert latency.sli.percentile == 95
    assert latency.window.length == timedelta(minutes=5)
    assert slos["billable-capture"].objective == 100
    assert slos["billable-capture"].window.type == "all-time"
    assert slos["dashboard-freshness"].sli.threshold == timedelta(seconds=5)
    assert slos["dashboard-freshness"].objective == 99
    assert slos["billing-accuracy"].sli.tolerance_percent == 0


def test_oneai_critical_incidents_require_the_listed_fields() -> None:
    policy = load("oneai.yaml")
    critical = policy.severity("critical")
    assert critical.required_fields == [
        "requestId",
        "endpoint",
        "provider",
        "model",
        "timestamp",
        "business_impact",
    ]
    assert [s.id for s in policy.severities] == ["critical", "high", "normal"]
    assert policy.plan("self-serve").uptime.best_effort
    assert {c.category for c in policy.exclusions} == {
        pm.ExclusionCategory.THIRD_PARTY,
        pm.ExclusionCategory.CUSTOMER_CAUSED,
    }
    assert len(policy.customer_responsibilities) == 5


def test_ai_agency_separates_support_from_enhancements() -> None:
    policy = load("ai-agency.yaml")
    assert [s.id for s in policy.severities] == ["critical", "high", "medium", "low"]
    assert all(s.description for s in policy.severities)
    types = policy.support.request_types
    assert "minor-tuning" in types.covered
    assert {"net-new-feature", "unrelated-system", "major-redesign", "training"} <= set(
        types.enhancement
    )
    assert policy.support.change_order is not None
    assert policy.support.pause_when == ["waiting-on-customer"]
    assert policy.support.warning_at_percent == 75
    assert policy.maintenance.approval_required
    assert policy.maintenance.preferred_windows == ["maintenance-window"]
    assert len(policy.customer_responsibilities) == 5
    assert policy.review is not None
    assert policy.review.cadence is pm.Cadence.QUARTERLY
    assert policy.reporting.proactive_outreach
