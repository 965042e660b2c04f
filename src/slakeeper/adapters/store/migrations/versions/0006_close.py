"""Period close: operators, data-loss events, closes and their reports, credits, and the
hash-chained credit ledger with its stored head.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slakeeper.adapters.store.types import ExactDecimal, UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisations.id"], name=f"fk_{table}_org_id_organisations"
    )


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("disabled_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_operators"),
        _org("operators"),
    )
    op.create_index("ix_operators_email", "operators", ["email"], unique=True)
    op.create_table(
        "data_loss_events",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_data_loss_events"),
        _org("data_loss_events"),
    )
    op.create_table(
        "period_closes",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "period", "revision", name="pk_period_closes"),
        _org("period_closes"),
    )
    op.create_table(
        "period_reports",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "period", "customer_id", "revision", name="pk_period_reports"
        ),
        _org("period_reports"),
    )
    op.create_table(
        "credits",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(120), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("percent", ExactDecimal, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_required", sa.Integer, nullable=False),
        sa.Column("claim_deadline", UtcDateTime, nullable=True),
        sa.Column("claim", sa.Text, nullable=True),
        sa.Column("decision", sa.Text, nullable=True),
        sa.Column("invoice", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_credits"),
        _org("credits"),
    )
    op.create_index("ix_credits_org_period", "credits", ["org_id", "period"])
    op.create_table(
        "ledger_entries",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("credit_id", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "seq", name="pk_ledger_entries"),
        _org("ledger_entries"),
    )
    op.create_table(
        "ledger_heads",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_ledger_heads"),
        _org("ledger_heads"),
    )


def downgrade() -> None:
    for table in (
        "ledger_heads",
        "ledger_entries",
        "credits",
        "period_reports",
        "period_closes",
        "data_loss_events",
    ):
        op.drop_table(table)
    op.drop_index("ix_operators_email", "operators")
    op.drop_table("operators")
