"""Pieces the dashboard's pages share: the operator's principal, the period so far, and the rows
of SLOs, customers' SLA, incidents, support requests and maintenance windows.

Everything is read through the services (never an adapter); the rows are plain dicts of text
for the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from slakeeper.domain.periods import Period, parse_period
from slakeeper.policy.models import Policy
from slakeeper.services.errors import ServiceError
from slakeeper.services.incidents import WORKING, IncidentView
from slakeeper.services.records import Customer, MaintenanceWindow, Operator, Principal, Scope
from slakeeper.services.slos import LiveSlo
from slakeeper.services.status_page import maintenance_state
from slakeeper.services.tickets import CLOSED, TicketView
from slakeeper.web.formatting import (
    STATUS_LABELS,
    clock,
    decimal,
    duration,
    instant,
    money,
    number,
    percent,
    rate,
)

#: A customer is at risk when less than this share of its allowed downtime is left.
AT_RISK_REMAINING = Decimal("0.25")
ALERT_ORDER = ("ok", "resolved", "warning", "firing")


def principal(operator: Operator, customer_id: str | None = None) -> Principal:
    """The signed-in operator acting on its organisation: read only (and, for a customer's
    page, narrowed to that customer, so the services filter as they do for its own key)."""
    return Principal(
        org_id=operator.org_id,
        actor=f"operator:{operator.id}",
        scopes=frozenset({Scope.READ}),
        customer_id=customer_id,
    )


def current_period(policy: Policy | None, now: datetime) -> Period:
    """The month holding ``now`` in the policy's time zone (UTC without a policy)."""
    zone = policy.metadata.timezone if policy is not None else "UTC"
    local = now.astimezone(ZoneInfo(zone))
    return parse_period(f"{local.year:04d}-{local.month:02d}", zone)


def describe(exc: Exception) -> str:
    """A service error's message, or what a missing key was (a plan a customer is on that the
    active policy no longer has)."""
    if isinstance(exc, ServiceError):
        return exc.message
    if isinstance(exc, KeyError):
        return f"the active policy has no {exc.args[0]!r} (a customer's plan?)"
    return type(exc).__name__


def component_names(policy: Policy | None) -> dict[str, str]:
    return {} if policy is None else {c.id: c.name for c in policy.components}


# --------------------------------------------------------------------------- SLOs
def _meter(remaining: Fraction | None) -> str:
    if remaining is None:
        return "0"
    return decimal(min(max(remaining * 100, Fraction(0)), Fraction(100)), 1)


def slo_card(result: LiveSlo) -> dict[str, Any]:
    """An SLO with its budget and the burn rates of its alert windows."""
    status = result.status
    slo = result.slo
    records = {r.rule_index: r for r in result.alerts}
    alerts = []
    for index, burn in enumerate(status.burn_rates):
        record = records.get(index)
        alerts.append({
            "name": burn.rule.name,
            "threshold": rate(burn.rule.burn_rate),
            "long_window": duration(burn.rule.long_window),
            "short_window": duration(burn.rule.short_window),
            "long_rate": rate(burn.long_rate),
            "short_rate": rate(burn.short_rate),
            "condition": burn.long_above and burn.short_above,
            "state": record.state if record is not None else "ok",
            "since": instant(record.since) if record is not None else None,
        })  # fmt: skip
    remaining = status.budget_remaining
    if status.exhausted:
        budget_state = "exhausted"
    elif remaining is not None and remaining < Fraction(1, 4):
        budget_state = "low"
    else:
        budget_state = "ok"
    worst = max((a["state"] for a in alerts), key=ALERT_ORDER.index, default="ok")
    return {
        "id": slo.id,
        "name": slo.name,
        "kind": slo.sli.kind.value,
        "component": slo.sli.component,
        "objective": f"{number(slo.objective)} %",
        "method": slo.method.value,
        "window": slo.window.type,
        "sli": percent(status.sli, 3),
        "good": status.good,
        "bad": status.bad,
        "total": status.total,
        "budget_remaining": percent(remaining, 1),
        "budget_meter": _meter(remaining),
        "budget_state": budget_state,
        "exhausted": status.exhausted,
        "time_to_exhaustion": duration(status.time_to_exhaustion),
        "alerts": alerts,
        "alert_state": worst,
    }


def firing_alerts(results: list[LiveSlo]) -> list[dict[str, Any]]:
    rows = []
    for result in results:
        for record in result.alerts:
            if record.state != "firing":
                continue
            burns = result.status.burn_rates
            burn = burns[record.rule_index] if record.rule_index < len(burns) else None
            rows.append({
                "slo_id": result.slo.id, "slo_name": result.slo.name, "name": record.name,
                "since": instant(record.since),
                "long_rate": rate(burn.long_rate) if burn else "–",
                "short_rate": rate(burn.short_rate) if burn else "–",
                "threshold": rate(burn.rule.burn_rate) if burn else "–",
            })  # fmt: skip
    return rows


# --------------------------------------------------------------------------- the SLA so far
def sla_row(document: Mapping[str, Any], customer: Customer | None) -> dict[str, Any]:
    """A customer's SLA for the period so far (one entry of ``evaluate.as_json``), with why it
    is at risk: a credit projected, uptime under target, or under a quarter of the allowed
    downtime left."""
    credit = document["credit"]
    amount = Decimal(credit["amount"])
    counted = Decimal(document["counted_downtime_seconds"])
    allowed = document["allowed_downtime_seconds"]
    remaining: Decimal | None = None
    reasons = []
    if amount > 0:
        reasons.append("credit projected")
    target = document["target_percent"]
    if target is not None and Decimal(document["uptime_percent"]) < Decimal(target):
        reasons.append("uptime below target")
    if allowed is not None:
        allowed_seconds = Decimal(allowed)
        remaining = allowed_seconds - counted
        if allowed_seconds > 0 and remaining < AT_RISK_REMAINING * allowed_seconds:
            reasons.append("under 25 % of allowed downtime left")
    return {
        "id": document["id"],
        "name": customer.name if customer is not None else document["id"],
        "plan": document["plan"],
        "uptime": f"{document['uptime_percent']} %",
        "target": "–" if target is None else f"{target} %",
        "met": document["met"],
        "downtime": duration(document["downtime_seconds"]),
        "excluded": duration(document["excluded_seconds"]),
        "counted": duration(counted),
        "allowed": "–" if allowed is None else duration(allowed),
        "remaining": "–" if remaining is None else duration(max(remaining, Decimal(0))),
        "credit_amount": money(amount, credit["currency"]),
        "credit_value": amount,
        "credit_percent": f"{decimal(credit['percent'], 2)} %",
        "credit_reason": credit["reason"] or "",
        "claim_deadline": document["claim_deadline"],
        "reasons": reasons,
        "at_risk": bool(reasons),
    }


# --------------------------------------------------------------------------- incidents
def incident_row(view: IncidentView, names: Mapping[str, str]) -> dict[str, Any]:
    latest: dict[str, str] = {}
    for update in view.updates:
        latest.update(update.components)
    resolution = view.clocks.resolution[-1] if view.clocks.resolution else None
    return {
        "id": view.incident.id,
        "title": view.incident.title,
        "severity": view.incident.severity,
        "status": view.status,
        "open": view.status in WORKING,
        "started": instant(view.incident.started_at),
        "resolved": instant(view.resolved_at),
        "response": clock(view.clocks.response),
        "resolution": clock(resolution),
        "customers": list(view.incident.customers),
        "components": [
            {"id": c, "name": names.get(c, c), "impact": STATUS_LABELS.get(i, i), "state": i}
            for c, i in latest.items()
        ],
    }


def touches(view: IncidentView, component_id: str) -> bool:
    return any(component_id in update.components for update in view.updates)


# --------------------------------------------------------------------------- support requests
def ticket_open(view: TicketView) -> bool:
    return view.clocks.status != CLOSED


def ticket_row(view: TicketView, customers: Mapping[str, Customer]) -> dict[str, Any]:
    resolution = view.clocks.resolution[-1] if view.clocks.resolution else None
    response = view.clocks.response
    running = [c for c in (response, resolution) if c is not None and not c.stopped]
    customer = customers.get(view.ticket.customer_id)
    return {
        "id": view.ticket.id,
        "subject": view.ticket.subject,
        "customer_id": view.ticket.customer_id,
        "customer_name": customer.name if customer is not None else view.ticket.customer_id,
        "severity": view.clocks.severity,
        "status": view.clocks.status,
        "response": clock(response),
        "resolution": clock(resolution),
        "at_risk": any(c.at_risk for c in running),
        "breached": any(c.state.value == "breached" for c in (response, resolution) if c),
        "next_due": min((c.due_at for c in running if c.due_at is not None), default=None),
    }


def sort_tickets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Breached first, then at risk, then by the next due instant."""
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(
        rows, key=lambda r: (not r["breached"], not r["at_risk"], r["next_due"] or far, r["id"])
    )


# --------------------------------------------------------------------------- maintenance
def maintenance_row(
    window: MaintenanceWindow, names: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    return {
        "id": window.id,
        "title": window.title,
        "state": maintenance_state(window, now),
        "starts": instant(window.starts_at),
        "ends": instant(window.ends_at),
        "completed": instant(window.completed_at),
        "components": [{"id": c, "name": names.get(c, c)} for c in window.components],
    }
