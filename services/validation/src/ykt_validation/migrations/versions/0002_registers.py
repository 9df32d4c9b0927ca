"""Reference registers (残疾人, 特困供养, 建档立卡/脱贫, 死亡人员, 财政供养): imports and their entries.

An import of a kind replaces that kind's membership whole: at most one import per kind is
`current` (a partial unique index), the ones it replaced stay `superseded`, and every entry
belongs to exactly one import. People are keyed by the blind index of their ID number; the
clear number is never stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = "('disabled', 'state_support', 'poverty', 'deceased', 'state_salaried')"


def upgrade() -> None:
    op.create_table(
        "register_imports",
        sa.Column("import_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),  # the issuing body: 区残联, 区公安分局, ...
        sa.Column("as_of", sa.Date, nullable=False),  # the date the register is valid for
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("file_hash", sa.Text, nullable=False),  # SHA-256 of the uploaded bytes
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refused_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("joined", sa.Integer, nullable=False, server_default="0"),  # not in the replaced import
        sa.Column("departed", sa.Integer, nullable=False, server_default="0"),  # in it, not in this one
        sa.Column("replaces", sa.Text, sa.ForeignKey("register_imports.import_id"), nullable=True),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("imported_org", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN {KINDS}", name="register_imports_kind"),
        sa.CheckConstraint("status IN ('current', 'superseded', 'rejected')", name="register_imports_status"),
        sa.CheckConstraint(
            "(status = 'superseded') = (superseded_at IS NOT NULL)", name="register_imports_superseded_at"
        ),
    )
    # one current import per kind: the membership a verdict reads
    op.create_index(
        "register_imports_one_current",
        "register_imports",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("status = 'current'"),
    )
    # the same file for the same kind and date is one import (asked again, it answers that import)
    op.create_index(
        "register_imports_same_file",
        "register_imports",
        ["kind", "as_of", "file_hash"],
        unique=True,
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.create_index("register_imports_kind_as_of", "register_imports", ["kind", "as_of"])

    op.create_table(
        "register_entries",
        sa.Column(
            "import_id",
            sa.Text,
            sa.ForeignKey("register_imports.import_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("person_key", sa.Text, nullable=False),  # HMAC-SM3 blind index of the ID number
        sa.Column("row", sa.Integer, nullable=False),  # row number in the file, for the auditor
        sa.Column("id_masked", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("import_id", "person_key", name="register_entries_pkey"),
    )
    op.create_index("register_entries_person", "register_entries", ["person_key"])

    op.create_table(
        "register_import_issues",
        sa.Column(
            "import_id",
            sa.Text,
            sa.ForeignKey("register_imports.import_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("column_label", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),  # masked
        sa.PrimaryKeyConstraint("import_id", "seq", name="register_import_issues_pkey"),
    )


def downgrade() -> None:
    op.drop_table("register_import_issues")
    op.drop_table("register_entries")
    op.drop_table("register_imports")
