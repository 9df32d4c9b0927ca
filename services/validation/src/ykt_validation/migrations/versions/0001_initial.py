"""Kit tables, the duplicate-enjoyment ledger and the verdicts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from ykt_kit.migrations import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables(op)
    # One row per person, program and period: the primary key is the rule
    # "a person enjoys a program period at most once" (重复享受), not a check in Python.
    op.create_table(
        "enjoyment_ledger",
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", "program_code", "period", name="enjoyment_ledger_pkey"),
    )
    op.create_index("enjoyment_ledger_record", "enjoyment_ledger", ["record_id"])
    op.create_index("enjoyment_ledger_batch", "enjoyment_ledger", ["batch_id"])
    op.create_table(
        "verdicts",
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("rule_set_version", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("outcome IN ('pass', 'reject')", name="verdicts_outcome"),
    )
    op.create_index("verdicts_batch", "verdicts", ["batch_id", "seq"])


def downgrade() -> None:
    op.drop_table("verdicts")
    op.drop_table("enjoyment_ledger")
    op.drop_table("inbox")
    op.drop_table("outbox")
