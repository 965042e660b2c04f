"""The dashboard's drill-down pages: a customer, a component, an SLO.

Each builder returns the page's model, or None when the id names nothing in the operator's
organisation (the page answers 404 then; another organisation's ids are nothing here).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slakeeper.domain.intervals import seconds
from slakeeper.services import incidents, policy_versions, sla_report, slos, tickets
from slakeeper.services.errors import NotFound, ServiceError
from slakeeper.services.measured import measure_plan
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Customer, Operator, Principal
from slakeeper.services.status_page import Span, days_bars, impact_spans, maintenance_span
from slakeeper.web.charts import day_strip, hourly_chart
from slakeeper.web.formatting import STATUS_LABELS, duration, instant, money, number, percent
from slakeeper.web.page_parts import (
    component_names,
    current_period,
    describe,
    incident_row,
    maintenance_row,
    principal,
    sla_row,
    slo_card,
    sort_tickets,
    ticket_open,
    ticket_row,
    touches,
)

log = logging.getLogger("slakeeper.web")
HOUR = timedelta(hours=1)
MAX_TICKETS = 500


def _sla_so_far(
    uow: UnitOfWork, who: Principal, customer: Customer, period: str, now: datetime,
    names: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    """The customer's SLA for the period so far, what was measured per component and the
    exclusions applied; an error text instead when it cannot be computed."""
    try:
        document = sla_report.customer_sla(uow, who, customer.id, period, now)
    except (ServiceError, KeyError) as exc:  # e.g. a plan the active policy no longer has
        log.warning("dashboard: the SLA of %s cannot be computed", customer.id, exc_info=True)
        return {"sla": None, "sla_error": f"The SLA cannot be computed: {describe(exc)}",
                "measurement": [], "exclusions": []}  # fmt: skip
    entries: list[dict[str, Any]] = document["customers"]  # type: ignore[assignment]
    measured: dict[str, dict[str, Any]] = document["measurement"]  # type: ignore[assignment]
    measurement = [
        {"id": component, "name": names.get(component, component),
         "measured": row["measured"], "down": duration(row["down_seconds"]),
         "no_data": duration(row["no_data_seconds"])}
        for component, row in measured.items()
    ]  # fmt: skip
    exclusions = [
        {"category": e["category"], "start": e["start"], "end": e["end"], "reason": e["reason"]}
        for e in entries[0]["exclusions"]
    ]
    return {
        "sla": sla_row(entries[0], customer),
        "sla_error": None,
        "measurement": measurement,
        "exclusions": exclusions,
    }


def customer_page(
    uow: UnitOfWork, operator: Operator, customer_id: str, now: datetime
) -> dict[str, Any] | None:
    customer = uow.customers.get(operator.org_id, customer_id)
    if customer is None:
        return None
    found = policy_versions.active(uow, operator.org_id)
    policy = found[1].policy if found is not None else None
    period = current_period(policy, now)
    names = component_names(policy)
    mine = principal(operator, customer_id)
    sla: dict[str, Any] = {"sla": None, "sla_error": None, "measurement": [], "exclusions": []}
    open_tickets: list[dict[str, Any]] = []
    customer_incidents: list[dict[str, Any]] = []
    if policy is not None:
        sla = _sla_so_far(uow, mine, customer, period.label, now, names)
        listed = tickets.listing(uow, mine, None, MAX_TICKETS, now).items
        customers = {customer.id: customer}
        open_tickets = sort_tickets([ticket_row(v, customers) for v in listed if ticket_open(v)])
        customer_incidents = [
            incident_row(view, names)
            for view in incidents.listing(uow, mine, now)
            if view.status in incidents.WORKING or view.incident.started_at >= period.start
        ]
    credits = [
        {"id": c.id, "period": c.period, "amount": money(c.amount, c.currency),
         "percent": f"{number(c.percent, 2)} %", "state": c.state,
         "claim_required": c.claim_required, "claim_deadline": instant(c.claim_deadline)}
        for c in uow.closes.credits(operator.org_id, customer_id=customer_id)
    ]  # fmt: skip
    return {
        "title": customer.name,
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "plan": customer.plan,
            "fee": "–"
            if customer.monthly_fee is None
            else money(customer.monthly_fee, customer.currency) + " a month",
            "timezone": customer.timezone,
            "contract_start": instant(customer.contract_start),
            "contract_end": instant(customer.contract_end),
        },
        "has_policy": policy is not None,
        "period": {"label": period.label, "start": instant(period.start), "now": instant(now)},
        **sla,
        "credits": credits,
        "tickets": open_tickets,
        "incidents": customer_incidents,
    }


def component_page(
    uow: UnitOfWork, operator: Operator, component_id: str, now: datetime
) -> dict[str, Any] | None:
    found = policy_versions.active(uow, operator.org_id)
    if found is None:
        return None
    policy = found[1].policy
    component = next((c for c in policy.components if c.id == component_id), None)
    if component is None:
        return None
    period = current_period(policy, now)
    names = component_names(policy)
    state = incidents.component_statuses(uow, operator.org_id, now, policy).get(
        component_id, "operational"
    )
    views = [
        v for v in incidents.listing(uow, principal(operator), now) if touches(v, component_id)
    ]
    spans: list[Span] = [
        span
        for view in views
        for span in impact_spans(view.incident.id, view.incident.title, view.updates, now)
        if span.component == component_id
    ]
    windows = [w for w in uow.maintenance.list(operator.org_id) if component_id in w.components]
    for window in windows:
        held = maintenance_span(window, now)
        if held:
            spans.append(Span(component_id, "under-maintenance", held, f"mw:{window.id}",
                              window.title))  # fmt: skip
    plan = next((p for p in policy.plans if component_id in p.uptime.measured_on), None)
    if plan is not None and now > period.start and not component.beta:
        requests = uow.measurements.requests(operator.org_id, period.start, now, component_id)
        probes = uow.measurements.probes(operator.org_id, period.start, now)
        for row in measure_plan(policy, plan, period.start, now, requests, probes):
            if row.component == component_id and row.down:
                spans.append(Span(component_id, "major-outage", row.down, "measured",
                                  "measured downtime"))  # fmt: skip
    first_day = period.start.astimezone(UTC).date()
    days = (now.astimezone(UTC).date() - first_day).days + 1
    bars, uptime = days_bars(spans, period.start, now, days)
    return {
        "title": component.name,
        "component": {
            "id": component.id,
            "name": component.name,
            "group": component.group or "",
            "description": component.description or "",
            "fail_mode": component.fail_mode.value if component.fail_mode else "",
            "third_party": component.third_party or "",
            "beta": component.beta,
            "state": state,
            "label": STATUS_LABELS.get(state, state),
        },
        "period": {"label": period.label, "start": instant(period.start), "now": instant(now)},
        "measured_by": plan.id if plan is not None else None,
        "uptime": f"{uptime.percent(3)} %",
        "strip": day_strip(component.name, bars),
        "open_incidents": [incident_row(v, names) for v in views if v.status in incidents.WORKING],
        "past_incidents": [
            incident_row(v, names)
            for v in views
            if v.status not in incidents.WORKING and v.incident.started_at >= period.start
        ],
        "maintenance": [
            maintenance_row(w, names, now)
            for w in sorted(windows, key=lambda w: (w.starts_at, w.id))
            if w.completed_at is None or w.ends_at >= period.start
        ],
    }


def slo_page(
    uow: UnitOfWork, operator: Operator, slo_id: str, now: datetime
) -> dict[str, Any] | None:
    try:
        results, _ = slos.live(uow, operator.org_id, now, only=slo_id)
    except NotFound:
        return None
    (result,) = results
    status = result.status
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start, end = hour - 23 * HOUR, hour + HOUR
    series = slos.series(uow, operator.org_id, slo_id, start, end, HOUR)
    points: list[dict[str, Any]] = series["points"]  # type: ignore[assignment]
    latency = None
    if result.slo.sli.kind.value == "latency":
        threshold = result.slo.sli.threshold
        latency = {
            "percentile": f"p{number(result.slo.sli.percentile or 95)}",
            "threshold": "–" if threshold is None else f"{number(seconds(threshold) * 1000)} ms",
            "value": "–" if result.percentile_ms is None else f"{result.percentile_ms:.1f} ms",
        }  # fmt: skip
    return {
        "title": result.slo.name,
        "slo": slo_card(result),
        "window_start": instant(status.window_start),
        "window_end": instant(status.window_end),
        "budget_total": number(status.budget_total),
        "budget_consumed": number(status.budget_consumed),
        "unit": "slices" if result.slo.method.value == "timeslices" else "events",
        "sli_percent": percent(status.sli, 3),
        "latency": latency,
        "definition": result.slo.sli.definition or "",
        "chart": hourly_chart(points),
        "chart_from": instant(start),
        "chart_to": instant(end),
    }
