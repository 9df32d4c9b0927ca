"""Alembic, per service: each service keeps its migrations and its version table in its own
schema, and applies them at start-up (under an advisory lock, so replicas don't race)."""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, text


def sync_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def upgrade(database_url: str, schema: str, script_location: Path) -> None:
    """Create the schema if needed and apply every migration up to head."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    cfg.attributes["ykt_schema"] = schema
    engine = create_engine(sync_url(database_url))
    lock = zlib.crc32(f"ykt-migrate-{schema}".encode())
    try:
        with engine.connect() as conn:
            # session-level lock: held across the commits below, released on unlock/close
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
            conn.commit()
            try:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                conn.commit()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
                conn.commit()
    finally:
        engine.dispose()


def run_env() -> None:
    """Body of every service's `migrations/env.py` (online mode only)."""
    cfg = context.config
    schema = cfg.attributes["ykt_schema"]
    conn = cfg.attributes["connection"]
    conn.execute(text(f'SET search_path TO "{schema}", public'))
    context.configure(connection=conn, version_table_schema=schema, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def create_kit_tables(op: object) -> None:
    """Create the outbox and inbox tables; call from a service's first migration."""
    o = op  # alembic.op, typed loosely so this module needs no import-time alembic context
    o.create_table(  # type: ignore[attr-defined]
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    o.create_index(  # type: ignore[attr-defined]
        "outbox_pending", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL")
    )
    o.create_table(  # type: ignore[attr-defined]
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def script_location(package_file: str) -> Path:
    """The `migrations/` folder inside a service package, from its `__init__.py`'s `__file__`.

    Kept inside the package so that an installed wheel (a container image) carries them."""
    return Path(package_file).resolve().parent / "migrations"
