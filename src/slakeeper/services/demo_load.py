"""Play a generated month into a store, through the same services the API uses.

Three steps, each at the instants the script gives (``now`` is always passed, never read from a
clock): the organisation with its policy, customers and an ingest key, before the month; the
month's measurements, one ingest batch per day sent just after the day ends; then every
announcement, incident update, exclusion, post-incident report, support-request event and
data-loss record at the moment it happens, in order, in one transaction (so the audit log reads
as the month did).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from slakeeper.services import (
    close,
    customers,
    incidents,
    ingest,
    policy_versions,
    tenancy,
    tickets,
)
from slakeeper.services.demo_script import (
    EXCLUDED_AFTER,
    RECORDED_AFTER,
    DataLossSpec,
    ExclusionSpec,
    IncidentSpec,
    MaintenanceSpec,
    MonthScript,
    Step,
    TicketEventSpec,
    TicketSpec,
)
from slakeeper.services.demo_traffic import batches
from slakeeper.services.ports import UnitOfWork, UnitOfWorkFactory
from slakeeper.services.records import Customer, Organisation, Principal, Scope

#: ``progress(stage, done, total)``: what is being loaded and how far it is.
Progress = Callable[[str, int, int], None]
Action = Callable[[UnitOfWork], None]
ACTOR = "demo"


@dataclass(frozen=True)
class LoadedMonth:
    org: Organisation
    admin_key: str  # the organisation's first admin key, shown once
    batches: int
    buckets: int


def load(
    uow: UnitOfWorkFactory, script: MonthScript, *, progress: Progress | None = None
) -> LoadedMonth:
    """Create the organisation of ``script`` and everything that happened in its month."""
    report = progress or (lambda stage, done, total: None)
    org, admin_key, feeder = _setup(uow, script, report)
    sent = items = 0
    days = (script.end - script.start).days
    for batch in batches(script):
        answer = ingest.ingest(
            uow, feeder, key=batch.key, body=batch.body, content_type="application/json",
            content_encoding=None, now=batch.now,
        )  # fmt: skip
        rejected = answer["rejected"]
        if rejected:
            raise ValueError(f"the generated batch {batch.key} was refused in part: {rejected}")
        sent += 1
        items += batch.items
        report("measurements", sent, days)
    principal = Principal(org_id=org.id, actor=ACTOR, scopes=frozenset(Scope), key_id=None)
    actions = timeline(script, principal)
    with uow() as work:
        for done, (_, _, action) in enumerate(actions, start=1):
            action(work)
            if done % 25 == 0 or done == len(actions):
                report("incidents and requests", done, len(actions))
        work.commit()
    return LoadedMonth(org, admin_key, sent, items)


def _setup(
    uow: UnitOfWorkFactory, script: MonthScript, report: Progress
) -> tuple[Organisation, str, Principal]:
    at = script.created_at
    with uow() as work:
        org, issued = tenancy.create_organisation(
            work, slug=script.slug, name=script.name, actor=ACTOR, now=at
        )
        principal = Principal(org_id=org.id, actor=ACTOR, scopes=frozenset(Scope), key_id=None)
        policy_versions.upload(work, principal, script.policy_source,
                               filename=f"{script.slug}.yaml", now=at)  # fmt: skip
        for done, customer in enumerate(script.customers, start=1):
            customers.create(work, principal, Customer(
                org_id=org.id, id=customer.id, name=customer.name, plan=customer.plan,
                monthly_fee=customer.monthly_fee, annual_fee=customer.annual_fee,
                currency=customer.currency, billing_period="monthly",
                timezone=customer.timezone, contract_start=customer.contract_start,
                contract_end=customer.contract_end,
            ), at)  # fmt: skip
            if done % 200 == 0 or done == len(script.customers):
                report("customers", done, len(script.customers))
        key = tenancy.create_key(work, principal, name="demo traffic", scopes=[Scope.INGEST],
                                 customer_id=None, now=at)  # fmt: skip
        work.commit()
    feeder = Principal(org_id=org.id, actor=f"key:{key.key.id}", scopes=frozenset({Scope.INGEST}),
                       key_id=key.key.id)  # fmt: skip
    return org, issued.secret, feeder


def timeline(script: MonthScript, principal: Principal) -> list[tuple[datetime, int, Action]]:
    """Every operator action of the month as ``(when, order, action)``, sorted."""
    found: list[tuple[datetime, int, Action]] = []

    def add(at: datetime, action: Action) -> None:
        found.append((at, len(found), action))

    for window in script.maintenance:
        add(window.announced_at, partial(_schedule, principal, window))
        add(window.completed_at, partial(_complete, principal, window))
    for incident in script.incidents:
        first, *rest = incident.steps
        add(first.at, partial(_declare, principal, incident))
        for step in rest:
            add(step.at, partial(_update, principal, incident, step))
        excluded_at = incident.resolved_at + EXCLUDED_AFTER
        for exclusion in incident.exclusions:
            add(excluded_at, partial(_exclude, principal, incident, exclusion, excluded_at))
        if incident.postmortem_at is not None:
            add(incident.postmortem_at, partial(_postmortem, principal, incident))
    for ticket in script.tickets:
        add(ticket.opened_at, partial(_open, principal, ticket))
        for event in ticket.events:
            add(event.at, partial(_ticket_event, principal, ticket, event))
    for loss in script.data_loss:
        add(loss.at + RECORDED_AFTER, partial(_lose, principal, loss))
    return sorted(found, key=lambda entry: (entry[0], entry[1]))


def _schedule(principal: Principal, window: MaintenanceSpec, uow: UnitOfWork) -> None:
    incidents.schedule_maintenance(
        uow, principal, window_id=window.id, title=window.title,
        components=list(window.components), starts_at=window.start, ends_at=window.end,
        announced_at=window.announced_at, now=window.announced_at,
    )  # fmt: skip


def _complete(principal: Principal, window: MaintenanceSpec, uow: UnitOfWork) -> None:
    incidents.complete_maintenance(
        uow, principal, window.id, window.completed_at, window.completed_at
    )


def _declare(principal: Principal, incident: IncidentSpec, uow: UnitOfWork) -> None:
    first = incident.steps[0]
    incidents.declare(
        uow, principal, incident_id=incident.id, title=incident.title,
        severity=incident.severity, components=dict(first.components),
        customers=list(incident.customers), fields=dict(incident.fields),
        started_at=first.at, message=first.message, notify=False, now=first.at,
    )  # fmt: skip


def _update(principal: Principal, incident: IncidentSpec, step: Step, uow: UnitOfWork) -> None:
    incidents.add_update(
        uow, principal, incident.id, status=step.status, message=step.message,
        components=dict(step.components), notify=False, at=step.at, now=step.at,
    )  # fmt: skip


def _exclude(
    principal: Principal,
    incident: IncidentSpec,
    exclusion: ExclusionSpec,
    at: datetime,
    uow: UnitOfWork,
) -> None:
    incidents.add_exclusion(
        uow, principal, incident.id, category=exclusion.category,
        components=list(exclusion.components), customer=exclusion.customer,
        start=exclusion.start, end=exclusion.end, reason=exclusion.reason, now=at,
    )  # fmt: skip


def _postmortem(principal: Principal, incident: IncidentSpec, uow: UnitOfWork) -> None:
    assert incident.postmortem_at is not None
    text = incident.postmortem or ""
    incidents.attach_postmortem(uow, principal, incident.id, text, incident.postmortem_at)


def _open(principal: Principal, ticket: TicketSpec, uow: UnitOfWork) -> None:
    tickets.open_ticket(
        uow, principal, ticket_id=ticket.id, customer_id=ticket.customer,
        severity=ticket.severity, request_type=ticket.request_type, subject=ticket.subject,
        opened_at=ticket.opened_at, now=ticket.opened_at, effort=ticket.effort,
    )  # fmt: skip


def _ticket_event(
    principal: Principal, ticket: TicketSpec, event: TicketEventSpec, uow: UnitOfWork
) -> None:
    tickets.add_event(
        uow, principal, ticket.id, kind=event.kind, at=event.at, status=event.status,
        severity=event.severity, now=event.at,
    )  # fmt: skip


def _lose(principal: Principal, loss: DataLossSpec, uow: UnitOfWork) -> None:
    close.record_data_loss(
        uow, principal, event_id=loss.id, customer_id=loss.customer, at=loss.at,
        description=loss.description, now=loss.at + RECORDED_AFTER,
    )  # fmt: skip
