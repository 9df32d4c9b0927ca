"""Inbox of processed event ids: claimed in the handler's transaction, so a redelivered event
finds its id taken and has no second effect."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

_meta = sa.MetaData()
INBOX = sa.Table(
    "inbox",
    _meta,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("topic", sa.Text),
)


async def claim(session: AsyncSession, *, consumer: str, event_id: uuid.UUID, topic: str) -> bool:
    """True the first time `consumer` sees `event_id`; False on every redelivery."""
    stmt = (
        insert(INBOX)
        .values(consumer=consumer, event_id=event_id, topic=topic)
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    return (await session.execute(stmt)).first() is not None
