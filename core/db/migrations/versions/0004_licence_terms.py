"""Licence terms: billing cycle, commitment months, SKU and vendor tenant id (all optional).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.add_column(sa.Column("billing_cycle", sa.String(32)))
        batch.add_column(sa.Column("commitment_months", sa.Integer))
        batch.add_column(sa.Column("sku", sa.String(64)))
        batch.add_column(sa.Column("tenant_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        for name in ("tenant_id", "sku", "commitment_months", "billing_cycle"):
            batch.drop_column(name)
