"""The dashboard's overview (``/``): the period so far for the signed-in operator's organisation.

SLOs with their budgets and burn rates, customers at risk of a credit, open incidents and
support requests with their clocks, upcoming maintenance, alerts firing and each component's
state: all read in one unit of work, so the page is one consistent picture.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slakeeper.services import incidents, sla_report, slos, tickets
from slakeeper.services.errors import ServiceError
from slakeeper.services.evaluate import as_json
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Customer, Operator, Principal
from slakeeper.web.formatting import STATUS_LABELS, instant
from slakeeper.web.page_parts import (
    component_names,
    current_period,
    describe,
    firing_alerts,
    incident_row,
    maintenance_row,
    principal,
    sla_row,
    slo_card,
    sort_tickets,
    ticket_open,
    ticket_row,
)

log = logging.getLogger("slakeeper.web")


def _at_risk(
    uow: UnitOfWork, who: Principal, period: str, now: datetime, customers: dict[str, Customer]
) -> tuple[list[dict[str, Any]], str | None]:
    """The customers at risk for the period so far, the largest projected credit first; or
    why their SLA cannot be computed."""
    try:
        report = sla_report.sla_report(uow, who, period, now)
    except (ServiceError, KeyError) as exc:  # e.g. a customer on a plan since removed
        log.warning("dashboard: the SLA so far cannot be computed", exc_info=True)
        return [], f"The customers' SLA cannot be computed: {describe(exc)}"
    documents: list[dict[str, Any]] = as_json(report.evaluation)["customers"]  # type: ignore[assignment]
    rows = [sla_row(d, customers.get(str(d["id"]))) for d in documents]
    at_risk = [row for row in rows if row["at_risk"]]
    return sorted(at_risk, key=lambda r: (-r["credit_value"], r["id"])), None


def overview(uow: UnitOfWork, operator: Operator, now: datetime) -> dict[str, Any]:
    who = principal(operator)
    org_id = operator.org_id
    results, policy = slos.live(uow, org_id, now)
    period = current_period(policy, now)
    names = component_names(policy)
    customers = {c.id: c for c in uow.customers.list(org_id, None, 100_000)}
    at_risk: list[dict[str, Any]] = []
    sla_error: str | None = None
    open_incidents: list[dict[str, Any]] = []
    open_tickets: list[dict[str, Any]] = []
    components: list[dict[str, Any]] = []
    if policy is not None:
        if customers:
            at_risk, sla_error = _at_risk(uow, who, period.label, now, customers)
        open_incidents = [
            incident_row(view, names)
            for view in incidents.listing(uow, who, now)
            if view.status in incidents.WORKING
        ]
        open_tickets = sort_tickets([
            ticket_row(view, customers)
            for view in tickets.all_views(uow, org_id, now)
            if ticket_open(view)
        ])  # fmt: skip
        statuses = incidents.component_statuses(uow, org_id, now, policy)
        components = [
            {"id": c.id, "name": c.name, "group": c.group or "",
             "state": statuses.get(c.id, "operational"),
             "label": STATUS_LABELS.get(statuses.get(c.id, "operational"), "")}
            for c in policy.components
        ]  # fmt: skip
    windows = sorted(uow.maintenance.list(org_id), key=lambda w: (w.starts_at, w.id))
    upcoming = [maintenance_row(w, names, now) for w in windows if w.completed_at is None]
    return {
        "title": "Overview",
        "has_policy": policy is not None,
        "policy_name": policy.metadata.title if policy is not None else None,
        "period": {
            "label": period.label,
            "start": instant(period.start),
            "now": instant(now),
            "timezone": period.timezone,
        },
        "slos": [slo_card(result) for result in results],
        "customers_total": len(customers),
        "at_risk": at_risk,
        "sla_error": sla_error,
        "incidents": open_incidents,
        "tickets": open_tickets,
        "tickets_at_risk": sum(1 for t in open_tickets if t["at_risk"] or t["breached"]),
        "maintenance": upcoming,
        "alerts": firing_alerts(results),
        "components": components,
    }
