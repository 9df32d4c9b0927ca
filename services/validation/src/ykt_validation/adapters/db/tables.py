"""The validation schema's own tables (created by `migrations/versions/0001_initial.py` and
`0002_registers.py`, `0003_exclusions.py`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

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
    sa.Column("register_imports", JSONB, nullable=True),
)

EXCLUSION_CLAIMS = sa.Table(
    "exclusion_claims",
    metadata,
    sa.Column("person_key", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("pair", sa.Text, primary_key=True),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
)

REGISTER_IMPORTS = sa.Table(
    "register_imports",
    metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("file_hash", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("refused_rows", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("joined", sa.Integer, nullable=False),
    sa.Column("departed", sa.Integer, nullable=False),
    sa.Column("replaces", sa.Text, nullable=True),
    sa.Column("imported_by", sa.Text, nullable=False),
    sa.Column("imported_org", sa.Text, nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
)

REGISTER_ENTRIES = sa.Table(
    "register_entries",
    metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("person_key", sa.Text, primary_key=True),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("id_masked", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("attributes", JSONB, nullable=False),
)

REGISTER_IMPORT_ISSUES = sa.Table(
    "register_import_issues",
    metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("column_label", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
)
