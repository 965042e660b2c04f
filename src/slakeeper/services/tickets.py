"""Support requests on the server: events in, clocks replayed, at-risk and breach notices out.

A ticket stores only its events; its clocks are replayed from them against the active policy
each time they are read, so a changed calendar or target recomputes every open request. A
resolved request keeps the policy version it was judged by (``policy_version``) unless a
recompute is asked for. At-risk and breached clocks become outbox messages (deduplicated by
ticket, clock, cycle and state) and audit entries, written by
``notifications.scan_notifications``, which a worker runs: it derives everything from stored
events, so a restart misses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slakeeper.domain.intervals import seconds
from slakeeper.domain.support import (
    ClockResult,
    EventKind,
    TicketClocks,
    TicketEvent,
)
from slakeeper.policy.errors import did_you_mean, one_of
from slakeeper.policy.loader import LoadedPolicy
from slakeeper.services import audit, policy_versions
from slakeeper.services.errors import ConflictError, Forbidden, Invalid, NotFound
from slakeeper.services.evaluate import decimal_seconds
from slakeeper.services.ports import Conflict, UnitOfWork
from slakeeper.services.records import (
    Page,
    Principal,
    Ticket,
    TicketEventRecord,
    iso,
)
from slakeeper.services.support_clocks import SupportClocks, support_clocks
from slakeeper.services.support_review import Review, ReviewTicket, review
from slakeeper.services.ticket_import import ImportResult, RowProblem, parse_csv

CLOSED = "resolved"


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    events: tuple[TicketEventRecord, ...]
    clocks: TicketClocks
    plan: str
    enhancement: bool
    change_order: bool


def _policy(uow: UnitOfWork, org_id: str, version: int | None) -> tuple[int, LoadedPolicy]:
    if version is not None:
        stored = uow.policies.get(org_id, version)
        if stored is not None:
            return version, policy_versions.parse(stored)
    found = policy_versions.active(uow, org_id)
    if found is None:
        raise Invalid("this organisation has no active policy: upload one first")
    return found[0].version, found[1]


def _domain_events(records: Sequence[TicketEventRecord]) -> list[TicketEvent]:
    return [
        TicketEvent(at=r.at, kind=EventKind(r.kind), status=r.status, severity=r.severity)
        for r in records
    ]


def _view(
    uow: UnitOfWork, ticket: Ticket, now: datetime, engines: dict[int, SupportClocks]
) -> TicketView:
    events = tuple(uow.tickets.events(ticket.org_id, ticket.id))
    version, loaded = _policy(uow, ticket.org_id, ticket.policy_version)
    engine = engines.get(version)
    if engine is None:
        engine = engines[version] = support_clocks(loaded.policy)
    customer = uow.customers.get(ticket.org_id, ticket.customer_id)
    plan = customer.plan if customer is not None else ""
    clocks = engine.replay_events(
        _domain_events(events), ticket.request_type, now=now, plan=plan or None
    )
    enhancement = engine.is_enhancement(ticket.request_type)
    return TicketView(
        ticket, events, clocks, plan, enhancement, _change_order(loaded, ticket, enhancement)
    )


def _change_order(loaded: LoadedPolicy, ticket: Ticket, enhancement: bool) -> bool:
    """Enhancements are change orders; so is covered work whose effort passes the policy's
    change-order threshold (seed 004: "what threshold turns a request into a change order")."""
    if enhancement:
        return True
    rule = loaded.policy.support.change_order
    if rule is None or rule.threshold is None or ticket.effort_seconds is None:
        return False
    return timedelta(seconds=ticket.effort_seconds) > rule.threshold


def _check_type(loaded: LoadedPolicy, request_type: str) -> None:
    types = loaded.policy.support.request_types
    known = [*types.covered, *types.enhancement]
    if known and request_type not in known:
        raise Invalid(
            "unknown request type",
            [
                {
                    "field": "type",
                    "message": f"unknown request type '{request_type}'"
                    f"{did_you_mean(request_type, known)} (the policy lists {one_of(known)})",
                }
            ],
        )


def _severity(loaded: LoadedPolicy, name: str) -> str:
    try:
        return loaded.policy.severity(name).id
    except KeyError:
        known = [severity.id for severity in loaded.policy.severities]
        raise Invalid(
            "unknown severity",
            [
                {
                    "field": "severity",
                    "message": f"unknown severity '{name}'{did_you_mean(name, known)} "
                    f"(the policy has {one_of(known)})",
                }
            ],
        ) from None


def open_ticket(
    uow: UnitOfWork,
    principal: Principal,
    *,
    ticket_id: str,
    customer_id: str,
    severity: str,
    request_type: str,
    subject: str,
    opened_at: datetime,
    now: datetime,
    effort: timedelta | None = None,
) -> TicketView:
    if principal.customer_id is not None and principal.customer_id != customer_id:
        raise Forbidden("a customer-scoped key opens requests for its own customer only")
    if uow.customers.get(principal.org_id, customer_id) is None:
        raise NotFound(f"customer '{customer_id}' does not exist")
    _, loaded = _policy(uow, principal.org_id, None)
    severity_id = _severity(loaded, severity)
    _check_type(loaded, request_type)
    if opened_at > now:
        raise Invalid("a request cannot be opened in the future", [{"field": "opened_at",
                      "message": "after the current time"}])  # fmt: skip
    ticket = Ticket(
        org_id=principal.org_id,
        id=ticket_id,
        customer_id=customer_id,
        request_type=request_type,
        subject=subject,
        policy_version=None,
        created_at=now,
        effort_seconds=None if effort is None else effort // timedelta(seconds=1),
    )
    try:
        uow.tickets.add(ticket)
    except Conflict:
        raise ConflictError(f"request '{ticket_id}' exists already") from None
    event = TicketEventRecord(
        org_id=principal.org_id, ticket_id=ticket_id, seq=1, at=opened_at,
        kind=EventKind.OPENED.value, status=None, severity=severity_id,
        actor=principal.actor, recorded_at=now,
    )  # fmt: skip
    uow.tickets.add_event(event)
    audit.record(
        uow, principal, "ticket.opened", "ticket", ticket_id, None,
        {"customer": customer_id, "severity": severity_id, "type": request_type,
         "opened_at": iso(opened_at)}, now,
    )  # fmt: skip
    return _view(uow, ticket, now, {})


def add_event(
    uow: UnitOfWork,
    principal: Principal,
    ticket_id: str,
    *,
    kind: str,
    at: datetime,
    status: str | None,
    severity: str | None,
    now: datetime,
) -> TicketView:
    ticket = get_ticket(uow, principal, ticket_id)
    try:
        event_kind = EventKind(kind)
    except ValueError:
        names = [k.value for k in EventKind if k is not EventKind.OPENED]
        raise Invalid(
            "unknown event", [{"field": "kind", "message": f"use one of {one_of(names)}"}]
        ) from None
    if event_kind is EventKind.OPENED:
        raise Invalid("a request is opened once", [{"field": "kind", "message": "opened"}])
    if at > now:
        raise Invalid("an event cannot be in the future", [{"field": "at", "message": "future"}])
    _, loaded = _policy(uow, principal.org_id, None)
    severity_id = _severity(loaded, severity) if severity is not None else None
    events = list(uow.tickets.events(principal.org_id, ticket_id))
    record = TicketEventRecord(
        org_id=principal.org_id, ticket_id=ticket_id, seq=events[-1].seq + 1, at=at,
        kind=event_kind.value, status=status, severity=severity_id, actor=principal.actor,
        recorded_at=now,
    )  # fmt: skip
    try:  # the whole history must still replay (e.g. no event before the opening)
        support_clocks(loaded.policy).replay_events(
            _domain_events([*events, record]), ticket.request_type, now=now, plan=None
        )
    except ValueError as exc:
        raise Invalid(str(exc), [{"field": "at", "message": str(exc)}]) from None
    uow.tickets.add_event(record)
    if event_kind is EventKind.RESOLVED:
        version, _ = _policy(uow, principal.org_id, None)
        uow.tickets.set_policy_version(principal.org_id, ticket_id, version)
    audit.record(
        uow, principal, f"ticket.{event_kind.value}", "ticket", ticket_id, None,
        {"at": iso(at), "status": status, "severity": severity_id}, now,
    )  # fmt: skip
    updated = uow.tickets.get(principal.org_id, ticket_id)
    assert updated is not None
    return _view(uow, updated, now, {})


def recompute(uow: UnitOfWork, principal: Principal, ticket_id: str, now: datetime) -> TicketView:
    """Judge a resolved request again under the active policy (recorded in the audit log)."""
    ticket = get_ticket(uow, principal, ticket_id)
    version, _ = _policy(uow, principal.org_id, None)
    uow.tickets.set_policy_version(principal.org_id, ticket_id, version)
    audit.record(
        uow, principal, "ticket.recomputed", "ticket", ticket_id,
        {"policy_version": ticket.policy_version}, {"policy_version": version}, now,
    )  # fmt: skip
    updated = uow.tickets.get(principal.org_id, ticket_id)
    assert updated is not None
    return _view(uow, updated, now, {})


def get_ticket(uow: UnitOfWork, principal: Principal, ticket_id: str) -> Ticket:
    ticket = uow.tickets.get(principal.org_id, ticket_id)
    if ticket is None or (
        principal.customer_id is not None and ticket.customer_id != principal.customer_id
    ):
        raise NotFound(f"request '{ticket_id}' does not exist")
    return ticket


def view(uow: UnitOfWork, principal: Principal, ticket_id: str, now: datetime) -> TicketView:
    return _view(uow, get_ticket(uow, principal, ticket_id), now, {})


def listing(
    uow: UnitOfWork, principal: Principal, after: str | None, limit: int, now: datetime
) -> Page[TicketView]:
    found = list(uow.tickets.list(principal.org_id, after, limit + 1, principal.customer_id))
    more = len(found) > limit
    found = found[:limit]
    engines: dict[int, SupportClocks] = {}
    views = [_view(uow, ticket, now, engines) for ticket in found]
    return Page(views, found[-1].id if more and found else None)


def all_views(uow: UnitOfWork, org_id: str, now: datetime) -> list[TicketView]:
    engines: dict[int, SupportClocks] = {}
    views: list[TicketView] = []
    after: str | None = None
    while True:
        batch = list(uow.tickets.list(org_id, after, 500))
        views += [_view(uow, ticket, now, engines) for ticket in batch]
        if len(batch) < 500:
            return views
        after = batch[-1].id


def support_review(
    uow: UnitOfWork, principal: Principal, start: datetime, end: datetime, now: datetime
) -> Review:
    if principal.customer_id is not None:
        raise Forbidden("the review covers every customer: use an organisation-wide key")
    views = all_views(uow, principal.org_id, now)
    _, loaded = _policy(uow, principal.org_id, None)
    return review(
        [
            ReviewTicket(
                id=v.ticket.id,
                customer=v.ticket.customer_id,
                plan=v.plan,
                severity=v.clocks.severity,
                request_type=v.ticket.request_type,
                enhancement=v.enhancement,
                clocks=v.clocks,
            )
            for v in views
        ],
        period_start=start,
        period_end=end,
        severity_order=[severity.id for severity in loaded.policy.severities],
    )


def import_csv(
    uow: UnitOfWork, principal: Principal, text: str, *, dry_run: bool, now: datetime
) -> ImportResult:
    """Read past requests from CSV; store them unless ``dry_run`` or a row cannot be read."""
    _, loaded = _policy(uow, principal.org_id, None)
    result = parse_csv(text, loaded.policy)
    for row in result.rows:
        if uow.customers.get(principal.org_id, row.customer) is None:
            result.problems.append(
                RowProblem(row.row_number, "customer", f"unknown customer '{row.customer}'")
            )
        if any(event.at > now for event in row.events):
            result.problems.append(
                RowProblem(row.row_number, "opened_at", "has an event after the current time")
            )
        if uow.tickets.get(principal.org_id, row.id) is not None:
            result.problems.append(RowProblem(row.row_number, "id", f"'{row.id}' exists already"))
    if dry_run or result.problems:
        return result
    for row in result.rows:
        uow.tickets.add(
            Ticket(
                org_id=principal.org_id,
                id=row.id,
                customer_id=row.customer,
                request_type=row.request_type,
                subject="imported",
                policy_version=None,
                created_at=now,
            )
        )
        for seq, event in enumerate(row.events, start=1):
            uow.tickets.add_event(
                TicketEventRecord(
                    org_id=principal.org_id,
                    ticket_id=row.id,
                    seq=seq,
                    at=event.at,
                    kind=event.kind.value,
                    status=event.status,
                    severity=event.severity,
                    actor=principal.actor,
                    recorded_at=now,
                )
            )
    audit.record(
        uow, principal, "tickets.imported", "ticket", f"{len(result.rows)} requests", None,
        {"ids": [row.id for row in result.rows]}, now,
    )  # fmt: skip
    return result


# --------------------------------------------------------------------------- JSON
def _seconds(value: timedelta | None) -> str | None:
    return None if value is None else decimal_seconds(seconds(value))


def clock_json(clock: ClockResult) -> dict[str, Any]:
    return {
        "clock": clock.clock,
        "cycle": clock.cycle,
        "calendar": clock.calendar,
        "target_seconds": _seconds(clock.target),
        "started_at": iso(clock.started_at),
        "due_at": iso(clock.due_at),
        "warning_at": iso(clock.warning_at),
        "stopped_at": iso(clock.stopped_at),
        "elapsed_seconds": _seconds(clock.elapsed),
        "paused_seconds": _seconds(clock.paused),
        "state": clock.state.value,
        "at_risk": clock.at_risk,
        "breached_at": iso(clock.breached_at),
    }


def ticket_json(v: TicketView, *, with_events: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": v.ticket.id,
        "customer": v.ticket.customer_id,
        "plan": v.plan,
        "type": v.ticket.request_type,
        "enhancement": v.enhancement,
        "effort_seconds": v.ticket.effort_seconds,
        "change_order": v.change_order,
        "subject": v.ticket.subject,
        "severity": v.clocks.severity,
        "status": v.clocks.status,
        "policy_version": v.ticket.policy_version,
        "response": clock_json(v.clocks.response),
        "resolution": [clock_json(c) for c in v.clocks.resolution],
    }
    if with_events:
        body["events"] = [
            {
                "seq": e.seq,
                "at": iso(e.at),
                "kind": e.kind,
                "status": e.status,
                "severity": e.severity,
                "actor": e.actor,
            }
            for e in v.events
        ]
    return body
