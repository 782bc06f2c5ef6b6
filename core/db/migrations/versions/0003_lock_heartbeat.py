"""A heartbeat on integration locks, so a holder that died on another machine is noticed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integration_locks") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("integration_locks") as batch:
        batch.drop_column("heartbeat_at")
