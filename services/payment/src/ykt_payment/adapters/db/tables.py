"""Table definitions of the payment schema (the migrations create them; these are for queries)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BATCHES = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("sent_count", sa.Integer),
    sa.Column("sent_amount_fen", sa.BigInteger),
    sa.Column("sent_by", sa.Text),
    sa.Column("approved_by", sa.Text),
    sa.Column("returned_by", sa.Text),
    sa.Column("return_reason", sa.Text),
    sa.Column("budget_doc_no", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

ORDERS = sa.Table(
    "orders",
    metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("person_key", sa.Text, nullable=False),
    sa.Column("name_enc", sa.LargeBinary, nullable=False),
    sa.Column("id_number_enc", sa.LargeBinary, nullable=False),
    sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
    sa.Column("bank_code", sa.Text, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("town_code", sa.Text, nullable=False),
    sa.Column("village", sa.Text, nullable=False),
    sa.Column("reissue_of_record_id", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason_code", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

FUNDING = sa.Table(
    "funding",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("bank_code", sa.Text, primary_key=True),
    sa.Column("funded_fen", sa.BigInteger, nullable=False),
    sa.Column("instructed_fen", sa.BigInteger, nullable=False),
    sa.Column("voucher_no", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

LEDGER = sa.Table(
    "disbursement_ledger",
    metadata,
    sa.Column("person_key", sa.Text, primary_key=True),
    sa.Column("program_code", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
