"""Instructions per bank, the (batch, bank) control totals and the chunks received.

Revision ID: 0001
Revises:
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
        "bank_batches",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("bank_code", sa.Text, primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("declared_count", sa.Integer, nullable=False),
        sa.Column("declared_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="receiving"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('receiving', 'complete')", name="bank_batches_status"),
        sa.CheckConstraint("chunk_count >= 1 AND declared_count >= 0 AND declared_amount_fen >= 0"),
    )
    op.create_table(
        "received_chunks",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("bank_code", sa.Text, primary_key=True),
        sa.Column("chunk_index", sa.Integer, primary_key=True),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id", "bank_code"], ["bank_batches.batch_id", "bank_batches.bank_code"]
        ),
    )
    op.create_table(
        "instructions",
        sa.Column("end_to_end_id", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("bank_code", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("name_enc", sa.LargeBinary, nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("town_code", sa.Text, nullable=False),
        sa.Column("village", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False, server_default="new"),
        sa.Column("reason_code", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("bank_txn_id", sa.Text),
        sa.Column("settled_on", sa.Date),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("result_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('new', 'sent', 'settled', 'failed')", name="instructions_status"),
        sa.CheckConstraint("amount_fen >= 0", name="instructions_amount"),
        sa.CheckConstraint(
            "status <> 'settled' OR (settled_on IS NOT NULL AND bank_txn_id IS NOT NULL)",
            name="instructions_settled",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id", "bank_code"], ["bank_batches.batch_id", "bank_batches.bank_code"]
        ),
    )
    # the dispatcher's work queue: unsent and sent-without-result rows, by due time
    op.create_index(
        "instructions_due",
        "instructions",
        ["status", "next_attempt_at"],
        postgresql_where=sa.text("status IN ('new', 'sent')"),
    )
    op.create_index("instructions_batch", "instructions", ["batch_id", "bank_code", "status"])
    op.create_index("instructions_bank", "instructions", ["bank_code", "status"])
    op.create_index("instructions_unit", "instructions", ["unit_code", "batch_id"])


def downgrade() -> None:
    op.drop_table("instructions")
    op.drop_table("received_chunks")
    op.drop_table("bank_batches")
    op.drop_table("inbox")
    op.drop_table("outbox")
