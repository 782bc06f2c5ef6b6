"""The web console: its settings (password hash, session signing key) and the actions taken in it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "web_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("action", sa.String(500), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("sync_run_id", sa.Integer, sa.ForeignKey("sync_runs.id")),
    )


def downgrade() -> None:
    op.drop_table("web_actions")
    op.drop_table("web_settings")
