"""Tables of the bank_gateway schema (created by migrations/versions/0001_initial.py)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: One row per credit instruction, keyed by the end-to-end id the bank echoes.
instructions = sa.Table(
    "instructions",
    metadata,
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
    sa.Column("village", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason_code", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("bank_txn_id", sa.Text),
    sa.Column("settled_on", sa.Date),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("result_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: One row per (batch, bank): the bank totals declared by payment and whether every chunk is in.
bank_batches = sa.Table(
    "bank_batches",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("bank_code", sa.Text, primary_key=True),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.Column("declared_count", sa.Integer, nullable=False),
    sa.Column("declared_amount_fen", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("traceparent", sa.Text),  # the trace the instructions came with (W3C traceparent)
)

#: Chunks of a (batch, bank) received so far.
received_chunks = sa.Table(
    "received_chunks",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("bank_code", sa.Text, primary_key=True),
    sa.Column("chunk_index", sa.Integer, primary_key=True),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
)
