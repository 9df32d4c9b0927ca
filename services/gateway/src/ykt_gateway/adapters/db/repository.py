"""Gateway queries: operator accounts and the append-only audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

_meta = sa.MetaData()
USERS = sa.Table(
    "users",
    _meta,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("org_code", sa.Text),
    sa.Column("org_name", sa.Text),
    sa.Column("password_hash", sa.Text),
    sa.Column("active", sa.Boolean),
)
AUDIT = sa.Table(
    "audit_log",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("username", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("org_code", sa.Text),
    sa.Column("method", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("status", sa.Integer),
    sa.Column("outcome", sa.Text),
)


async def user(session: AsyncSession, username: str) -> sa.Row[Any] | None:
    return (await session.execute(sa.select(USERS).where(USERS.c.username == username))).first()


async def ensure_users(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Create the given users unless they already exist (never overwrites a changed password)."""
    if rows:
        await session.execute(insert(USERS).values(rows).on_conflict_do_nothing())


async def audit(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(sa.insert(AUDIT).values(**row))


async def audit_entries(session: AsyncSession, *, limit: int, offset: int) -> list[dict[str, Any]]:
    q = sa.select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit).offset(offset)
    return [{**dict(r._mapping), "at": r.at.isoformat()} for r in (await session.execute(q)).all()]
