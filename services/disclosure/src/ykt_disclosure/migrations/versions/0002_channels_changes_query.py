"""Encrypted originals and name index, failed records, audited withdrawals and corrections,
masking rules per channel, and the public data version.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION disclosure_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit table % is append-only', TG_TABLE_NAME;
END $$;
"""


def upgrade() -> None:
    op.add_column("disclosed_records", sa.Column("name_key", sa.Text, nullable=True))
    op.add_column("disclosed_records", sa.Column("name_enc", sa.LargeBinary, nullable=True))
    op.add_column("disclosed_records", sa.Column("id_enc", sa.LargeBinary, nullable=True))
    # the personal query finds a person's rows by the blind index of the ID number
    op.create_index("disclosed_records_person", "disclosed_records", ["person_key", "name_key"])

    op.create_table(
        "failed_records",
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("program_code", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, sa.CheckConstraint("amount_fen >= 0"), nullable=False),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("failed_on", sa.Date, nullable=False),
    )
    op.create_index("failed_records_person", "failed_records", ["person_key"])

    op.add_column("publications", sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("publications", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("ALTER TABLE publications DROP CONSTRAINT IF EXISTS publications_status_check")
    op.create_check_constraint("publications_status", "publications", "status IN ('published', 'withdrawn')")
    op.create_check_constraint(
        "publications_withdrawn_at",
        "publications",
        "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)",
    )

    op.execute(_APPEND_ONLY)
    op.create_table(
        "publication_changes",
        sa.Column("change_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("publication_id", sa.Uuid, nullable=False),
        sa.Column(
            "kind", sa.Text, sa.CheckConstraint("kind IN ('withdrawal', 'correction')"), nullable=False
        ),
        sa.Column("actor_user", sa.Text, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("actor_org", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, sa.CheckConstraint("length(reason) > 0"), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("window_end_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("publication_changes_publication", "publication_changes", ["publication_id", "change_id"])

    op.create_table(
        "masking_rules",
        sa.Column(
            "channel",
            sa.Text,
            sa.CheckConstraint("channel IN ('web', 'api', 'print', 'personal')"),
            primary_key=True,
        ),
        sa.Column("name_rule", sa.Text, nullable=False),
        sa.Column("id_rule", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "masking_changes",
        sa.Column("change_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("name_before", sa.Text, nullable=False),
        sa.Column("id_before", sa.Text, nullable=False),
        sa.Column("name_after", sa.Text, nullable=False),
        sa.Column("id_after", sa.Text, nullable=False),
        sa.Column("looser_than_default", sa.Boolean, nullable=False),
        sa.Column("actor_user", sa.Text, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("actor_org", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, sa.CheckConstraint("length(reason) > 0"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    for table in ("publication_changes", "masking_changes"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION disclosure_append_only()"
        )

    op.create_table(
        "public_version",
        sa.Column("id", sa.SmallInteger, sa.CheckConstraint("id = 1"), primary_key=True),
        sa.Column("epoch", sa.Uuid, nullable=False),
        sa.Column("v", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO public_version (id, epoch, v) VALUES (1, gen_random_uuid(), 1)")


def downgrade() -> None:
    op.drop_table("public_version")
    op.drop_table("masking_changes")
    op.drop_table("masking_rules")
    op.drop_table("publication_changes")
    op.execute("DROP FUNCTION IF EXISTS disclosure_append_only()")
    op.drop_constraint("publications_withdrawn_at", "publications")
    op.drop_constraint("publications_status", "publications")
    op.create_check_constraint("publications_status_check", "publications", "status IN ('published')")
    op.drop_column("publications", "withdrawn_at")
    op.drop_column("publications", "corrected_at")
    op.drop_table("failed_records")
    op.drop_index("disclosed_records_person", "disclosed_records")
    op.drop_column("disclosed_records", "id_enc")
    op.drop_column("disclosed_records", "name_enc")
    op.drop_column("disclosed_records", "name_key")
