"""Mutually exclusive programs (互斥项目) in the ledger, and the register imports behind a verdict.

A record of a program that excludes others claims, besides its own (person, program, period) key
in `enjoyment_ledger`, one row per exclusive pair {its program, the other} for the person and
period. Both programs of a pair claim the same key, so the primary key decides a race between
two chunks of different programs exactly as it does for one program. The claims live and die
with the record's ledger claim (released on a bank failure, a return, or a later round).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exclusion_claims",
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("pair", sa.Text, nullable=False),  # the two program codes, sorted, joined by "|"
        sa.Column("program_code", sa.Text, nullable=False),  # the holder's program
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", "period", "pair", name="exclusion_claims_pkey"),
    )
    op.create_index("exclusion_claims_record", "exclusion_claims", ["record_id"])
    op.create_index("exclusion_claims_batch", "exclusion_claims", ["batch_id"])
    # kind → import id of the register imports the verdict was decided on (null: none consulted)
    op.add_column("verdicts", sa.Column("register_imports", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("verdicts", "register_imports")
    op.drop_table("exclusion_claims")
