"""The SQL implementation of the store ports (SQLite and PostgreSQL through SQLAlchemy Core)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    and_,
    bindparam,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError

from slakeeper.adapters.store.tables import (
    alert_states,
    api_keys,
    audit_log,
    credits,
    customer_errors,
    customers,
    data_loss_events,
    idempotency_keys,
    incident_updates,
    incidents,
    ingest_batches,
    integrity_checks,
    ledger_entries,
    ledger_heads,
    maintenance_windows,
    operators,
    organisations,
    outbox,
    period_closes,
    period_reports,
    policy_versions,
    probe_buckets,
    reconciliations,
    request_buckets,
    sample_buckets,
    subscribers,
    ticket_events,
    tickets,
)
from slakeeper.domain.sketch import LatencySketch
from slakeeper.services.ports import Conflict, StoreUnavailable
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
    Scope,
    StoredResponse,
    Subscriber,
    Ticket,
    TicketEventRecord,
)


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def _execute(self, statement: Any, parameters: Any = None) -> Any:
        try:
            return self.c.execute(statement, parameters)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc


class SqlOrganisations(_Repository):
    def add(self, org: Organisation) -> None:
        self._execute(
            insert(organisations).values(
                id=org.id,
                slug=org.slug,
                name=org.name,
                active_policy_version=org.active_policy_version,
                audit_head_seq=org.audit_head_seq,
                audit_head_hash=org.audit_head_hash,
                created_at=org.created_at,
            )
        )

    def get(self, org_id: str) -> Organisation | None:
        row = self.c.execute(select(organisations).where(organisations.c.id == org_id)).first()
        return _org(row) if row else None

    def by_slug(self, slug: str) -> Organisation | None:
        row = self.c.execute(select(organisations).where(organisations.c.slug == slug)).first()
        return _org(row) if row else None

    def all(self) -> Sequence[Organisation]:
        rows = self.c.execute(select(organisations).order_by(organisations.c.slug))
        return [_org(row) for row in rows]

    def lock(self, org_id: str) -> Organisation:
        """The organisation row, locked until the transaction ends (serialises its audit).

        ``FOR NO KEY UPDATE``: inserting a row that references the organisation takes
        ``FOR KEY SHARE`` on it, which a plain ``FOR UPDATE`` would wait for, so two
        transactions that each inserted such a row would deadlock.
        """
        statement = select(organisations).where(organisations.c.id == org_id)
        if self.c.dialect.name == "postgresql":
            statement = statement.with_for_update(key_share=True)
        row = self.c.execute(statement).first()
        if row is None:
            raise LookupError(org_id)
        return _org(row)

    def set_active_policy(self, org_id: str, version: int | None) -> None:
        self.c.execute(
            update(organisations)
            .where(organisations.c.id == org_id)
            .values(active_policy_version=version)
        )

    def set_audit_head(self, org_id: str, seq: int, head_hash: str) -> None:
        self.c.execute(
            update(organisations)
            .where(organisations.c.id == org_id)
            .values(audit_head_seq=seq, audit_head_hash=head_hash)
        )


class SqlKeys(_Repository):
    def add(self, key: ApiKey) -> None:
        self._execute(
            insert(api_keys).values(
                id=key.id,
                org_id=key.org_id,
                name=key.name,
                prefix=key.prefix,
                key_hash=key.key_hash,
                scopes=",".join(sorted(scope.value for scope in key.scopes)),
                customer_id=key.customer_id,
                created_at=key.created_at,
                created_by=key.created_by,
                revoked_at=key.revoked_at,
                last_used_at=key.last_used_at,
            )
        )

    def by_hash(self, key_hash: str) -> ApiKey | None:
        row = self.c.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return _key(row) if row else None

    def get(self, org_id: str, key_id: str) -> ApiKey | None:
        row = self.c.execute(
            select(api_keys).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)
        ).first()
        return _key(row) if row else None

    def list(self, org_id: str) -> Sequence[ApiKey]:
        rows = self.c.execute(
            select(api_keys)
            .where(api_keys.c.org_id == org_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        return [_key(row) for row in rows]

    def revoke(self, org_id: str, key_id: str, at: datetime) -> None:
        self.c.execute(
            update(api_keys)
            .where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)
            .values(revoked_at=at)
        )

    def touch(self, key_id: str, at: datetime) -> None:
        self.c.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))


class SqlPolicies(_Repository):
    def add(self, version: PolicyVersion) -> None:
        self._execute(
            insert(policy_versions).values(
                org_id=version.org_id,
                version=version.version,
                name=version.name,
                sha256=version.sha256,
                source=version.source,
                author_key_id=version.author_key_id,
                created_at=version.created_at,
            )
        )

    def get(self, org_id: str, version: int) -> PolicyVersion | None:
        row = self.c.execute(
            select(policy_versions).where(
                policy_versions.c.org_id == org_id, policy_versions.c.version == version
            )
        ).first()
        return _policy(row) if row else None

    def latest_number(self, org_id: str) -> int:
        rows = self.c.execute(
            select(policy_versions.c.version)
            .where(policy_versions.c.org_id == org_id)
            .order_by(policy_versions.c.version.desc())
            .limit(1)
        ).first()
        return int(rows[0]) if rows else 0

    def list(self, org_id: str, after: int | None, limit: int) -> Sequence[PolicyVersion]:
        statement = select(policy_versions).where(policy_versions.c.org_id == org_id)
        if after is not None:
            statement = statement.where(policy_versions.c.version > after)
        rows = self.c.execute(statement.order_by(policy_versions.c.version).limit(limit))
        return [_policy(row) for row in rows]


class SqlCustomers(_Repository):
    def add(self, customer: Customer) -> None:
        self._execute(insert(customers).values(**_customer_values(customer)))

    def get(self, org_id: str, customer_id: str) -> Customer | None:
        row = self.c.execute(
            select(customers).where(customers.c.org_id == org_id, customers.c.id == customer_id)
        ).first()
        return _customer(row) if row else None

    def list(self, org_id: str, after: str | None, limit: int) -> Sequence[Customer]:
        statement = select(customers).where(customers.c.org_id == org_id)
        if after is not None:
            statement = statement.where(customers.c.id > after)
        rows = self.c.execute(statement.order_by(customers.c.id).limit(limit))
        return [_customer(row) for row in rows]

    def update(self, customer: Customer, expected_version: int) -> bool:
        values = _customer_values(customer)
        del values["created_at"]
        result = self.c.execute(
            update(customers)
            .where(
                customers.c.org_id == customer.org_id,
                customers.c.id == customer.id,
                customers.c.version == expected_version,
            )
            .values(**values)
        )
        return bool(result.rowcount == 1)


class SqlAudit(_Repository):
    def add(self, entry: AuditEntry) -> None:
        self._execute(
            insert(audit_log).values(
                org_id=entry.org_id,
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                entity_type=entry.entity_type,
                entity_id=entry.entity_id,
                before=entry.before,
                after=entry.after,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )

    def list(self, org_id: str, after: int | None, limit: int) -> Sequence[AuditEntry]:
        statement = select(audit_log).where(audit_log.c.org_id == org_id)
        if after is not None:
            statement = statement.where(audit_log.c.seq > after)
        rows = self.c.execute(statement.order_by(audit_log.c.seq).limit(limit))
        return [_audit(row) for row in rows]

    def all(self, org_id: str) -> Sequence[AuditEntry]:
        rows = self.c.execute(
            select(audit_log).where(audit_log.c.org_id == org_id).order_by(audit_log.c.seq)
        )
        return [_audit(row) for row in rows]


class SqlIdempotency(_Repository):
    def get(self, scope: str, key: str) -> StoredResponse | None:
        row = self.c.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        ).first()
        if row is None:
            return None
        return StoredResponse(
            request_sha256=row.request_sha256,
            state=row.state,
            status_code=row.status_code,
            content_type=row.content_type,
            body=row.body,
            created_at=row.created_at,
        )

    def claim(self, scope: str, key: str, request_sha256: str, at: datetime) -> bool:
        try:
            with self.c.begin_nested():
                self.c.execute(
                    insert(idempotency_keys).values(
                        scope=scope,
                        key=key,
                        request_sha256=request_sha256,
                        state="in-flight",
                        created_at=at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def finish(self, scope: str, key: str, status_code: int, content_type: str, body: str) -> None:
        self.c.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(state="done", status_code=status_code, content_type=content_type, body=body)
        )

    def release(self, scope: str, key: str) -> None:
        self.c.execute(
            idempotency_keys.delete().where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        )


class SqlTickets(_Repository):
    def add(self, ticket: Ticket) -> None:
        self._execute(insert(tickets).values(**ticket.__dict__))

    def get(self, org_id: str, ticket_id: str) -> Ticket | None:
        row = self.c.execute(
            select(tickets).where(tickets.c.org_id == org_id, tickets.c.id == ticket_id)
        ).first()
        return Ticket(**row._mapping) if row else None

    def list(
        self, org_id: str, after: str | None, limit: int, customer_id: str | None = None
    ) -> Sequence[Ticket]:
        statement = select(tickets).where(tickets.c.org_id == org_id)
        if after is not None:
            statement = statement.where(tickets.c.id > after)
        if customer_id is not None:
            statement = statement.where(tickets.c.customer_id == customer_id)
        rows = self.c.execute(statement.order_by(tickets.c.id).limit(limit))
        return [Ticket(**row._mapping) for row in rows]

    def add_event(self, event: TicketEventRecord) -> None:
        self._execute(insert(ticket_events).values(**event.__dict__))

    def events(self, org_id: str, ticket_id: str) -> Sequence[TicketEventRecord]:
        rows = self.c.execute(
            select(ticket_events)
            .where(ticket_events.c.org_id == org_id, ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.seq)
        )
        return [TicketEventRecord(**row._mapping) for row in rows]

    def set_policy_version(self, org_id: str, ticket_id: str, version: int) -> None:
        self.c.execute(
            update(tickets)
            .where(tickets.c.org_id == org_id, tickets.c.id == ticket_id)
            .values(policy_version=version)
        )


class SqlOutbox(_Repository):
    def add(self, message: OutboxMessage) -> bool:
        """Write ``message`` unless one with its dedupe key exists (then False)."""
        try:
            with self.c.begin_nested():
                self.c.execute(insert(outbox).values(**message.__dict__))
        except IntegrityError:
            return False
        return True

    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        statement = (
            select(outbox)
            .where(
                outbox.c.delivered_at.is_(None),
                outbox.c.dead_at.is_(None),
                outbox.c.next_attempt_at <= now,
            )
            .order_by(outbox.c.created_at, outbox.c.dedupe_key)
            .limit(limit)
        )
        if self.c.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return [OutboxMessage(**row._mapping) for row in self.c.execute(statement)]

    def delivered(self, org_id: str, dedupe_key: str, at: datetime) -> None:
        self.c.execute(
            update(outbox)
            .where(outbox.c.org_id == org_id, outbox.c.dedupe_key == dedupe_key)
            .values(delivered_at=at, attempts=outbox.c.attempts + 1, last_error=None)
        )

    def failed(
        self,
        org_id: str,
        dedupe_key: str,
        error: str,
        next_attempt_at: datetime,
        dead_at: datetime | None = None,
    ) -> None:
        self.c.execute(
            update(outbox)
            .where(outbox.c.org_id == org_id, outbox.c.dedupe_key == dedupe_key)
            .values(
                attempts=outbox.c.attempts + 1,
                last_error=error,
                next_attempt_at=next_attempt_at,
                dead_at=dead_at,
            )
        )

    def list(self, org_id: str) -> Sequence[OutboxMessage]:
        rows = self.c.execute(
            select(outbox).where(outbox.c.org_id == org_id).order_by(outbox.c.created_at)
        )
        return [OutboxMessage(**row._mapping) for row in rows]


class SqlIncidents(_Repository):
    def add(self, incident: Incident) -> None:
        values = {**incident.__dict__}
        values["customers"] = json.dumps(list(incident.customers))
        values["fields"] = json.dumps(incident.fields, sort_keys=True)
        values["exclusions"] = json.dumps(list(incident.exclusions), sort_keys=True)
        self._execute(insert(incidents).values(**values))

    def get(self, org_id: str, incident_id: str) -> Incident | None:
        row = self.c.execute(
            select(incidents).where(incidents.c.org_id == org_id, incidents.c.id == incident_id)
        ).first()
        return _incident(row) if row else None

    def list(self, org_id: str, after: str | None, limit: int) -> Sequence[Incident]:
        statement = select(incidents).where(incidents.c.org_id == org_id)
        if after is not None:
            statement = statement.where(incidents.c.id > after)
        rows = self.c.execute(statement.order_by(incidents.c.id).limit(limit))
        return [_incident(row) for row in rows]

    def add_update(self, update: IncidentUpdate) -> None:
        values = {**update.__dict__}
        values["components"] = json.dumps(update.components, sort_keys=True)
        values["notify"] = int(update.notify)
        self._execute(insert(incident_updates).values(**values))

    def updates(self, org_id: str, incident_id: str) -> Sequence[IncidentUpdate]:
        rows = self.c.execute(
            select(incident_updates)
            .where(
                incident_updates.c.org_id == org_id,
                incident_updates.c.incident_id == incident_id,
            )
            .order_by(incident_updates.c.seq)
        )
        return [
            IncidentUpdate(
                org_id=row.org_id,
                incident_id=row.incident_id,
                seq=row.seq,
                at=row.at,
                status=row.status,
                message=row.message,
                components=json.loads(row.components),
                notify=bool(row.notify),
                actor=row.actor,
            )
            for row in rows
        ]

    def set_exclusions(
        self, org_id: str, incident_id: str, exclusions: Sequence[dict[str, Any]]
    ) -> None:
        self.c.execute(
            update(incidents)
            .where(incidents.c.org_id == org_id, incidents.c.id == incident_id)
            .values(exclusions=json.dumps(list(exclusions), sort_keys=True))
        )

    def set_postmortem(self, org_id: str, incident_id: str, text: str, at: datetime) -> None:
        self.c.execute(
            update(incidents)
            .where(incidents.c.org_id == org_id, incidents.c.id == incident_id)
            .values(postmortem=text, postmortem_at=at)
        )


class SqlMaintenance(_Repository):
    def add(self, window: MaintenanceWindow) -> None:
        values = {**window.__dict__, "components": json.dumps(list(window.components))}
        self._execute(insert(maintenance_windows).values(**values))

    def get(self, org_id: str, window_id: str) -> MaintenanceWindow | None:
        row = self.c.execute(
            select(maintenance_windows).where(
                maintenance_windows.c.org_id == org_id, maintenance_windows.c.id == window_id
            )
        ).first()
        return _window(row) if row else None

    def list(self, org_id: str) -> Sequence[MaintenanceWindow]:
        rows = self.c.execute(
            select(maintenance_windows)
            .where(maintenance_windows.c.org_id == org_id)
            .order_by(maintenance_windows.c.starts_at, maintenance_windows.c.id)
        )
        return [_window(row) for row in rows]

    def complete(self, org_id: str, window_id: str, at: datetime) -> None:
        self.c.execute(
            update(maintenance_windows)
            .where(maintenance_windows.c.org_id == org_id, maintenance_windows.c.id == window_id)
            .values(completed_at=at)
        )


class SqlSubscribers(_Repository):
    def add(self, subscriber: Subscriber) -> None:
        values = {**subscriber.__dict__, "components": json.dumps(list(subscriber.components))}
        self._execute(insert(subscribers).values(**values))

    def by_token(self, token_hash: str) -> Subscriber | None:
        row = self.c.execute(
            select(subscribers).where(subscribers.c.token_hash == token_hash)
        ).first()
        return _subscriber(row) if row else None

    def list(self, org_id: str) -> Sequence[Subscriber]:
        rows = self.c.execute(
            select(subscribers)
            .where(subscribers.c.org_id == org_id)
            .order_by(subscribers.c.created_at, subscribers.c.id)
        )
        return [_subscriber(row) for row in rows]

    def confirm(self, org_id: str, subscriber_id: str, at: datetime) -> None:
        self.c.execute(
            update(subscribers)
            .where(subscribers.c.org_id == org_id, subscribers.c.id == subscriber_id)
            .values(confirmed_at=at)
        )

    def unsubscribe(self, org_id: str, subscriber_id: str, at: datetime) -> None:
        self.c.execute(
            update(subscribers)
            .where(subscribers.c.org_id == org_id, subscribers.c.id == subscriber_id)
            .values(unsubscribed_at=at)
        )


def _subscriber(row: Row[Any]) -> Subscriber:
    values = dict(row._mapping)
    values["components"] = tuple(json.loads(values["components"]))
    return Subscriber(**values)


def _incident(row: Row[Any]) -> Incident:
    values = dict(row._mapping)
    values["customers"] = tuple(json.loads(values["customers"]))
    values["fields"] = json.loads(values["fields"])
    values["exclusions"] = tuple(json.loads(values["exclusions"]))
    return Incident(**values)


def _window(row: Row[Any]) -> MaintenanceWindow:
    values = dict(row._mapping)
    values["components"] = tuple(json.loads(values["components"]))
    return MaintenanceWindow(**values)


class SqlMeasurements(_Repository):
    """Minute aggregates merged in place: the rows a batch touches are read (locked on
    PostgreSQL, in key order so two writers cannot deadlock), added to, and written back."""

    def batch(self, org_id: str, key: str) -> IngestBatch | None:
        row = self.c.execute(
            select(ingest_batches).where(
                ingest_batches.c.org_id == org_id, ingest_batches.c.key == key
            )
        ).first()
        return None if row is None else _batch(row)

    def add_batch(self, batch: IngestBatch) -> None:
        values = dict(batch.__dict__)
        values["counts"] = json.dumps(batch.counts, sort_keys=True)
        values["answer"] = json.dumps(batch.answer, sort_keys=True)
        self._execute(insert(ingest_batches).values(**values))

    def batches(self, org_id: str) -> Sequence[IngestBatch]:
        rows = self.c.execute(
            select(ingest_batches)
            .where(ingest_batches.c.org_id == org_id)
            .order_by(ingest_batches.c.received_at, ingest_batches.c.key)
        )
        return [_batch(row) for row in rows]

    def _merge(
        self,
        table: Table,
        org_id: str,
        key_columns: Sequence[str],
        rows: Mapping[tuple[Any, ...], dict[str, Any]],
        combine: Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]],
    ) -> None:
        if not rows:
            return
        keys = sorted(rows)
        columns = [table.c[name] for name in key_columns]
        existing: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        for chunk in range(0, len(keys), 400):
            part = keys[chunk : chunk + 400]
            statement = (
                select(table)
                .where(table.c.org_id == org_id, tuple_(*columns).in_(part))
                .order_by(*columns)
            )
            if self.c.dialect.name == "postgresql":
                statement = statement.with_for_update()
            for row in self.c.execute(statement):
                mapping = row._mapping
                existing[tuple(mapping[name] for name in key_columns)] = dict(mapping)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for key in keys:
            identity = dict(zip(key_columns, key, strict=True))
            if key in existing:
                merged = combine(existing[key], rows[key])
                updates.append(
                    {
                        **{f"k_{k}": v for k, v in identity.items()},
                        **{f"v_{k}": v for k, v in merged.items()},
                    }
                )
            else:
                inserts.append({"org_id": org_id, **identity, **rows[key]})
        if inserts:
            self._execute(insert(table), inserts)
        if updates:
            value_names = [name[2:] for name in updates[0] if name.startswith("v_")]
            change = (
                update(table)
                .where(
                    and_(
                        table.c.org_id == org_id,
                        *(table.c[name] == bindparam(f"k_{name}") for name in key_columns),
                    )
                )
                .values({name: bindparam(f"v_{name}") for name in value_names})
            )
            self._execute(change, updates)

    def merge_requests(self, org_id: str, buckets: Sequence[RequestBucket]) -> None:
        rows = {(b.component, b.region, b.minute): _request_values(b) for b in buckets}

        def combine(old: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
            statuses = {int(k): v for k, v in json.loads(old["statuses"]).items()}
            for status, count in json.loads(new["statuses"]).items():
                statuses[int(status)] = statuses.get(int(status), 0) + count
            sketch = LatencySketch.from_json(json.loads(old["latency"]))
            sketch.merge(LatencySketch.from_json(json.loads(new["latency"])))
            return _request_values(RequestBucket("", "", old["minute"], statuses, sketch))

        self._merge(request_buckets, org_id, ("component", "region", "minute"), rows, combine)

    def merge_customer_errors(self, org_id: str, rows: Sequence[CustomerErrors]) -> None:
        self._merge(
            customer_errors,
            org_id,
            ("customer", "component", "minute"),
            {(r.customer, r.component, r.minute): {"errors": r.errors} for r in rows},
            lambda old, new: {"errors": old["errors"] + new["errors"]},
        )

    def merge_probes(self, org_id: str, buckets: Sequence[ProbeBucket]) -> None:
        self._merge(
            probe_buckets,
            org_id,
            ("component", "region", "minute"),
            {(b.component, b.region, b.minute): {"total": b.total, "failed": b.failed}
             for b in buckets},
            lambda old, new: {
                "total": old["total"] + new["total"], "failed": old["failed"] + new["failed"]
            },
        )  # fmt: skip

    def merge_samples(self, org_id: str, buckets: Sequence[SampleBucket]) -> None:
        def combine(old: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
            under = json.loads(old["under"])
            for threshold, count in json.loads(new["under"]).items():
                under[threshold] = under.get(threshold, 0) + count
            return {"total": old["total"] + new["total"], "under": json.dumps(under)}

        self._merge(
            sample_buckets,
            org_id,
            ("component", "minute"),
            {(b.component, b.minute): {"total": b.total, "under": json.dumps(
                {str(k): v for k, v in sorted(b.under.items())})} for b in buckets},
            combine,
        )  # fmt: skip

    def add_checks(self, org_id: str, checks: Sequence[IntegrityCheck]) -> None:
        if checks:
            self._execute(
                insert(integrity_checks),
                [{"org_id": org_id, "idx": c.index,
                  **{k: v for k, v in c.__dict__.items() if k != "index"}} for c in checks],
            )  # fmt: skip

    def add_reconciliations(self, org_id: str, rows: Sequence[Reconciliation]) -> None:
        if rows:
            self._execute(
                insert(reconciliations),
                [{"org_id": org_id, "idx": r.index,
                  **{k: v for k, v in r.__dict__.items() if k != "index"}} for r in rows],
            )  # fmt: skip

    def requests(
        self, org_id: str, start: datetime, end: datetime, component: str | None = None
    ) -> Sequence[RequestBucket]:
        t = request_buckets
        statement = select(t).where(t.c.org_id == org_id, t.c.minute >= start, t.c.minute < end)
        if component is not None:
            statement = statement.where(t.c.component == component)
        return [
            RequestBucket(
                row.component,
                row.region,
                row.minute,
                {int(k): v for k, v in json.loads(row.statuses).items()},
                LatencySketch.from_json(json.loads(row.latency)),
            )
            for row in self.c.execute(statement.order_by(t.c.minute))
        ]

    def customer_errors(
        self, org_id: str, start: datetime, end: datetime, customer: str | None = None
    ) -> Sequence[CustomerErrors]:
        t = customer_errors
        statement = select(t).where(t.c.org_id == org_id, t.c.minute >= start, t.c.minute < end)
        if customer is not None:
            statement = statement.where(t.c.customer == customer)
        rows = self.c.execute(statement.order_by(t.c.minute))
        return [CustomerErrors(r.customer, r.component, r.minute, r.errors) for r in rows]

    def probes(self, org_id: str, start: datetime, end: datetime) -> Sequence[ProbeBucket]:
        t = probe_buckets
        rows = self.c.execute(
            select(t)
            .where(t.c.org_id == org_id, t.c.minute >= start, t.c.minute < end)
            .order_by(t.c.minute)
        )
        return [ProbeBucket(r.component, r.region, r.minute, r.total, r.failed) for r in rows]

    def samples(self, org_id: str, start: datetime, end: datetime) -> Sequence[SampleBucket]:
        t = sample_buckets
        rows = self.c.execute(
            select(t)
            .where(t.c.org_id == org_id, t.c.minute >= start, t.c.minute < end)
            .order_by(t.c.minute)
        )
        return [
            SampleBucket(r.component, r.minute, r.total,
                         {int(k): v for k, v in json.loads(r.under).items()})
            for r in rows
        ]  # fmt: skip

    def checks(self, org_id: str) -> Sequence[IntegrityCheck]:
        t = integrity_checks
        rows = self.c.execute(select(t).where(t.c.org_id == org_id).order_by(t.c.at, t.c.idx))
        return [
            IntegrityCheck(r.batch_key, r.idx, r.at, r.component, r.name, r.expected, r.recorded)
            for r in rows
        ]

    def reconciliations(self, org_id: str) -> Sequence[Reconciliation]:
        t = reconciliations
        rows = self.c.execute(select(t).where(t.c.org_id == org_id).order_by(t.c.at, t.c.idx))
        return [
            Reconciliation(r.batch_key, r.idx, r.at, r.period, r.invoice_total, r.ledger_total)
            for r in rows
        ]

    def alert_states(self, org_id: str) -> Sequence[AlertStateRecord]:
        t = alert_states
        rows = self.c.execute(
            select(t).where(t.c.org_id == org_id).order_by(t.c.slo_id, t.c.rule_index)
        )
        return [AlertStateRecord(**row._mapping) for row in rows]

    def put_alert_state(self, record: AlertStateRecord) -> None:
        self._merge(
            alert_states,
            record.org_id,
            ("slo_id", "rule_index"),
            {(record.slo_id, record.rule_index): {
                "name": record.name, "state": record.state, "since": record.since,
                "updated_at": record.updated_at, "last_fired": record.last_fired}},
            lambda _old, new: new,
        )  # fmt: skip


class SqlOperators(_Repository):
    def add(self, operator: Operator) -> None:
        self._execute(insert(operators).values(**operator.__dict__))

    def by_email(self, email: str) -> Operator | None:
        row = self.c.execute(select(operators).where(operators.c.email == email)).first()
        return None if row is None else Operator(**row._mapping)

    def get(self, org_id: str, operator_id: str) -> Operator | None:
        row = self.c.execute(
            select(operators).where(operators.c.org_id == org_id, operators.c.id == operator_id)
        ).first()
        return None if row is None else Operator(**row._mapping)

    def list(self, org_id: str) -> Sequence[Operator]:
        rows = self.c.execute(
            select(operators).where(operators.c.org_id == org_id).order_by(operators.c.email)
        )
        return [Operator(**row._mapping) for row in rows]


class SqlCloses(_Repository):
    def add_data_loss(self, event: DataLossEvent) -> None:
        self._execute(insert(data_loss_events).values(**event.__dict__))

    def data_loss(self, org_id: str) -> Sequence[DataLossEvent]:
        t = data_loss_events
        rows = self.c.execute(select(t).where(t.c.org_id == org_id).order_by(t.c.at, t.c.id))
        return [DataLossEvent(**row._mapping) for row in rows]

    def add_close(self, close: PeriodClose) -> None:
        self._execute(insert(period_closes).values(**close.__dict__))

    def closes(self, org_id: str, period: str | None = None) -> Sequence[PeriodClose]:
        t = period_closes
        statement = select(t).where(t.c.org_id == org_id)
        if period is not None:
            statement = statement.where(t.c.period == period)
        rows = self.c.execute(statement.order_by(t.c.period, t.c.revision))
        return [PeriodClose(**row._mapping) for row in rows]

    def add_report(self, report: PeriodReport) -> None:
        self._execute(insert(period_reports).values(**report.__dict__))

    def report(
        self, org_id: str, period: str, customer_id: str, revision: int | None = None
    ) -> PeriodReport | None:
        t = period_reports
        statement = select(t).where(
            t.c.org_id == org_id, t.c.period == period, t.c.customer_id == customer_id
        )
        if revision is not None:
            statement = statement.where(t.c.revision == revision)
        row = self.c.execute(statement.order_by(t.c.revision.desc()).limit(1)).first()
        return None if row is None else PeriodReport(**row._mapping)

    def add_credit(self, credit: Credit) -> None:
        self._execute(insert(credits).values(**_credit_values(credit)))

    def put_credit(self, credit: Credit) -> None:
        values = _credit_values(credit)
        del values["org_id"], values["id"]
        self.c.execute(
            update(credits)
            .where(credits.c.org_id == credit.org_id, credits.c.id == credit.id)
            .values(**values)
        )

    def credit(self, org_id: str, credit_id: str) -> Credit | None:
        statement = select(credits).where(credits.c.org_id == org_id, credits.c.id == credit_id)
        if self.c.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = self.c.execute(statement).first()
        return None if row is None else _credit(row)

    def credits(
        self, org_id: str, period: str | None = None, customer_id: str | None = None
    ) -> Sequence[Credit]:
        t = credits
        statement = select(t).where(t.c.org_id == org_id)
        if period is not None:
            statement = statement.where(t.c.period == period)
        if customer_id is not None:
            statement = statement.where(t.c.customer_id == customer_id)
        rows = self.c.execute(statement.order_by(t.c.period, t.c.customer_id, t.c.id))
        return [_credit(row) for row in rows]

    def ledger_head(self, org_id: str) -> tuple[int, str]:
        statement = select(ledger_heads).where(ledger_heads.c.org_id == org_id)
        if self.c.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = self.c.execute(statement).first()
        if row is None:
            return 0, ""
        return int(row.seq), str(row.hash)

    def append_ledger(self, entry: LedgerEntry) -> None:
        self._execute(insert(ledger_entries).values(**entry.__dict__))
        changed = self.c.execute(
            update(ledger_heads)
            .where(ledger_heads.c.org_id == entry.org_id)
            .values(seq=entry.seq, hash=entry.hash)
        )
        if changed.rowcount == 0:
            self._execute(
                insert(ledger_heads).values(org_id=entry.org_id, seq=entry.seq, hash=entry.hash)
            )

    def ledger(self, org_id: str) -> Sequence[LedgerEntry]:
        t = ledger_entries
        rows = self.c.execute(select(t).where(t.c.org_id == org_id).order_by(t.c.seq))
        return [LedgerEntry(**row._mapping) for row in rows]


def _credit_values(credit: Credit) -> dict[str, Any]:
    values = dict(credit.__dict__)
    values["claim_required"] = int(credit.claim_required)
    values["claim"] = None if credit.claim is None else json.dumps(credit.claim, sort_keys=True)
    values["decision"] = (
        None if credit.decision is None else json.dumps(credit.decision, sort_keys=True)
    )
    return values


def _credit(row: Row[Any]) -> Credit:
    values = dict(row._mapping)
    values["claim_required"] = bool(values["claim_required"])
    values["claim"] = None if values["claim"] is None else json.loads(values["claim"])
    values["decision"] = None if values["decision"] is None else json.loads(values["decision"])
    return Credit(**values)


def _request_values(bucket: RequestBucket) -> dict[str, Any]:
    statuses = bucket.statuses
    return {
        "total": sum(statuses.values()),
        "errors_5xx": sum(c for s, c in statuses.items() if 500 <= s <= 599),
        "errors_4xx": sum(c for s, c in statuses.items() if 400 <= s <= 499),
        "throttled_429": statuses.get(429, 0),
        "statuses": json.dumps({str(k): statuses[k] for k in sorted(statuses)}),
        "latency": json.dumps(bucket.latency.to_json()),
    }


def _batch(row: Row[Any]) -> IngestBatch:
    return IngestBatch(
        org_id=row.org_id,
        key=row.key,
        sha256=row.sha256,
        kind=row.kind,
        received_at=row.received_at,
        counts=json.loads(row.counts),
        answer=json.loads(row.answer),
    )


class SqlUnitOfWork:
    """One transaction over the store; commits only when ``commit()`` was called."""

    organisations: SqlOrganisations
    keys: SqlKeys
    policies: SqlPolicies
    customers: SqlCustomers
    audit: SqlAudit
    idempotency: SqlIdempotency
    tickets: SqlTickets
    outbox: SqlOutbox
    incidents: SqlIncidents
    maintenance: SqlMaintenance
    subscribers: SqlSubscribers
    measurements: SqlMeasurements
    operators: SqlOperators
    closes: SqlCloses

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        try:
            self._connection = self._engine.connect()
            self._transaction = self._connection.begin()
        except (OperationalError, SAInterfaceError) as exc:
            if self._connection is not None:
                self._connection.close()
            raise StoreUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc
        connection = self._connection
        self.organisations = SqlOrganisations(connection)
        self.keys = SqlKeys(connection)
        self.policies = SqlPolicies(connection)
        self.customers = SqlCustomers(connection)
        self.audit = SqlAudit(connection)
        self.idempotency = SqlIdempotency(connection)
        self.tickets = SqlTickets(connection)
        self.outbox = SqlOutbox(connection)
        self.incidents = SqlIncidents(connection)
        self.maintenance = SqlMaintenance(connection)
        self.subscribers = SqlSubscribers(connection)
        self.measurements = SqlMeasurements(connection)
        self.operators = SqlOperators(connection)
        self.closes = SqlCloses(connection)
        return self

    def commit(self) -> None:
        self._transaction.commit()
        self._committed = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if not self._committed and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._connection.close()
            self._connection = None


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)


# --------------------------------------------------------------------------- row mapping
def _org(row: Row[Any]) -> Organisation:
    return Organisation(
        id=row.id,
        slug=row.slug,
        name=row.name,
        active_policy_version=row.active_policy_version,
        audit_head_seq=row.audit_head_seq,
        audit_head_hash=row.audit_head_hash,
        created_at=row.created_at,
    )


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        org_id=row.org_id,
        name=row.name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        scopes=frozenset(Scope(scope) for scope in row.scopes.split(",") if scope),
        customer_id=row.customer_id,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _policy(row: Row[Any]) -> PolicyVersion:
    return PolicyVersion(
        org_id=row.org_id,
        version=row.version,
        name=row.name,
        sha256=row.sha256,
        source=row.source,
        author_key_id=row.author_key_id,
        created_at=row.created_at,
    )


def _customer_values(customer: Customer) -> dict[str, Any]:
    return {
        "org_id": customer.org_id,
        "id": customer.id,
        "name": customer.name,
        "plan": customer.plan,
        "monthly_fee": customer.monthly_fee,
        "annual_fee": customer.annual_fee,
        "currency": customer.currency,
        "billing_period": customer.billing_period,
        "timezone": customer.timezone,
        "contract_start": customer.contract_start,
        "contract_end": customer.contract_end,
        "overrides": json.dumps(customer.overrides, sort_keys=True),
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _customer(row: Row[Any]) -> Customer:
    return Customer(
        org_id=row.org_id,
        id=row.id,
        name=row.name,
        plan=row.plan,
        monthly_fee=row.monthly_fee,
        annual_fee=row.annual_fee,
        currency=row.currency,
        billing_period=row.billing_period,
        timezone=row.timezone,
        contract_start=row.contract_start,
        contract_end=row.contract_end,
        overrides=json.loads(row.overrides),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _audit(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        org_id=row.org_id,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
