"""What the services store and read: plain values, independent of any database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from slakeeper.domain.sketch import LatencySketch

T = TypeVar("T")


class Scope(StrEnum):
    ADMIN = "admin"
    WRITE = "write"
    READ = "read"
    INGEST = "ingest"
    PROBE = "probe"


#: What each scope also grants: admin can do all a writer can, a writer all a reader can.
IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.WRITE, Scope.READ}),
    Scope.WRITE: frozenset({Scope.WRITE, Scope.READ}),
    Scope.READ: frozenset({Scope.READ}),
    Scope.INGEST: frozenset({Scope.INGEST}),
    Scope.PROBE: frozenset({Scope.PROBE}),
}


def iso(value: datetime | None) -> str | None:
    """An instant as RFC 3339 UTC text with a ``Z`` (how every answer prints one)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Organisation:
    id: str
    slug: str
    name: str
    active_policy_version: int | None
    audit_head_seq: int
    audit_head_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Scope]
    customer_id: str | None
    created_at: datetime
    created_by: str | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def granted(self) -> frozenset[Scope]:
        out: set[Scope] = set()
        for scope in self.scopes:
            out |= IMPLIED[scope]
        return frozenset(out)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key of one organisation (maybe bound to one customer), or the CLI."""

    org_id: str
    actor: str
    scopes: frozenset[Scope]
    key_id: str | None = None
    customer_id: str | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class PolicyVersion:
    org_id: str
    version: int
    name: str
    sha256: str
    source: str
    author_key_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Customer:
    org_id: str
    id: str
    name: str
    plan: str
    monthly_fee: Decimal | None
    annual_fee: Decimal | None
    currency: str
    billing_period: str
    timezone: str
    contract_start: datetime | None
    contract_end: datetime | None
    overrides: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    org_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: str | None
    after: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class StoredResponse:
    request_sha256: str
    state: str  # "in-flight" or "done"
    status_code: int | None
    content_type: str | None
    body: str | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Ticket:
    """A support request. Its clocks are never stored: they are replayed from its events."""

    org_id: str
    id: str
    customer_id: str
    request_type: str
    subject: str
    policy_version: int | None
    created_at: datetime
    effort_seconds: int | None = None  # estimated or spent effort, for the change-order rule


@dataclass(frozen=True)
class TicketEventRecord:
    org_id: str
    ticket_id: str
    seq: int
    at: datetime
    kind: str
    status: str | None
    severity: str | None
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class OutboxMessage:
    """A notification written in the same transaction as its cause; delivered later."""

    org_id: str
    dedupe_key: str
    topic: str
    payload: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None = None
    dead_at: datetime | None = None  # given up after too many failures (the dead letters)
    last_error: str | None = None

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        return "dead" if self.dead_at is not None else "pending"


@dataclass(frozen=True)
class Incident:
    org_id: str
    id: str
    title: str
    severity: str  # the policy's severity id
    customers: tuple[str, ...]  # empty: every customer
    fields: dict[str, str]
    started_at: datetime
    postmortem: str | None
    postmortem_at: datetime | None
    created_at: datetime
    #: Exclusion records (category, components, customer, start, end, reason) for the SLA.
    exclusions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class IncidentUpdate:
    org_id: str
    incident_id: str
    seq: int
    at: datetime
    status: str  # investigating, identified, monitoring, resolved, postmortem
    message: str
    components: dict[str, str]  # component -> operational, degraded-performance, ...
    notify: bool
    actor: str


@dataclass(frozen=True)
class MaintenanceWindow:
    org_id: str
    id: str
    title: str
    components: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    completed_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Subscriber:
    """Someone told about incidents and maintenance: an email address (after confirming) or a
    webhook, for some components (none listed: all)."""

    org_id: str
    id: str
    kind: str  # email or webhook
    target: str
    components: tuple[str, ...]
    token_hash: str
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


# --------------------------------------------------------------------------- measurements
@dataclass(frozen=True)
class IngestBatch:
    """One accepted batch, recorded once under its idempotency key (the ingest ledger).

    ``counts`` is what the batch added to the aggregates (requests, errors_5xx, ...), so the
    ledger reconciles with them; ``answer`` is the acknowledgement, replayed on a retry.
    """

    org_id: str
    key: str
    sha256: str
    kind: str  # "ingest" or "probes"
    received_at: datetime
    counts: dict[str, int]
    answer: dict[str, Any]


@dataclass(frozen=True)
class RequestBucket:
    """Requests of one component in one region and minute: counts by status and latencies."""

    component: str
    region: str
    minute: datetime
    statuses: dict[int, int]
    latency: LatencySketch

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class CustomerErrors:
    """The errors (5xx) one customer saw from one component in one minute."""

    customer: str
    component: str
    minute: datetime
    errors: int


@dataclass(frozen=True)
class ProbeBucket:
    component: str
    region: str
    minute: datetime
    total: int
    failed: int


@dataclass(frozen=True)
class SampleBucket:
    """Gauge samples (e.g. freshness lag) of a component in a minute: how many there were and,
    for each threshold the policy judged them by at ingest (milliseconds), how many were under."""

    component: str
    minute: datetime
    total: int
    under: dict[int, int]


@dataclass(frozen=True)
class IntegrityCheck:
    batch_key: str
    index: int
    at: datetime
    component: str
    name: str | None
    expected: int
    recorded: int


@dataclass(frozen=True)
class Reconciliation:
    batch_key: str
    index: int
    at: datetime
    period: str
    invoice_total: Decimal
    ledger_total: Decimal


@dataclass(frozen=True)
class AlertStateRecord:
    """The persisted state of one burn-rate alert rule of one SLO (survives restarts)."""

    org_id: str
    slo_id: str
    rule_index: int
    name: str
    state: str
    since: datetime
    updated_at: datetime
    last_fired: datetime | None = None


# --------------------------------------------------------------------------- period close
@dataclass(frozen=True)
class Operator:
    """A person who signs in to the operator dashboard (password stored as a scrypt hash)."""

    org_id: str
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class DataLossEvent:
    """A confirmed loss of a customer's data (a credit of its own, DOMAIN.md section 5)."""

    org_id: str
    id: str
    customer_id: str
    at: datetime
    description: str
    created_at: datetime


@dataclass(frozen=True)
class PeriodClose:
    """One closing of a period; a recompute adds a revision, never edits one."""

    org_id: str
    period: str
    revision: int
    closed_at: datetime
    policy_version: int
    policy_sha256: str
    customers: int
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class PeriodReport:
    org_id: str
    period: str
    customer_id: str
    revision: int
    document: str  # the report's JSON, as stored (its sha256 below)
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class Credit:
    """A service credit of one customer for one period, through its lifecycle:
    eligible -> claimed -> approved | rejected -> applied (or void when a revision replaces it).
    """

    org_id: str
    id: str
    customer_id: str
    period: str
    revision: int
    amount: Decimal
    currency: str
    percent: Decimal
    state: str
    claim_required: bool
    claim_deadline: datetime | None
    created_at: datetime
    updated_at: datetime
    claim: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    invoice: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """One transition of a credit, hash-chained to the entry before it."""

    org_id: str
    seq: int
    at: datetime
    customer_id: str
    period: str
    credit_id: str
    kind: str
    amount: Decimal
    currency: str
    details: str  # canonical JSON
    actor: str
    prev_hash: str
    hash: str
