"""The validation schema's own tables (created by `migrations/versions/0001_initial.py`)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

ENJOYMENT_LEDGER = sa.Table(
    "enjoyment_ledger",
    metadata,
    sa.Column("person_key", sa.Text, primary_key=True),
    sa.Column("program_code", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
)

VERDICTS = sa.Table(
    "verdicts",
    metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("rule_set_version", sa.Text, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)
