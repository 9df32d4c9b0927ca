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
    sa.Column("name_key", sa.Text),
    sa.Column("name_enc", sa.LargeBinary),
    sa.Column("id_enc", sa.LargeBinary),
)

FAILED_RECORDS = sa.Table(
    "failed_records",
    metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("person_key", sa.Text, nullable=False),
    sa.Column("program_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("reason_code", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("failed_on", sa.Date, nullable=False),
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
    sa.Column("corrected_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
)

# ---- operator records (not fed by events; a rebuild keeps them and re-applies the changes)

PUBLICATION_CHANGES = sa.Table(
    "publication_changes",
    metadata,
    sa.Column("change_id", sa.BigInteger, primary_key=True),
    sa.Column("publication_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("actor_user", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_org", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("statement", sa.Text, nullable=False),
    sa.Column("window_end_before", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_end_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

MASKING_RULES = sa.Table(
    "masking_rules",
    metadata,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("name_rule", sa.Text, nullable=False),
    sa.Column("id_rule", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

MASKING_CHANGES = sa.Table(
    "masking_changes",
    metadata,
    sa.Column("change_id", sa.BigInteger, primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("name_before", sa.Text, nullable=False),
    sa.Column("id_before", sa.Text, nullable=False),
    sa.Column("name_after", sa.Text, nullable=False),
    sa.Column("id_after", sa.Text, nullable=False),
    sa.Column("looser_than_default", sa.Boolean, nullable=False),
    sa.Column("actor_user", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_org", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

#: One row: a random epoch (per database) and a counter bumped in every transaction that changes
#: what the public sees; the JSON API's Redis cache keys carry both.
PUBLIC_VERSION = sa.Table(
    "public_version",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("epoch", sa.Uuid, nullable=False),
    sa.Column("v", sa.BigInteger, nullable=False),
)

#: Tables fed only by events (what a rebuild recreates), in the order a swap locks them.
EVENT_FED = ("inbox", "disclosed_records", "failed_records", "expected", "publications")
