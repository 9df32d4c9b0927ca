"""Payment: batches, immutable orders, funding per bank, the disbursement ledger, outbox/inbox."""

import sqlalchemy as sa
from alembic import op
from ykt_kit.migrations import create_kit_tables

revision = "0001"
down_revision = None

BATCH_STATUSES = (
    "collecting",
    "awaiting_records",
    "totals_mismatch",
    "pending_review",
    "approved",
    "returned",
    "funded",
    "instructed",
    "completed",
)
ORDER_STATUSES = ("validated", "instructed", "blocked", "settled", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    create_kit_tables(op)
    now = sa.text("now()")
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("sent_count", sa.Integer, nullable=True),
        sa.Column("sent_amount_fen", sa.BigInteger, nullable=True),
        sa.Column("sent_by", sa.Text, nullable=True),
        sa.Column("approved_by", sa.Text, nullable=True),
        sa.Column("returned_by", sa.Text, nullable=True),
        sa.Column("return_reason", sa.Text, nullable=True),
        sa.Column("budget_doc_no", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.CheckConstraint(_in("status", BATCH_STATUSES), name="batches_status_known"),
        sa.CheckConstraint(
            "sent_count >= 0 AND sent_amount_fen >= 0", name="batches_sent_totals_nonnegative"
        ),
    )
    op.create_index("batches_status", "batches", ["status", "updated_at"])
    op.create_index("batches_unit", "batches", ["unit_code", "status"])

    op.create_table(
        "orders",
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
        sa.Column("village", sa.Text, nullable=False, server_default=""),
        sa.Column("reissue_of_record_id", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason_code", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name="orders_status_known"),
        sa.CheckConstraint("amount_fen >= 0", name="orders_amount_nonnegative"),
    )
    op.create_index("orders_batch_status", "orders", ["batch_id", "status", "bank_code"])

    op.create_table(
        "funding",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("bank_code", sa.Text, primary_key=True),
        sa.Column("funded_fen", sa.BigInteger, nullable=False),
        sa.Column("instructed_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("voucher_no", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        # The database, not Python, refuses to instruct a bank beyond what the treasury funded.
        sa.CheckConstraint("instructed_fen <= funded_fen", name="funding_instructed_within_funded"),
        sa.CheckConstraint("instructed_fen >= 0", name="funding_instructed_nonnegative"),
        sa.CheckConstraint("funded_fen >= 0", name="funding_funded_nonnegative"),
    )

    # A person is paid a program period at most once: claimed when instructing, confirmed on
    # settlement, released (deleted) on a bank failure so that a corrected re-issue may claim it.
    op.create_table(
        "disbursement_ledger",
        sa.Column("person_key", sa.Text, primary_key=True),
        sa.Column("program_code", sa.Text, primary_key=True),
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, nullable=False, unique=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.CheckConstraint("state IN ('instructed', 'settled')", name="ledger_state_known"),
    )


def downgrade() -> None:
    for table in ("disbursement_ledger", "funding", "orders", "batches", "inbox", "outbox"):
        op.drop_table(table)
