"""Reference data, beneficiaries, batches and records."""

import sqlalchemy as sa
from alembic import op
from ykt_kit.migrations import create_kit_tables

revision = "0001"
down_revision = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    create_kit_tables(op)
    op.create_table(
        "programs",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("department_code", sa.Text, nullable=False),
        sa.Column("frequency", sa.Text, nullable=False),
        sa.Column("standard_fen", sa.BigInteger, nullable=True),
        sa.Column("rollout", sa.Text, nullable=False, server_default="not_yet"),
        _ts("updated_at"),
        sa.CheckConstraint("frequency IN ('monthly','quarterly','yearly','once')", name="programs_frequency"),
        sa.CheckConstraint("rollout IN ('live','trial','not_yet')", name="programs_rollout"),
    )
    op.create_table(
        "divisions",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text, nullable=True),
    )
    op.create_table(
        "banks",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("adapter", sa.Text, nullable=False),
    )
    op.create_table(
        "persons",
        sa.Column("person_key", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary, nullable=False),
        sa.Column("gender", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("town_code", sa.Text, nullable=False),
        sa.Column("village", sa.Text, nullable=False, server_default=""),
        sa.Column("bank_code", sa.Text, nullable=False),
        sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_tail", sa.Text, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("persons_town", "persons", ["town_code"])
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("unit_batch_no", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("current_round", sa.Integer, nullable=False, server_default="1"),
        sa.Column("declared_count", sa.Integer, nullable=False),
        sa.Column("declared_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("reissue_of_batch_id", sa.Text, nullable=True),
        sa.Column("publication_path", sa.Text, nullable=True),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("unit_code", "unit_batch_no", name="batches_unit_batch_no"),
    )
    op.create_table(
        "rounds",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "round_chunks",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("chunk_index", sa.Integer, primary_key=True),
    )
    op.create_table(
        "batch_records",
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_tail", sa.Text, nullable=False),
        sa.Column("bank_code", sa.Text, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("town_code", sa.Text, nullable=False),
        sa.Column("village", sa.Text, nullable=False, server_default=""),
        sa.Column("reissue_of_record_id", sa.Text, nullable=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        _ts("updated_at"),
        sa.CheckConstraint("amount_fen >= 0", name="batch_records_amount"),
        sa.UniqueConstraint("batch_id", "seq", name="batch_records_seq"),
    )
    op.create_index("batch_records_batch_status", "batch_records", ["batch_id", "status"])


def downgrade() -> None:
    for t in (
        "batch_records",
        "round_chunks",
        "rounds",
        "batches",
        "persons",
        "banks",
        "divisions",
        "programs",
    ):
        op.drop_table(t)
    op.drop_table("inbox")
    op.drop_table("outbox")
