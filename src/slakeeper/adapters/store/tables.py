"""The schema, as SQLAlchemy Core tables. Every tenant-owned row carries ``org_id``.

Changing a table means a new Alembic revision in ``migrations/versions``; the first revision
creates exactly what is here, and a test checks that the migrated schema matches these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from slakeeper.adapters.store.types import ExactDecimal, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("active_policy_version", Integer, nullable=True),
    Column("audit_head_seq", Integer, nullable=False, default=0),
    Column("audit_head_hash", String(64), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organisations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(36), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Index("ix_api_keys_org", "org_id"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("author_key_id", String(36), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("plan", String(64), nullable=False),
    Column("monthly_fee", ExactDecimal, nullable=True),
    Column("annual_fee", ExactDecimal, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("billing_period", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("contract_start", UtcDateTime, nullable=True),
    Column("contract_end", UtcDateTime, nullable=True),
    Column("overrides", Text, nullable=False, default="{}"),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("body", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("request_type", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("policy_version", Integer, nullable=True),
    Column("effort_seconds", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("ticket_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(64), nullable=True),
    Column("severity", String(64), nullable=True),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("dedupe_key", String(300), primary_key=True),
    Column("topic", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("dead_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)

incidents = Table(
    "incidents",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("severity", String(64), nullable=False),
    Column("customers", Text, nullable=False),
    Column("fields", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("postmortem", Text, nullable=True),
    Column("postmortem_at", UtcDateTime, nullable=True),
    Column("exclusions", Text, nullable=False, default="[]"),
    Column("created_at", UtcDateTime, nullable=False),
)

incident_updates = Table(
    "incident_updates",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("incident_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("components", Text, nullable=False),
    Column("notify", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("components", Text, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("announced_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("target", String(500), nullable=False),
    Column("components", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("unsubscribed_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# --------------------------------------------------------------------------- measurements
ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("counts", Text, nullable=False),
    Column("answer", Text, nullable=False),
)

request_buckets = Table(
    "request_buckets",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("component", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("total", BigInteger, nullable=False),
    Column("errors_5xx", BigInteger, nullable=False),
    Column("errors_4xx", BigInteger, nullable=False),
    Column("throttled_429", BigInteger, nullable=False),
    Column("statuses", Text, nullable=False),
    Column("latency", Text, nullable=False),
    Index("ix_request_buckets_org_minute", "org_id", "minute"),
)

customer_errors = Table(
    "customer_errors",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("customer", String(64), primary_key=True),
    Column("component", String(64), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("errors", BigInteger, nullable=False),
)

probe_buckets = Table(
    "probe_buckets",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("component", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("total", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Index("ix_probe_buckets_org_minute", "org_id", "minute"),
)

sample_buckets = Table(
    "sample_buckets",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("component", String(64), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("total", BigInteger, nullable=False),
    Column("under", Text, nullable=False),
)

integrity_checks = Table(
    "integrity_checks",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("batch_key", String(200), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("component", String(64), nullable=False),
    Column("name", String(200), nullable=True),
    Column("expected", BigInteger, nullable=False),
    Column("recorded", BigInteger, nullable=False),
)

reconciliations = Table(
    "reconciliations",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("batch_key", String(200), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("period", String(16), nullable=False),
    Column("invoice_total", ExactDecimal, nullable=False),
    Column("ledger_total", ExactDecimal, nullable=False),
)

alert_states = Table(
    "alert_states",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("slo_id", String(64), primary_key=True),
    Column("rule_index", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_fired", UtcDateTime, nullable=True),
)

# --------------------------------------------------------------------------- period close
operators = Table(
    "operators",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime, nullable=True),
    Index("ix_operators_email", "email", unique=True),
)

data_loss_events = Table(
    "data_loss_events",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

period_closes = Table(
    "period_closes",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("policy_sha256", String(64), nullable=False),
    Column("customers", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=True),
)

period_reports = Table(
    "period_reports",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("document", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

credits = Table(
    "credits",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("id", String(120), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("percent", ExactDecimal, nullable=False),
    Column("state", String(16), nullable=False),
    Column("claim_required", Integer, nullable=False),
    Column("claim_deadline", UtcDateTime, nullable=True),
    Column("claim", Text, nullable=True),
    Column("decision", Text, nullable=True),
    Column("invoice", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_credits_org_period", "org_id", "period"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("credit_id", String(120), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("details", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

ledger_heads = Table(
    "ledger_heads",
    metadata,
    Column("org_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

__all__ = [
    "alert_states",
    "api_keys",
    "audit_log",
    "credits",
    "customer_errors",
    "customers",
    "data_loss_events",
    "idempotency_keys",
    "incident_updates",
    "incidents",
    "ingest_batches",
    "integrity_checks",
    "ledger_entries",
    "ledger_heads",
    "maintenance_windows",
    "metadata",
    "operators",
    "organisations",
    "outbox",
    "period_closes",
    "period_reports",
    "policy_versions",
    "probe_buckets",
    "reconciliations",
    "request_buckets",
    "sample_buckets",
    "subscribers",
    "ticket_events",
    "tickets",
]
