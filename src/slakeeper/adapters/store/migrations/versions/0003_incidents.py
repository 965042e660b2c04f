"""Incidents with their timeline of updates, and maintenance windows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slakeeper.adapters.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(64), nullable=False),
        sa.Column("customers", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("postmortem", sa.Text, nullable=True),
        sa.Column("postmortem_at", UtcDateTime, nullable=True),
        sa.Column("exclusions", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_incidents"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_incidents_org_id_organisations"
        ),
    )
    op.create_table(
        "incident_updates",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("notify", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "incident_id", "seq", name="pk_incident_updates"),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("announced_at", UtcDateTime, nullable=False),
        sa.Column("completed_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_maintenance_windows"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_maintenance_windows_org_id_organisations"
        ),
    )


def downgrade() -> None:
    for table in ("maintenance_windows", "incident_updates", "incidents"):
        op.drop_table(table)
