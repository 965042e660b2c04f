"""The customer's SLA report for a period, as one JSON document (rendered to HTML and PDF by
``services.report_render``): every number comes from the evaluation ``slakeeper evaluate``
makes, the policy version it used, and the server's incidents, requests and SLOs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from slakeeper.domain.intervals import Interval, IntervalSet, seconds
from slakeeper.domain.slo import evaluate as evaluate_slo
from slakeeper.policy.loader import LoadedPolicy
from slakeeper.services.evaluate import (
    CustomerEvaluation,
    Evaluation,
    as_json,
    decimal_seconds,
)
from slakeeper.services.incidents import IncidentView, incident_json
from slakeeper.services.measured import ComponentMeasurement
from slakeeper.services.records import Customer, Organisation, PolicyVersion, iso
from slakeeper.services.slos import LiveSlo, fraction_text
from slakeeper.services.tickets import TicketView, ticket_json

KIND = "slakeeper/sla-report"


@dataclass(frozen=True)
class ReportContext:
    """What every customer's report of one close shares."""

    organisation: Organisation
    version: PolicyVersion
    loaded: LoadedPolicy
    period_label: str
    revision: int
    generated_at: datetime
    status: str  # "closed" or "open" (the period so far)
    slos: Sequence[LiveSlo]
    burn_down: dict[str, list[dict[str, str | None]]]


def _percent(value: Fraction | None, places: int = 3) -> str | None:
    return None if value is None else fraction_text(value * 100, places)


def daily(result: CustomerEvaluation, timezone: str) -> list[dict[str, str | None]]:
    """Uptime per local day of the period (counted downtime against the day's measured time)."""
    zone = ZoneInfo(timezone)
    start = result.period.start.astimezone(zone).date()
    end = result.period.end.astimezone(zone).date()
    counted = result.uptime.counted_intervals
    excluded = result.uptime.excluded_intervals
    measured = IntervalSet.single(result.period.start, result.period.end)
    if result.measured.start is not None and result.measured.end is not None:
        measured = IntervalSet.single(result.measured.start, result.measured.end)
    days = []
    day = start
    while day < end or (day == start and start == end):
        lo = datetime(day.year, day.month, day.day, tzinfo=zone)
        following = day + timedelta(days=1)
        hi = datetime(following.year, following.month, following.day, tzinfo=zone)
        span = measured & IntervalSet([Interval(lo, hi)]) if hi > lo else IntervalSet()
        total = seconds(span.total())
        down = seconds((counted & span).total())
        out = seconds((excluded & span).total())
        days.append(
            {
                "date": day.isoformat(),
                "uptime_percent": _percent(1 - down / total) if total else "100",
                "downtime_seconds": decimal_seconds(down),
                "excluded_seconds": decimal_seconds(out),
            }
        )
        day = following
    return days


def _clock(clock: dict[str, Any]) -> dict[str, Any]:
    return {
        "target_seconds": clock.get("target_seconds"),
        "elapsed_seconds": clock.get("elapsed_seconds"),
        "state": clock.get("state"),
    }


def _credit_lines(result: CustomerEvaluation) -> list[str]:
    plan = result.plan
    credit = result.credit
    terms = plan.credits
    lines = [credit.reason[:1].upper() + credit.reason[1:] + "."] if credit.reason else []
    fee = result.customer.monthly_fee or result.customer.annual_fee
    if fee is not None:
        basis = "monthly" if result.customer.monthly_fee is not None else "annual"
        lines.append(
            f"Fee basis: {basis} fee {fee} {result.currency}; "
            f"credit {credit.percent} % = {credit.amount} {result.currency}."
        )
    if terms is not None and terms.cap_percent is not None:
        reached = "reached" if credit.capped else "not reached"
        lines.append(f"Cap {terms.cap_percent} % of the fee: {reached}.")
    if terms is not None and terms.minimum_amount is not None:
        lines.append(
            f"Minimum credit {terms.minimum_amount} {result.currency}: "
            + ("below it, so nothing is owed." if credit.amount == 0 and credit.percent else "met.")
        )
    return lines


def build(
    context: ReportContext,
    customer: Customer,
    result: CustomerEvaluation,
    measurements: Sequence[ComponentMeasurement],
    incidents: Sequence[IncidentView],
    tickets: Sequence[TicketView],
    credit_state: str,
) -> dict[str, Any]:
    policy = context.loaded.policy
    evaluated = as_json_single(result)
    timezone = customer.timezone or policy.metadata.timezone
    measured_seconds = seconds(result.uptime.measured)
    components = []
    for m in measurements:
        down = seconds(m.down.clip(result.period.start, result.period.end).total())
        components.append(
            {
                "id": m.component,
                "name": policy.component(m.component).name,
                "measured": m.measured,
                "downtime_seconds": decimal_seconds(down),
                "no_data_seconds": decimal_seconds(
                    seconds(m.no_data.clip(result.period.start, result.period.end).total())
                ),
                "uptime_percent": _percent(1 - down / measured_seconds)
                if measured_seconds
                else None,
            }
        )
    plan = result.plan
    claim = plan.credits.claim if plan.credits is not None else None
    period_end = result.period.end
    return {
        "kind": KIND,
        "version": 1,
        "provider": policy.metadata.provider,
        "agreement": policy.metadata.title,
        "organisation": {"slug": context.organisation.slug, "name": context.organisation.name},
        "period": {
            "label": context.period_label,
            "start": iso(result.period.start),
            "end": iso(period_end),
            "timezone": timezone,
        },
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "plan": {"id": plan.id, "name": plan.name},
        },
        "policy": {
            "name": policy.metadata.name,
            "version": context.version.version,
            "sha256": context.version.sha256,
        },
        "revision": context.revision,
        "generated_at": iso(context.generated_at),
        "status": context.status,
        "uptime": {
            "percent": format(result.uptime.percent(plan.uptime.decimals), "f"),
            "percent_exact": evaluated["uptime_percent"],
            "target_percent": evaluated["target_percent"],
            "met": evaluated["met"],
            "decimals": result.decimals,
            "measured_seconds": evaluated["measured_seconds"],
            "downtime_seconds": evaluated["downtime_seconds"],
            "excluded_seconds": evaluated["excluded_seconds"],
            "counted_downtime_seconds": evaluated["counted_downtime_seconds"],
            "allowed_downtime_seconds": evaluated["allowed_downtime_seconds"],
            "components": components,
            "daily": daily(result, timezone),
        },
        "exclusions": evaluated["exclusions"],
        "ignored_exclusions": evaluated["ignored_exclusions"],
        "slos": [
            {
                "id": s.slo.id,
                "name": s.slo.name,
                "objective_percent": format(s.slo.objective, "f"),
                "sli_percent": _percent(s.status.sli),
                "budget_remaining_percent": _percent(s.status.budget_remaining),
                "exhausted": s.status.exhausted,
                "burn_down": context.burn_down.get(s.slo.id, []),
            }
            for s in context.slos
        ],
        "incidents": [_incident(incident_json(v)) for v in incidents],
        "support": [_ticket(ticket_json(v)) for v in tickets],
        "credit": {
            **evaluated["credit"],
            "explanation": _credit_lines(result),
            "state": credit_state,
            "termination_right": evaluated["termination_right"],
        },
        "claim": {
            "required": claim.required if claim is not None else False,
            "window_days": claim.window_days if claim is not None else None,
            "deadline": evaluated["claim_deadline"],
            "how": claim.how if claim is not None else None,
        },
        "responsibilities": list(policy.customer_responsibilities),
        "scope": {
            "covered": list(policy.scope.covered),
            "not_covered": list(policy.scope.not_covered),
        },
        "overrides": evaluated["overrides"],
    }


def as_json_single(result: CustomerEvaluation) -> dict[str, Any]:
    document = as_json(Evaluation("", "", "", (result,)))
    customers = document["customers"]
    assert isinstance(customers, list)
    found: dict[str, Any] = customers[0]
    return found


def _last(clocks: Any) -> dict[str, Any]:
    if isinstance(clocks, list):
        return dict(clocks[-1]) if clocks else {}
    return dict(clocks)


def _incident(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": document["id"],
        "title": document["title"],
        "severity": document["severity"],
        "started_at": document["started_at"],
        "resolved_at": document["resolved_at"],
        "response": _clock(document["response"]),
        "resolution": _clock(_last(document["resolution"])),
    }


def _ticket(document: dict[str, Any]) -> dict[str, Any]:
    resolution = _last(document["resolution"])
    return {
        "id": document["id"],
        "subject": document["subject"],
        "severity": document["severity"],
        "opened_at": document["response"].get("started_at"),
        "resolved_at": resolution.get("stopped_at"),
        "response": _clock(document["response"]),
        "resolution": _clock(resolution),
    }


def burn_down(
    live: LiveSlo, days: Sequence[datetime], points: Sequence[Any]
) -> list[dict[str, str | None]]:
    """The SLO's remaining budget at the end of each day (evaluated as of that instant)."""
    out = []
    for end in days:
        status = evaluate_slo(live.spec, points, end)
        out.append(
            {
                "date": (end - timedelta(seconds=1)).date().isoformat(),
                "remaining_percent": _percent(status.budget_remaining),
            }
        )
    return out
