"""Collection-form imports (Annex 2 files): one row per file a unit handed in, and its row issues."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "person_imports",
        sa.Column("import_id", sa.Text, primary_key=True),
        sa.Column("org_code", sa.Text, nullable=False),
        sa.Column("file_hash", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("registered", sa.Integer, nullable=False),
        sa.Column("refused_rows", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("policy IN ('reject_all','accept_valid')", name="person_imports_policy"),
        sa.CheckConstraint("status IN ('applied','rejected')", name="person_imports_status"),
    )
    # the same file applied twice by one unit is one import: the second answer is the first one's
    op.create_index(
        "person_imports_applied_once",
        "person_imports",
        ["org_code", "file_hash"],
        unique=True,
        postgresql_where=sa.text("status = 'applied'"),
    )
    op.create_table(
        "person_import_issues",
        sa.Column("import_id", sa.Text, sa.ForeignKey("person_imports.import_id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("column_label", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("person_import_issues")
    op.drop_table("person_imports")
