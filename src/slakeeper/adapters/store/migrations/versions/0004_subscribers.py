"""Status-page subscribers (email with double opt-in, or webhook), per component.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slakeeper.adapters.store.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("confirmed_at", UtcDateTime, nullable=True),
        sa.Column("unsubscribed_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_subscribers"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_subscribers_org_id_organisations"
        ),
        sa.UniqueConstraint("token_hash", name="uq_subscribers_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("subscribers")
