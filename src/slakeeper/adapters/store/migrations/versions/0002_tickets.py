"""Support requests, their events, and the notification outbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slakeeper.adapters.store.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("request_type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=True),
        sa.Column("effort_seconds", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_tickets"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_tickets_org_id_organisations"
        ),
    )
    op.create_table(
        "ticket_events",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("severity", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "ticket_id", "seq", name="pk_ticket_events"),
    )
    op.create_table(
        "outbox",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.Column("dead_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "dedupe_key", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_outbox_org_id_organisations"
        ),
    )


def downgrade() -> None:
    for table in ("outbox", "ticket_events", "tickets"):
        op.drop_table(table)
