"""Incidents and maintenance windows: the record the SLA is judged by.

An incident has a severity from the policy's ladder (aliases accepted) and the fields the policy
requires for it, affected components with an impact each, the customers affected (none listed:
all), and a timeline of updates. Its response clock stops at the first update after the
declaration and its resolution clock at the first ``resolved`` update (an update that moves a
resolved incident back to work reopens it), both replayed with the support-clock engine against
the policy's targets for the severity (and the customer's plan when exactly one is named). A
post-incident report is due ``due_business_days`` after resolution for the severities the policy
lists. A maintenance window says at once whether its announcement meets the policy's notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slakeeper.domain import calendars as dc
from slakeeper.domain.exclusions import ExclusionCategory
from slakeeper.domain.support import EventKind, TicketClocks, TicketEvent
from slakeeper.domain.support_clock import business_days_target
from slakeeper.policy.errors import did_you_mean, one_of
from slakeeper.policy.models import Policy
from slakeeper.services import audit, policy_versions, subscriptions
from slakeeper.services.clock import policy_calendar
from slakeeper.services.errors import ConflictError, Invalid, NotFound
from slakeeper.services.ports import Conflict, UnitOfWork
from slakeeper.services.records import (
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Principal,
    iso,
)
from slakeeper.services.support_clocks import SupportClocks, support_clocks
from slakeeper.services.tickets import clock_json

STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
WORKING = ("investigating", "identified", "monitoring")
#: Component states, best first; a component shows the worst of what applies to it.
_SECOND = timedelta(seconds=1)
IMPACTS = (
    "operational",
    "under-maintenance",
    "degraded-performance",
    "partial-outage",
    "major-outage",
)


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    updates: tuple[IncidentUpdate, ...]
    status: str
    resolved_at: datetime | None
    clocks: TicketClocks
    postmortem_due_at: datetime | None
    postmortem_state: str  # not-required, pending, overdue, attached, attached-late


def _policy(uow: UnitOfWork, org_id: str) -> Policy:
    return policy_versions.active_policy(uow, org_id)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": field, "message": message}])


def _check_components(policy: Policy, components: dict[str, str], field: str) -> None:
    known = [component.id for component in policy.components]
    errors: list[dict[str, object]] = []
    for component, impact in components.items():
        if component not in known:
            errors.append({"field": f"{field}.{component}", "message": f"unknown component "
                           f"'{component}'{did_you_mean(component, known)} "
                           f"(defined: {one_of(known)})"})  # fmt: skip
        if impact not in IMPACTS:
            message = f"'{impact}' is not an impact: use {one_of(IMPACTS)}"
            errors.append({"field": f"{field}.{component}", "message": message})
    if errors:
        raise Invalid("the components are not valid", errors)


def declare(
    uow: UnitOfWork,
    principal: Principal,
    *,
    incident_id: str,
    title: str,
    severity: str,
    components: dict[str, str],
    customers: list[str],
    fields: dict[str, str],
    started_at: datetime,
    message: str,
    notify: bool,
    now: datetime,
) -> IncidentView:
    policy = _policy(uow, principal.org_id)
    try:
        ladder = policy.severity(severity)
    except KeyError:
        known = [s.id for s in policy.severities]
        raise _invalid(
            "severity",
            f"unknown severity '{severity}'{did_you_mean(severity, known)} "
            f"(the policy has {one_of(known)})",
        ) from None
    missing = [name for name in ladder.required_fields if not fields.get(name, "").strip()]
    if missing:
        raise Invalid(
            f"a {ladder.name} incident must carry {', '.join(ladder.required_fields)}",
            [{"field": f"fields.{name}", "message": "required for this severity"}
             for name in missing],
        )  # fmt: skip
    _check_components(policy, components, "components")
    for customer in customers:
        if uow.customers.get(principal.org_id, customer) is None:
            raise _invalid("customers", f"customer '{customer}' does not exist")
    if started_at > now:
        raise _invalid("started_at", "an incident cannot start in the future")
    incident = Incident(
        org_id=principal.org_id, id=incident_id, title=title, severity=ladder.id,
        customers=tuple(customers), fields=fields, started_at=started_at, postmortem=None,
        postmortem_at=None, created_at=now,
    )  # fmt: skip
    try:
        uow.incidents.add(incident)
    except Conflict:
        raise ConflictError(f"incident '{incident_id}' exists already") from None
    uow.incidents.add_update(
        IncidentUpdate(
            org_id=principal.org_id,
            incident_id=incident_id,
            seq=1,
            at=started_at,
            status="investigating",
            message=message,
            components=components,
            notify=notify,
            actor=principal.actor,
        )
    )
    audit.record(
        uow, principal, "incident.declared", "incident", incident_id, None,
        {"title": title, "severity": ladder.id, "components": components,
         "customers": customers, "started_at": iso(started_at)}, now,
    )  # fmt: skip
    declared = view(uow, principal, incident_id, now)
    if notify:
        subscriptions.notify_incident(
            uow, org_id=principal.org_id, incident=incident_json(declared),
            components=list(components), now=now,
        )  # fmt: skip
    return declared


def add_update(
    uow: UnitOfWork,
    principal: Principal,
    incident_id: str,
    *,
    status: str,
    message: str,
    components: dict[str, str],
    notify: bool,
    at: datetime,
    now: datetime,
) -> IncidentView:
    incident = get(uow, principal, incident_id)
    if status not in STATUSES:
        raise _invalid("status", f"'{status}' is not a status: use {one_of(STATUSES)}")
    _check_components(_policy(uow, principal.org_id), components, "components")
    updates = list(uow.incidents.updates(principal.org_id, incident_id))
    if at < updates[-1].at or at > now:
        raise _invalid("at", "an update comes after the previous one and not in the future")
    uow.incidents.add_update(
        IncidentUpdate(
            org_id=principal.org_id,
            incident_id=incident.id,
            seq=updates[-1].seq + 1,
            at=at,
            status=status,
            message=message,
            components=components,
            notify=notify,
            actor=principal.actor,
        )
    )
    audit.record(
        uow, principal, f"incident.{status}", "incident", incident_id, None,
        {"at": iso(at), "message": message, "components": components}, now,
    )  # fmt: skip
    updated = view(uow, principal, incident_id, now)
    if notify:
        touched = set(components)
        for earlier in updates:
            touched |= set(earlier.components)
        subscriptions.notify_incident(
            uow, org_id=principal.org_id, incident=incident_json(updated),
            components=sorted(touched), now=now,
        )  # fmt: skip
    return updated


def attach_postmortem(
    uow: UnitOfWork, principal: Principal, incident_id: str, text: str, now: datetime
) -> IncidentView:
    before = view(uow, principal, incident_id, now)
    if before.resolved_at is None:
        raise _invalid("postmortem", "the incident is not resolved yet")
    uow.incidents.set_postmortem(principal.org_id, incident_id, text, now)
    audit.record(
        uow, principal, "incident.postmortem", "incident", incident_id, None,
        {"characters": len(text), "due_at": iso(before.postmortem_due_at)}, now,
    )  # fmt: skip
    return view(uow, principal, incident_id, now)


def get(uow: UnitOfWork, principal: Principal, incident_id: str) -> Incident:
    incident = uow.incidents.get(principal.org_id, incident_id)
    if incident is None or (
        principal.customer_id is not None
        and incident.customers
        and principal.customer_id not in incident.customers
    ):
        raise NotFound(f"incident '{incident_id}' does not exist")
    return incident


def view(uow: UnitOfWork, principal: Principal, incident_id: str, now: datetime) -> IncidentView:
    incident = get(uow, principal, incident_id)
    return _view(uow, incident, now, _policy(uow, principal.org_id))


def listing(uow: UnitOfWork, principal: Principal, now: datetime) -> list[IncidentView]:
    found = policy_versions.active(uow, principal.org_id)
    if found is None:
        return []
    policy = found[1].policy
    engine = support_clocks(policy)
    return [
        _view(uow, incident, now, policy, engine)
        for incident in uow.incidents.list(principal.org_id, None, 10_000)
        if principal.customer_id is None
        or not incident.customers
        or principal.customer_id in incident.customers
    ]


def incident_view(
    uow: UnitOfWork,
    incident: Incident,
    now: datetime,
    policy: Policy,
    engine: SupportClocks | None = None,
) -> IncidentView:
    """The view of a stored incident under ``policy``; pages that list many pass one ``engine``
    (``support_clocks(policy)``) so the calendars are compiled once."""
    return _view(uow, incident, now, policy, engine)


def _view(
    uow: UnitOfWork,
    incident: Incident,
    now: datetime,
    policy: Policy,
    engine: SupportClocks | None = None,
) -> IncidentView:
    updates = tuple(uow.incidents.updates(incident.org_id, incident.id))
    events = [TicketEvent(incident.started_at, EventKind.OPENED, severity=incident.severity)]
    resolved_at: datetime | None = None
    status = "investigating"
    for update in updates[1:]:
        if len(events) == 1:
            events.append(TicketEvent(update.at, EventKind.RESPONDED))
        if update.status == "resolved" and status not in ("resolved", "postmortem"):
            events.append(TicketEvent(update.at, EventKind.RESOLVED))
            resolved_at = update.at
        elif update.status in WORKING and status in ("resolved", "postmortem"):
            events.append(TicketEvent(update.at, EventKind.REOPENED))
            resolved_at = None
        status = update.status
    plan = None
    if len(incident.customers) == 1:
        customer = uow.customers.get(incident.org_id, incident.customers[0])
        plan = customer.plan if customer is not None else None
    engine = engine or support_clocks(policy)
    clocks = engine.replay_events(events, "incident", now=now, plan=plan)
    due_at = _postmortem_due(policy, incident.severity, resolved_at)
    return IncidentView(
        incident, updates, status, resolved_at, clocks, due_at,
        _postmortem_state(incident, due_at, resolved_at, now),
    )  # fmt: skip


def _postmortem_due(policy: Policy, severity: str, resolved_at: datetime | None) -> datetime | None:
    rules = policy.post_incident_reports
    if rules is None or resolved_at is None:
        return None
    if severity not in {policy.severity(name).id for name in rules.severities}:
        return None
    calendar = policy_calendar(policy, rules.calendar)
    target = business_days_target(calendar, resolved_at, rules.due_business_days)
    return dc.due(calendar, resolved_at, target)


def _postmortem_state(
    incident: Incident, due_at: datetime | None, resolved_at: datetime | None, now: datetime
) -> str:
    if due_at is None:
        return "not-required"
    if incident.postmortem_at is not None:
        return "attached" if incident.postmortem_at <= due_at else "attached-late"
    return "overdue" if now > due_at else "pending"


def component_statuses(
    uow: UnitOfWork, org_id: str, now: datetime, policy: Policy | None = None
) -> dict[str, str]:
    """Each component's worst current state: open incidents' latest impacts, maintenance in
    progress, otherwise operational."""
    policy = policy or _policy(uow, org_id)
    states = {component.id: "operational" for component in policy.components}

    def worsen(component: str, state: str) -> None:
        if component in states and IMPACTS.index(state) > IMPACTS.index(states[component]):
            states[component] = state

    for incident in uow.incidents.list(org_id, None, 10_000):
        updates = uow.incidents.updates(org_id, incident.id)
        if updates and updates[-1].status in WORKING:
            latest: dict[str, str] = {}
            for update in updates:
                latest.update(update.components)
            for component, impact in latest.items():
                worsen(component, impact)
    for window in uow.maintenance.list(org_id):
        if window.starts_at <= now and window.completed_at is None:
            for component in window.components:
                worsen(component, "under-maintenance")
    return states


# --------------------------------------------------------------------------- maintenance
def schedule_maintenance(
    uow: UnitOfWork,
    principal: Principal,
    *,
    window_id: str,
    title: str,
    components: list[str],
    starts_at: datetime,
    ends_at: datetime,
    announced_at: datetime,
    now: datetime,
) -> MaintenanceWindow:
    policy = _policy(uow, principal.org_id)
    _check_components(policy, dict.fromkeys(components, "under-maintenance"), "components")
    if ends_at <= starts_at:
        raise _invalid("ends_at", "the window ends before it starts")
    if announced_at > now:
        raise _invalid("announced_at", "an announcement cannot be in the future")
    window = MaintenanceWindow(
        org_id=principal.org_id, id=window_id, title=title, components=tuple(components),
        starts_at=starts_at, ends_at=ends_at, announced_at=announced_at, completed_at=None,
        created_at=now,
    )  # fmt: skip
    try:
        uow.maintenance.add(window)
    except Conflict:
        raise ConflictError(f"maintenance '{window_id}' exists already") from None
    audit.record(
        uow, principal, "maintenance.scheduled", "maintenance", window_id, None,
        maintenance_json(window, policy, now), now,
    )  # fmt: skip
    return window


def complete_maintenance(
    uow: UnitOfWork, principal: Principal, window_id: str, at: datetime, now: datetime
) -> MaintenanceWindow:
    window = uow.maintenance.get(principal.org_id, window_id)
    if window is None:
        raise NotFound(f"maintenance '{window_id}' does not exist")
    if at < window.starts_at or at > now:
        raise _invalid("at", "a window completes after it starts and not in the future")
    uow.maintenance.complete(principal.org_id, window_id, at)
    done = uow.maintenance.get(principal.org_id, window_id)
    assert done is not None
    audit.record(
        uow, principal, "maintenance.completed", "maintenance", window_id, None,
        {"completed_at": iso(at), "overrun": at > window.ends_at}, now,
    )  # fmt: skip
    return done


def maintenance_json(window: MaintenanceWindow, policy: Policy, now: datetime) -> dict[str, Any]:
    notice = window.starts_at - window.announced_at
    required = policy.maintenance.min_notice
    if window.completed_at is not None:
        state = "completed"
    elif now < window.starts_at:
        state = "scheduled"
    else:
        state = "in-progress"
    end = window.completed_at or (now if now > window.ends_at else None)
    overrun = None if end is None or end <= window.ends_at else end - window.ends_at
    return {
        "id": window.id,
        "title": window.title,
        "components": list(window.components),
        "starts_at": iso(window.starts_at),
        "ends_at": iso(window.ends_at),
        "announced_at": iso(window.announced_at),
        "completed_at": iso(window.completed_at),
        "state": state,
        "notice_seconds": notice // _SECOND,
        "required_notice_seconds": required // _SECOND,
        "excluded": notice >= required,
        "overrun_seconds": None if overrun is None else overrun // _SECOND,
    }


def incident_json(v: IncidentView) -> dict[str, Any]:
    return {
        "id": v.incident.id,
        "title": v.incident.title,
        "severity": v.incident.severity,
        "status": v.status,
        "customers": list(v.incident.customers) or "all",
        "fields": v.incident.fields,
        "started_at": iso(v.incident.started_at),
        "resolved_at": iso(v.resolved_at),
        "response": clock_json(v.clocks.response),
        "resolution": [clock_json(c) for c in v.clocks.resolution],
        "exclusions": list(v.incident.exclusions),
        "postmortem": {
            "due_at": iso(v.postmortem_due_at),
            "state": v.postmortem_state,
            "attached_at": iso(v.incident.postmortem_at),
            "markdown": v.incident.postmortem,
        },
        "updates": [
            {
                "seq": u.seq,
                "at": iso(u.at),
                "status": u.status,
                "message": u.message,
                "components": u.components,
                "notify": u.notify,
                "actor": u.actor,
            }
            for u in v.updates
        ],
    }


def add_exclusion(
    uow: UnitOfWork,
    principal: Principal,
    incident_id: str,
    *,
    category: str,
    components: list[str],
    customer: str | None,
    start: datetime,
    end: datetime,
    reason: str,
    now: datetime,
) -> IncidentView:
    """Record that part of an incident's downtime does not count against the SLA (force
    majeure, a third party, a customer's own doing...), with the incident as its reason."""
    incident = get(uow, principal, incident_id)
    categories = [
        c.value for c in ExclusionCategory if c is not ExclusionCategory.SCHEDULED_MAINTENANCE
    ]
    if category not in categories:
        raise _invalid("category", f"'{category}' is not a category: use {one_of(categories)}")
    policy = _policy(uow, principal.org_id)
    _check_components(policy, dict.fromkeys(components, "operational"), "components")
    if category == "customer-caused" and customer is None:
        raise _invalid("customer", "a customer-caused exclusion names its customer")
    if customer is not None and uow.customers.get(principal.org_id, customer) is None:
        raise _invalid("customer", f"customer '{customer}' does not exist")
    if end <= start:
        raise _invalid("end", "the exclusion ends before it starts")
    record = {
        "category": category,
        "components": components,
        "customer": customer,
        "start": iso(start),
        "end": iso(end),
        "reason": reason or f"incident {incident_id}",
    }
    uow.incidents.set_exclusions(principal.org_id, incident_id, [*incident.exclusions, record])
    audit.record(uow, principal, "incident.exclusion", "incident", incident_id, None, record, now)
    return view(uow, principal, incident_id, now)
