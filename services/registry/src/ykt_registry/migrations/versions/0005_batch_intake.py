"""Batch intake at district scale: file identity of a submission, quantities, status history."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # What was uploaded: SHA-256 of the file's bytes (of the canonical record list for a JSON
    # body), so the same content cannot come in twice under two batch numbers of one unit.
    op.add_column("batches", sa.Column("file_sha256", sa.Text, nullable=True))
    op.add_column("batches", sa.Column("file_format", sa.Text, nullable=True))
    op.add_column("batches", sa.Column("file_name", sa.Text, nullable=True))
    op.add_column("batches", sa.Column("file_bytes", sa.BigInteger, nullable=True))
    op.create_unique_constraint("batches_unit_file", "batches", ["unit_code", "file_sha256"])
    # A record may give a quantity (mu, head, months ...) that the amount is computed from.
    op.add_column("batch_records", sa.Column("quantity", sa.Numeric(18, 4), nullable=True))
    op.create_table(
        "batch_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=True),
        # clock_timestamp(): the moment of the change, not the start of its transaction
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
    )
    op.create_index("batch_status_history_batch", "batch_status_history", ["batch_id", "id"])


def downgrade() -> None:
    op.drop_table("batch_status_history")
    op.drop_column("batch_records", "quantity")
    op.drop_constraint("batches_unit_file", "batches", type_="unique")
    for c in ("file_bytes", "file_name", "file_format", "file_sha256"):
        op.drop_column("batches", c)
