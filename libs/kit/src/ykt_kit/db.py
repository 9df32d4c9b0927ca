"""Async database access: one engine per service, its schema first on the search path, and one
session boundary per request or message that commits or rolls back once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    """Engine whose connections see the service's own schema first (and nothing of the others)."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": f"-c search_path={schema},public"},
    )


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str, schema: str, *, pool_size: int = 10) -> None:
        self.schema = schema
        self.engine = make_engine(url, schema, pool_size=pool_size)
        self._factory = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._factory() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
