"""Disclosure read model: masked rows, expected totals, publications.

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
    op.create_table(
        "disclosed_records",
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("town_code", sa.Text, nullable=False),
        sa.Column("village", sa.Text, nullable=False, server_default=""),
        sa.Column("name_masked", sa.Text, nullable=False),
        sa.Column("id_masked", sa.Text, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, sa.CheckConstraint("amount_fen >= 0"), nullable=False),
        sa.Column("settled_on", sa.Date, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
    )
    # serves the completeness tally and the paged, filtered list of one publication
    op.create_index(
        "disclosed_records_batch_place",
        "disclosed_records",
        ["batch_id", "town_code", "village", "record_id"],
        postgresql_include=["amount_fen"],
    )
    op.create_table(
        "expected",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("settled_count", sa.BigInteger, sa.CheckConstraint("settled_count >= 0"), nullable=False),
        sa.Column(
            "settled_amount_fen", sa.BigInteger, sa.CheckConstraint("settled_amount_fen >= 0"), nullable=False
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "publications",
        sa.Column("publication_id", sa.Uuid, primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False, unique=True),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('published')"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("window_end > window_start", name="publications_window_order"),
    )
    op.create_index("publications_window_end", "publications", ["window_end"])


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("expected")
    op.drop_table("disclosed_records")
    op.drop_table("inbox")
    op.drop_table("outbox")
