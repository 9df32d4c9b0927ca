"""Kit test service: outbox, inbox and one table of effects."""

import sqlalchemy as sa
from alembic import op
from ykt_kit.migrations import create_kit_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_kit_tables(op)
    op.create_table(
        "effects",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("times", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("effects")
