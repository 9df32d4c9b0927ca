"""The trace context each (batch, bank) arrived with, so the bank's results continue that trace.

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
    op.add_column("bank_batches", sa.Column("traceparent", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("bank_batches", "traceparent")
