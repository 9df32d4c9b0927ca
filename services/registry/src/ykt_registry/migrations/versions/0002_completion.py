"""Remember the bank results payment reported, so a batch completes only when registry holds them."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("batches", sa.Column("expected_results", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("batches", "expected_results")
