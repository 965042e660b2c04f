"""Measurements: the ingest ledger, minute aggregates, integrity checks, reconciliations and
the burn-rate alert states.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slakeeper.adapters.store.types import ExactDecimal, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisations.id"], name=f"fk_{table}_org_id_organisations"
    )


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "key", name="pk_ingest_batches"),
        _org("ingest_batches"),
    )
    op.create_table(
        "request_buckets",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("minute", UtcDateTime, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("errors_5xx", sa.BigInteger, nullable=False),
        sa.Column("errors_4xx", sa.BigInteger, nullable=False),
        sa.Column("throttled_429", sa.BigInteger, nullable=False),
        sa.Column("statuses", sa.Text, nullable=False),
        sa.Column("latency", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "component", "region", "minute", name="pk_request_buckets"
        ),
        _org("request_buckets"),
    )
    op.create_index("ix_request_buckets_org_minute", "request_buckets", ["org_id", "minute"])
    op.create_table(
        "customer_errors",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("customer", sa.String(64), nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("minute", UtcDateTime, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "customer", "component", "minute", name="pk_customer_errors"
        ),
        _org("customer_errors"),
    )
    op.create_table(
        "probe_buckets",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("minute", UtcDateTime, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("failed", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "component", "region", "minute", name="pk_probe_buckets"),
        _org("probe_buckets"),
    )
    op.create_index("ix_probe_buckets_org_minute", "probe_buckets", ["org_id", "minute"])
    op.create_table(
        "sample_buckets",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("minute", UtcDateTime, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("under", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "component", "minute", name="pk_sample_buckets"),
        _org("sample_buckets"),
    )
    op.create_table(
        "integrity_checks",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("batch_key", sa.String(200), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("expected", sa.BigInteger, nullable=False),
        sa.Column("recorded", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "batch_key", "idx", name="pk_integrity_checks"),
        _org("integrity_checks"),
    )
    op.create_table(
        "reconciliations",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("batch_key", sa.String(200), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("invoice_total", ExactDecimal, nullable=False),
        sa.Column("ledger_total", ExactDecimal, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "batch_key", "idx", name="pk_reconciliations"),
        _org("reconciliations"),
    )
    op.create_table(
        "alert_states",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("slo_id", sa.String(64), nullable=False),
        sa.Column("rule_index", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("last_fired", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "slo_id", "rule_index", name="pk_alert_states"),
        _org("alert_states"),
    )


def downgrade() -> None:
    for table in (
        "alert_states",
        "reconciliations",
        "integrity_checks",
        "sample_buckets",
        "probe_buckets",
        "customer_errors",
        "request_buckets",
        "ingest_batches",
    ):
        op.drop_table(table)
