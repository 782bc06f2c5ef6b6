"""Sync-run ownership and held-back counts; integration locks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("held_back", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("host", sa.String(255)))
        batch.add_column(sa.Column("pid", sa.Integer))
    op.create_table(
        "integration_locks",
        sa.Column("vendor", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("acquired_at", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("integration_locks")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
        batch.drop_column("held_back")
