"""An in-memory store with the same ports as the SQL one, for unit tests of the services.

A unit of work copies the state when it begins and publishes its copy on commit (under a lock),
so an abandoned unit of work changes nothing, as with a database transaction.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from slakeeper.domain.sketch import LatencySketch
from slakeeper.services.ports import Conflict
from slakeeper.services.records import (
    AlertStateRecord,
    ApiKey,
    AuditEntry,
    Credit,
    Customer,
    CustomerErrors,
    DataLossEvent,
    Incident,
    IncidentUpdate,
    IngestBatch,
    IntegrityCheck,
    LedgerEntry,
    MaintenanceWindow,
    Operator,
    Organisation,
    OutboxMessage,
    PeriodClose,
    PeriodReport,
    PolicyVersion,
    ProbeBucket,
    Reconciliation,
    RequestBucket,
    SampleBucket,
    StoredResponse,
    Subscriber,
    Ticket,
    TicketEventRecord,
)


@dataclass
class _State:
    organisations: dict[str, Organisation] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    policies: dict[tuple[str, int], PolicyVersion] = field(default_factory=dict)
    customers: dict[tuple[str, str], Customer] = field(default_factory=dict)
    audit: dict[tuple[str, int], AuditEntry] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    tickets: dict[tuple[str, str], Ticket] = field(default_factory=dict)
    ticket_events: dict[tuple[str, str, int], TicketEventRecord] = field(default_factory=dict)
    outbox: dict[tuple[str, str], OutboxMessage] = field(default_factory=dict)
    incidents: dict[tuple[str, str], Incident] = field(default_factory=dict)
    incident_updates: dict[tuple[str, str, int], IncidentUpdate] = field(default_factory=dict)
    maintenance: dict[tuple[str, str], MaintenanceWindow] = field(default_factory=dict)
    subscribers: dict[tuple[str, str], Subscriber] = field(default_factory=dict)
    batches: dict[tuple[str, str], IngestBatch] = field(default_factory=dict)
    requests: dict[tuple[str, str, str, datetime], RequestBucket] = field(default_factory=dict)
    customer_errors: dict[tuple[str, str, str, datetime], int] = field(default_factory=dict)
    probes: dict[tuple[str, str, str, datetime], ProbeBucket] = field(default_factory=dict)
    samples: dict[tuple[str, str, datetime], SampleBucket] = field(default_factory=dict)
    checks: dict[tuple[str, str, int], IntegrityCheck] = field(default_factory=dict)
    reconciliations: dict[tuple[str, str, int], Reconciliation] = field(default_factory=dict)
    alerts: dict[tuple[str, str, int], AlertStateRecord] = field(default_factory=dict)
    operators: dict[tuple[str, str], Operator] = field(default_factory=dict)
    data_loss: dict[tuple[str, str], DataLossEvent] = field(default_factory=dict)
    closes: dict[tuple[str, str, int], PeriodClose] = field(default_factory=dict)
    reports: dict[tuple[str, str, str, int], PeriodReport] = field(default_factory=dict)
    credits: dict[tuple[str, str], Credit] = field(default_factory=dict)
    ledger: dict[tuple[str, int], LedgerEntry] = field(default_factory=dict)
    ledger_heads: dict[str, tuple[int, str]] = field(default_factory=dict)


class _Organisations:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, org: Organisation) -> None:
        if org.id in self.s.organisations or self.by_slug(org.slug):
            raise Conflict(f"organisation {org.slug}")
        self.s.organisations[org.id] = org

    def get(self, org_id: str) -> Organisation | None:
        return self.s.organisations.get(org_id)

    def by_slug(self, slug: str) -> Organisation | None:
        return next((o for o in self.s.organisations.values() if o.slug == slug), None)

    def all(self) -> Sequence[Organisation]:
        return sorted(self.s.organisations.values(), key=lambda o: o.slug)

    def lock(self, org_id: str) -> Organisation:
        org = self.get(org_id)
        if org is None:
            raise LookupError(org_id)
        return org

    def set_active_policy(self, org_id: str, version: int | None) -> None:
        org = self.lock(org_id)
        self.s.organisations[org_id] = replace(org, active_policy_version=version)

    def set_audit_head(self, org_id: str, seq: int, head_hash: str) -> None:
        org = self.lock(org_id)
        self.s.organisations[org_id] = replace(org, audit_head_seq=seq, audit_head_hash=head_hash)


class _Keys:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, key: ApiKey) -> None:
        if any(k.key_hash == key.key_hash for k in self.s.keys.values()):
            raise Conflict("key hash")
        self.s.keys[key.id] = key

    def by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self.s.keys.values() if k.key_hash == key_hash), None)

    def get(self, org_id: str, key_id: str) -> ApiKey | None:
        key = self.s.keys.get(key_id)
        return key if key is not None and key.org_id == org_id else None

    def list(self, org_id: str) -> Sequence[ApiKey]:
        keys = [k for k in self.s.keys.values() if k.org_id == org_id]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def revoke(self, org_id: str, key_id: str, at: datetime) -> None:
        key = self.get(org_id, key_id)
        if key is not None:
            self.s.keys[key_id] = replace(key, revoked_at=at)

    def touch(self, key_id: str, at: datetime) -> None:
        key = self.s.keys.get(key_id)
        if key is not None:
            self.s.keys[key_id] = replace(key, last_used_at=at)


class _Policies:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, version: PolicyVersion) -> None:
        slot = (version.org_id, version.version)
        if slot in self.s.policies:
            raise Conflict(f"policy version {version.version}")
        self.s.policies[slot] = version

    def get(self, org_id: str, version: int) -> PolicyVersion | None:
        return self.s.policies.get((org_id, version))

    def latest_number(self, org_id: str) -> int:
        return max((v for o, v in self.s.policies if o == org_id), default=0)

    def list(self, org_id: str, after: int | None, limit: int) -> Sequence[PolicyVersion]:
        found = sorted(
            (p for (o, v), p in self.s.policies.items() if o == org_id and v > (after or 0)),
            key=lambda p: p.version,
        )
        return found[:limit]


class _Customers:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, customer: Customer) -> None:
        slot = (customer.org_id, customer.id)
        if slot in self.s.customers:
            raise Conflict(f"customer {customer.id}")
        self.s.customers[slot] = customer

    def get(self, org_id: str, customer_id: str) -> Customer | None:
        return self.s.customers.get((org_id, customer_id))

    def list(self, org_id: str, after: str | None, limit: int) -> Sequence[Customer]:
        found = sorted(
            (c for (o, i), c in self.s.customers.items() if o == org_id and i > (after or "")),
            key=lambda c: c.id,
        )
        return found[:limit]

    def update(self, customer: Customer, expected_version: int) -> bool:
        current = self.get(customer.org_id, customer.id)
        if current is None or current.version != expected_version:
            return False
        self.s.customers[(customer.org_id, customer.id)] = replace(
            customer, created_at=current.created_at
        )
        return True


class _Audit:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, entry: AuditEntry) -> None:
        slot = (entry.org_id, entry.seq)
        if slot in self.s.audit:
            raise Conflict(f"audit entry {entry.seq}")
        self.s.audit[slot] = entry

    def list(self, org_id: str, after: int | None, limit: int) -> Sequence[AuditEntry]:
        return [e for e in self.all(org_id) if e.seq > (after or 0)][:limit]

    def all(self, org_id: str) -> Sequence[AuditEntry]:
        return sorted((e for (o, _), e in self.s.audit.items() if o == org_id), key=lambda e: e.seq)


class _Idempotency:
    def __init__(self, state: _State) -> None:
        self.s = state

    def get(self, scope: str, key: str) -> StoredResponse | None:
        return self.s.idempotency.get((scope, key))

    def claim(self, scope: str, key: str, request_sha256: str, at: datetime) -> bool:
        if (scope, key) in self.s.idempotency:
            return False
        self.s.idempotency[(scope, key)] = StoredResponse(
            request_sha256, "in-flight", None, None, None, at
        )
        return True

    def finish(self, scope: str, key: str, status_code: int, content_type: str, body: str) -> None:
        stored = self.s.idempotency[(scope, key)]
        self.s.idempotency[(scope, key)] = replace(
            stored, state="done", status_code=status_code, content_type=content_type, body=body
        )

    def release(self, scope: str, key: str) -> None:
        self.s.idempotency.pop((scope, key), None)


class _Tickets:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, ticket: Ticket) -> None:
        if (ticket.org_id, ticket.id) in self.s.tickets:
            raise Conflict(f"ticket {ticket.id}")
        self.s.tickets[(ticket.org_id, ticket.id)] = ticket

    def get(self, org_id: str, ticket_id: str) -> Ticket | None:
        return self.s.tickets.get((org_id, ticket_id))

    def list(
        self, org_id: str, after: str | None, limit: int, customer_id: str | None = None
    ) -> Sequence[Ticket]:
        found = sorted(
            (
                t
                for (o, i), t in self.s.tickets.items()
                if o == org_id
                and i > (after or "")
                and (customer_id is None or t.customer_id == customer_id)
            ),
            key=lambda t: t.id,
        )
        return found[:limit]

    def add_event(self, event: TicketEventRecord) -> None:
        slot = (event.org_id, event.ticket_id, event.seq)
        if slot in self.s.ticket_events:
            raise Conflict(f"event {event.seq}")
        self.s.ticket_events[slot] = event

    def events(self, org_id: str, ticket_id: str) -> Sequence[TicketEventRecord]:
        return sorted(
            (e for (o, t, _), e in self.s.ticket_events.items() if o == org_id and t == ticket_id),
            key=lambda e: e.seq,
        )

    def set_policy_version(self, org_id: str, ticket_id: str, version: int) -> None:
        ticket = self.s.tickets[(org_id, ticket_id)]
        self.s.tickets[(org_id, ticket_id)] = replace(ticket, policy_version=version)


class _Outbox:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, message: OutboxMessage) -> bool:
        slot = (message.org_id, message.dedupe_key)
        if slot in self.s.outbox:
            return False
        self.s.outbox[slot] = message
        return True

    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        found = sorted(
            (
                m
                for m in self.s.outbox.values()
                if m.delivered_at is None and m.dead_at is None and m.next_attempt_at <= now
            ),
            key=lambda m: (m.created_at, m.dedupe_key),
        )
        return found[:limit]

    def delivered(self, org_id: str, dedupe_key: str, at: datetime) -> None:
        message = self.s.outbox[(org_id, dedupe_key)]
        self.s.outbox[(org_id, dedupe_key)] = replace(
            message, delivered_at=at, attempts=message.attempts + 1, last_error=None
        )

    def failed(
        self,
        org_id: str,
        dedupe_key: str,
        error: str,
        next_attempt_at: datetime,
        dead_at: datetime | None = None,
    ) -> None:
        message = self.s.outbox[(org_id, dedupe_key)]
        self.s.outbox[(org_id, dedupe_key)] = replace(
            message,
            attempts=message.attempts + 1,
            last_error=error,
            next_attempt_at=next_attempt_at,
            dead_at=dead_at,
        )

    def list(self, org_id: str) -> Sequence[OutboxMessage]:
        return sorted(
            (m for (o, _), m in self.s.outbox.items() if o == org_id), key=lambda m: m.created_at
        )


class _Incidents:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, incident: Incident) -> None:
        if (incident.org_id, incident.id) in self.s.incidents:
            raise Conflict(f"incident {incident.id}")
        self.s.incidents[(incident.org_id, incident.id)] = incident

    def get(self, org_id: str, incident_id: str) -> Incident | None:
        return self.s.incidents.get((org_id, incident_id))

    def list(self, org_id: str, after: str | None, limit: int) -> Sequence[Incident]:
        found = sorted(
            (i for (o, k), i in self.s.incidents.items() if o == org_id and k > (after or "")),
            key=lambda i: i.id,
        )
        return found[:limit]

    def add_update(self, update: IncidentUpdate) -> None:
        slot = (update.org_id, update.incident_id, update.seq)
        if slot in self.s.incident_updates:
            raise Conflict(f"update {update.seq}")
        self.s.incident_updates[slot] = update

    def updates(self, org_id: str, incident_id: str) -> Sequence[IncidentUpdate]:
        return sorted(
            (u for (o, i, _), u in self.s.incident_updates.items()
             if o == org_id and i == incident_id),
            key=lambda u: u.seq,
        )  # fmt: skip

    def set_exclusions(
        self, org_id: str, incident_id: str, exclusions: Sequence[dict[str, Any]]
    ) -> None:
        incident = self.s.incidents[(org_id, incident_id)]
        self.s.incidents[(org_id, incident_id)] = replace(incident, exclusions=tuple(exclusions))

    def set_postmortem(self, org_id: str, incident_id: str, text: str, at: datetime) -> None:
        incident = self.s.incidents[(org_id, incident_id)]
        self.s.incidents[(org_id, incident_id)] = replace(
            incident, postmortem=text, postmortem_at=at
        )


class _Maintenance:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, window: MaintenanceWindow) -> None:
        if (window.org_id, window.id) in self.s.maintenance:
            raise Conflict(f"maintenance {window.id}")
        self.s.maintenance[(window.org_id, window.id)] = window

    def get(self, org_id: str, window_id: str) -> MaintenanceWindow | None:
        return self.s.maintenance.get((org_id, window_id))

    def list(self, org_id: str) -> Sequence[MaintenanceWindow]:
        return sorted(
            (w for (o, _), w in self.s.maintenance.items() if o == org_id),
            key=lambda w: (w.starts_at, w.id),
        )

    def complete(self, org_id: str, window_id: str, at: datetime) -> None:
        window = self.s.maintenance[(org_id, window_id)]
        self.s.maintenance[(org_id, window_id)] = replace(window, completed_at=at)


class _Subscribers:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, subscriber: Subscriber) -> None:
        if any(s.token_hash == subscriber.token_hash for s in self.s.subscribers.values()):
            raise Conflict("token")
        self.s.subscribers[(subscriber.org_id, subscriber.id)] = subscriber

    def by_token(self, token_hash: str) -> Subscriber | None:
        return next((s for s in self.s.subscribers.values() if s.token_hash == token_hash), None)

    def list(self, org_id: str) -> Sequence[Subscriber]:
        return sorted(
            (s for (o, _), s in self.s.subscribers.items() if o == org_id),
            key=lambda s: (s.created_at, s.id),
        )

    def confirm(self, org_id: str, subscriber_id: str, at: datetime) -> None:
        found = self.s.subscribers[(org_id, subscriber_id)]
        self.s.subscribers[(org_id, subscriber_id)] = replace(found, confirmed_at=at)

    def unsubscribe(self, org_id: str, subscriber_id: str, at: datetime) -> None:
        found = self.s.subscribers[(org_id, subscriber_id)]
        self.s.subscribers[(org_id, subscriber_id)] = replace(found, unsubscribed_at=at)


class _Measurements:
    def __init__(self, state: _State) -> None:
        self.s = state

    def batch(self, org_id: str, key: str) -> IngestBatch | None:
        return self.s.batches.get((org_id, key))

    def add_batch(self, batch: IngestBatch) -> None:
        if (batch.org_id, batch.key) in self.s.batches:
            raise Conflict(f"batch {batch.key}")
        self.s.batches[(batch.org_id, batch.key)] = batch

    def batches(self, org_id: str) -> Sequence[IngestBatch]:
        found = [b for (o, _), b in self.s.batches.items() if o == org_id]
        return sorted(found, key=lambda b: (b.received_at, b.key))

    def merge_requests(self, org_id: str, buckets: Sequence[RequestBucket]) -> None:
        for b in buckets:
            key = (org_id, b.component, b.region, b.minute)
            old = self.s.requests.get(key)
            statuses = dict(old.statuses) if old else {}
            sketch = LatencySketch()
            if old:
                sketch.merge(old.latency)
            for status, count in b.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
            sketch.merge(b.latency)
            self.s.requests[key] = RequestBucket(b.component, b.region, b.minute, statuses, sketch)

    def merge_customer_errors(self, org_id: str, rows: Sequence[CustomerErrors]) -> None:
        for r in rows:
            key = (org_id, r.customer, r.component, r.minute)
            self.s.customer_errors[key] = self.s.customer_errors.get(key, 0) + r.errors

    def merge_probes(self, org_id: str, buckets: Sequence[ProbeBucket]) -> None:
        for b in buckets:
            key = (org_id, b.component, b.region, b.minute)
            old = self.s.probes.get(key)
            self.s.probes[key] = (
                replace(b, total=old.total + b.total, failed=old.failed + b.failed) if old else b
            )

    def merge_samples(self, org_id: str, buckets: Sequence[SampleBucket]) -> None:
        for b in buckets:
            key = (org_id, b.component, b.minute)
            old = self.s.samples.get(key)
            under = dict(old.under) if old else {}
            for threshold, count in b.under.items():
                under[threshold] = under.get(threshold, 0) + count
            total = (old.total if old else 0) + b.total
            self.s.samples[key] = SampleBucket(b.component, b.minute, total, under)

    def add_checks(self, org_id: str, checks: Sequence[IntegrityCheck]) -> None:
        for c in checks:
            self.s.checks[(org_id, c.batch_key, c.index)] = c

    def add_reconciliations(self, org_id: str, rows: Sequence[Reconciliation]) -> None:
        for r in rows:
            self.s.reconciliations[(org_id, r.batch_key, r.index)] = r

    def requests(
        self, org_id: str, start: datetime, end: datetime, component: str | None = None
    ) -> Sequence[RequestBucket]:
        found = [
            b
            for (o, c, _, m), b in self.s.requests.items()
            if o == org_id and start <= m < end and component in (None, c)
        ]
        return sorted(found, key=lambda b: (b.minute, b.component, b.region))

    def customer_errors(
        self, org_id: str, start: datetime, end: datetime, customer: str | None = None
    ) -> Sequence[CustomerErrors]:
        found = [
            CustomerErrors(cu, co, m, errors)
            for (o, cu, co, m), errors in self.s.customer_errors.items()
            if o == org_id and start <= m < end and customer in (None, cu)
        ]
        return sorted(found, key=lambda r: (r.minute, r.customer, r.component))

    def probes(self, org_id: str, start: datetime, end: datetime) -> Sequence[ProbeBucket]:
        found = [b for (o, *_), b in self.s.probes.items() if o == org_id]
        return sorted(
            (b for b in found if start <= b.minute < end),
            key=lambda b: (b.minute, b.component, b.region),
        )

    def samples(self, org_id: str, start: datetime, end: datetime) -> Sequence[SampleBucket]:
        found = [b for (o, *_), b in self.s.samples.items() if o == org_id]
        return sorted(
            (b for b in found if start <= b.minute < end), key=lambda b: (b.minute, b.component)
        )

    def checks(self, org_id: str) -> Sequence[IntegrityCheck]:
        found = [c for (o, *_), c in self.s.checks.items() if o == org_id]
        return sorted(found, key=lambda c: (c.at, c.index))

    def reconciliations(self, org_id: str) -> Sequence[Reconciliation]:
        found = [r for (o, *_), r in self.s.reconciliations.items() if o == org_id]
        return sorted(found, key=lambda r: (r.at, r.index))

    def alert_states(self, org_id: str) -> Sequence[AlertStateRecord]:
        found = [a for (o, *_), a in self.s.alerts.items() if o == org_id]
        return sorted(found, key=lambda a: (a.slo_id, a.rule_index))

    def put_alert_state(self, record: AlertStateRecord) -> None:
        self.s.alerts[(record.org_id, record.slo_id, record.rule_index)] = record


class _Operators:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, operator: Operator) -> None:
        if self.by_email(operator.email) or (operator.org_id, operator.id) in self.s.operators:
            raise Conflict(f"operator {operator.email}")
        self.s.operators[(operator.org_id, operator.id)] = operator

    def by_email(self, email: str) -> Operator | None:
        return next((o for o in self.s.operators.values() if o.email == email), None)

    def get(self, org_id: str, operator_id: str) -> Operator | None:
        return self.s.operators.get((org_id, operator_id))

    def list(self, org_id: str) -> Sequence[Operator]:
        found = [o for (org, _), o in self.s.operators.items() if org == org_id]
        return sorted(found, key=lambda o: o.email)


class _Closes:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add_data_loss(self, event: DataLossEvent) -> None:
        if (event.org_id, event.id) in self.s.data_loss:
            raise Conflict(f"data loss {event.id}")
        self.s.data_loss[(event.org_id, event.id)] = event

    def data_loss(self, org_id: str) -> Sequence[DataLossEvent]:
        found = [e for (o, _), e in self.s.data_loss.items() if o == org_id]
        return sorted(found, key=lambda e: (e.at, e.id))

    def add_close(self, close: PeriodClose) -> None:
        key = (close.org_id, close.period, close.revision)
        if key in self.s.closes:
            raise Conflict(f"close {close.period} revision {close.revision}")
        self.s.closes[key] = close

    def closes(self, org_id: str, period: str | None = None) -> Sequence[PeriodClose]:
        found = [c for (o, p, _), c in self.s.closes.items() if o == org_id and period in (None, p)]
        return sorted(found, key=lambda c: (c.period, c.revision))

    def add_report(self, report: PeriodReport) -> None:
        key = (report.org_id, report.period, report.customer_id, report.revision)
        if key in self.s.reports:
            raise Conflict("report")
        self.s.reports[key] = report

    def report(
        self, org_id: str, period: str, customer_id: str, revision: int | None = None
    ) -> PeriodReport | None:
        found = [
            r
            for (o, p, c, n), r in self.s.reports.items()
            if (o, p, c) == (org_id, period, customer_id) and revision in (None, n)
        ]
        return max(found, key=lambda r: r.revision, default=None)

    def add_credit(self, credit: Credit) -> None:
        if (credit.org_id, credit.id) in self.s.credits:
            raise Conflict(f"credit {credit.id}")
        self.s.credits[(credit.org_id, credit.id)] = credit

    def put_credit(self, credit: Credit) -> None:
        self.s.credits[(credit.org_id, credit.id)] = credit

    def credit(self, org_id: str, credit_id: str) -> Credit | None:
        return self.s.credits.get((org_id, credit_id))

    def credits(
        self, org_id: str, period: str | None = None, customer_id: str | None = None
    ) -> Sequence[Credit]:
        found = [
            c
            for (o, _), c in self.s.credits.items()
            if o == org_id and period in (None, c.period) and customer_id in (None, c.customer_id)
        ]
        return sorted(found, key=lambda c: (c.period, c.customer_id, c.id))

    def ledger_head(self, org_id: str) -> tuple[int, str]:
        return self.s.ledger_heads.get(org_id, (0, ""))

    def append_ledger(self, entry: LedgerEntry) -> None:
        if (entry.org_id, entry.seq) in self.s.ledger:
            raise Conflict("ledger")
        self.s.ledger[(entry.org_id, entry.seq)] = entry
        self.s.ledger_heads[entry.org_id] = (entry.seq, entry.hash)

    def ledger(self, org_id: str) -> Sequence[LedgerEntry]:
        return sorted(
            (e for (o, _), e in self.s.ledger.items() if o == org_id), key=lambda e: e.seq
        )


class MemoryUnitOfWork:
    organisations: _Organisations
    keys: _Keys
    policies: _Policies
    customers: _Customers
    audit: _Audit
    idempotency: _Idempotency
    tickets: _Tickets
    outbox: _Outbox
    incidents: _Incidents
    maintenance: _Maintenance
    subscribers: _Subscribers
    measurements: _Measurements
    operators: _Operators
    closes: _Closes

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._committed = False

    def __enter__(self) -> MemoryUnitOfWork:
        self._store.lock.acquire()
        self._state = copy.copy(self._store.state)
        for name in self._store.state.__dataclass_fields__:
            setattr(self._state, name, dict(getattr(self._store.state, name)))
        self.organisations = _Organisations(self._state)
        self.keys = _Keys(self._state)
        self.policies = _Policies(self._state)
        self.customers = _Customers(self._state)
        self.audit = _Audit(self._state)
        self.idempotency = _Idempotency(self._state)
        self.tickets = _Tickets(self._state)
        self.outbox = _Outbox(self._state)
        self.incidents = _Incidents(self._state)
        self.maintenance = _Maintenance(self._state)
        self.subscribers = _Subscribers(self._state)
        self.measurements = _Measurements(self._state)
        self.operators = _Operators(self._state)
        self.closes = _Closes(self._state)
        return self

    def commit(self) -> None:
        self._store.state = self._state
        self._committed = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._store.lock.release()


class MemoryStore:
    """The fake's shared state; ``MemoryStore()`` is also the unit-of-work factory."""

    def __init__(self) -> None:
        self.state = _State()
        self.lock = threading.RLock()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)
