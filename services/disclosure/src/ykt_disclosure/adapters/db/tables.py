"""Tables of the `disclosure` schema (created by migrations/versions/0001_initial.py)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

DISCLOSED_RECORDS = sa.Table(
    "disclosed_records",
    metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("town_code", sa.Text, nullable=False),
    sa.Column("village", sa.Text, nullable=False),
    sa.Column("name_masked", sa.Text, nullable=False),
    sa.Column("id_masked", sa.Text, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("settled_on", sa.Date, nullable=False),
    sa.Column("person_key", sa.Text, nullable=False),
)

EXPECTED = sa.Table(
    "expected",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("settled_count", sa.BigInteger, nullable=False),
    sa.Column("settled_amount_fen", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True)),
)

PUBLICATIONS = sa.Table(
    "publications",
    metadata,
    sa.Column("publication_id", sa.Uuid, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False, unique=True),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("unit_code", sa.Text, nullable=False),
    sa.Column("record_count", sa.BigInteger, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
