"""Every query of the registry, set-wise where records are concerned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import BANKS, BATCHES, DIVISIONS, PROGRAMS, RECORDS, ROUND_CHUNKS, ROUNDS


async def upsert(session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]], key: str) -> int:
    if not rows:
        return 0
    stmt = insert(table).values(list(rows))
    cols = {c: stmt.excluded[c] for c in rows[0] if c != key}
    await session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols))
    return len(rows)


async def programs(session: AsyncSession) -> list[sa.Row[Any]]:
    return list((await session.execute(sa.select(PROGRAMS).order_by(PROGRAMS.c.code))).all())


async def program(session: AsyncSession, code: str) -> sa.Row[Any] | None:
    return (await session.execute(sa.select(PROGRAMS).where(PROGRAMS.c.code == code))).first()


async def divisions(session: AsyncSession) -> list[sa.Row[Any]]:
    return list((await session.execute(sa.select(DIVISIONS).order_by(DIVISIONS.c.code))).all())


async def division_codes(session: AsyncSession) -> set[str]:
    """Codes of the towns/streets (镇街): the units that register people and pay subsidies."""
    q = sa.select(DIVISIONS.c.code).where(DIVISIONS.c.kind.in_(["街道", "镇", "乡"]))
    return set((await session.execute(q)).scalars())


async def banks(session: AsyncSession) -> list[sa.Row[Any]]:
    return list((await session.execute(sa.select(BANKS).order_by(BANKS.c.code))).all())


async def bank_codes(session: AsyncSession) -> set[str]:
    return set((await session.execute(sa.select(BANKS.c.code))).scalars())


async def batch_by_unit_no(session: AsyncSession, unit: str, unit_batch_no: str) -> sa.Row[Any] | None:
    q = sa.select(BATCHES).where(BATCHES.c.unit_code == unit, BATCHES.c.unit_batch_no == unit_batch_no)
    return (await session.execute(q)).first()


async def batch(
    session: AsyncSession, batch_id: str, *, unit: str | None, lock: bool = False
) -> sa.Row[Any] | None:
    """The batch, if it exists within the caller's scope (`unit` None = every unit)."""
    q = sa.select(BATCHES).where(BATCHES.c.batch_id == batch_id)
    if unit is not None:
        q = q.where(BATCHES.c.unit_code == unit)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).first()


async def batches(
    session: AsyncSession, *, unit: str | None, status: str | None, limit: int, offset: int
) -> list[sa.Row[Any]]:
    q = sa.select(BATCHES).order_by(BATCHES.c.created_at.desc()).limit(limit).offset(offset)
    if unit is not None:
        q = q.where(BATCHES.c.unit_code == unit)
    if status is not None:
        q = q.where(BATCHES.c.status == status)
    return list((await session.execute(q)).all())


async def insert_batch(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(sa.insert(BATCHES).values(**row))


async def set_batch(
    session: AsyncSession, batch_id: str, *, only_from: Sequence[str] | None = None, **values: Any
) -> bool:
    q = sa.update(BATCHES).where(BATCHES.c.batch_id == batch_id).values(**values, updated_at=sa.func.now())
    if only_from is not None:
        q = q.where(BATCHES.c.status.in_(list(only_from)))
    return bool((await session.execute(q)).rowcount)


async def insert_round(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(sa.insert(ROUNDS).values(**row))


async def round_row(session: AsyncSession, batch_id: str, round_: int) -> sa.Row[Any] | None:
    q = sa.select(ROUNDS).where(ROUNDS.c.batch_id == batch_id, ROUNDS.c.round == round_)
    return (await session.execute(q)).first()


async def mark_chunk_done(session: AsyncSession, batch_id: str, round_: int, index: int) -> int:
    """Record a returned chunk; returns how many chunks of the round are back."""
    await session.execute(
        insert(ROUND_CHUNKS)
        .values(batch_id=batch_id, round=round_, chunk_index=index)
        .on_conflict_do_nothing()
    )
    q = sa.select(sa.func.count()).where(ROUND_CHUNKS.c.batch_id == batch_id, ROUND_CHUNKS.c.round == round_)
    return int((await session.execute(q)).scalar_one())


async def insert_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(RECORDS), list(rows))


async def records(
    session: AsyncSession,
    batch_id: str,
    *,
    status: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[sa.Row[Any]]:
    q = sa.select(RECORDS).where(RECORDS.c.batch_id == batch_id).order_by(RECORDS.c.seq).offset(offset)
    if status:
        q = q.where(RECORDS.c.status.in_(list(status)))
    if limit is not None:
        q = q.limit(limit)
    return list((await session.execute(q)).all())


async def record(session: AsyncSession, batch_id: str, record_id: str) -> sa.Row[Any] | None:
    q = (
        sa.select(RECORDS)
        .where(RECORDS.c.batch_id == batch_id, RECORDS.c.record_id == record_id)
        .with_for_update()
    )
    return (await session.execute(q)).first()


async def update_record(session: AsyncSession, record_id: str, **values: Any) -> None:
    await session.execute(
        sa.update(RECORDS).where(RECORDS.c.record_id == record_id).values(**values, updated_at=sa.func.now())
    )


async def set_record_states(
    session: AsyncSession,
    updates: Sequence[tuple[str, str, str | None, str | None]],
    *,
    only_from: Sequence[str] | None = None,
) -> int:
    """Set (record_id, status, code, message) for many records in one statement."""
    if not updates:
        return 0
    v = sa.values(
        sa.column("rid", sa.Text),
        sa.column("st", sa.Text),
        sa.column("cd", sa.Text),
        sa.column("msg", sa.Text),
        name="v",
    ).data(list(updates))
    q = (
        sa.update(RECORDS)
        .where(RECORDS.c.record_id == v.c.rid)
        .values(status=v.c.st, code=v.c.cd, message=v.c.msg, updated_at=sa.func.now())
    )
    if only_from is not None:
        q = q.where(RECORDS.c.status.in_(list(only_from)))
    return int((await session.execute(q)).rowcount)


async def set_status_for(
    session: AsyncSession, record_ids: Sequence[str], status: str, *, only_from: Sequence[str]
) -> int:
    q = (
        sa.update(RECORDS)
        .where(RECORDS.c.record_id.in_(list(record_ids)), RECORDS.c.status.in_(list(only_from)))
        .values(status=status, updated_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)


async def counts_by_status(session: AsyncSession, batch_id: str) -> dict[str, tuple[int, int]]:
    q = (
        sa.select(RECORDS.c.status, sa.func.count(), sa.func.coalesce(sa.func.sum(RECORDS.c.amount_fen), 0))
        .where(RECORDS.c.batch_id == batch_id)
        .group_by(RECORDS.c.status)
    )
    return {s: (int(n), int(a)) for s, n, a in (await session.execute(q)).all()}


async def count_reissues(session: AsyncSession, batch_id: str) -> int:
    q = sa.select(sa.func.count()).where(BATCHES.c.reissue_of_batch_id == batch_id)
    return int((await session.execute(q)).scalar_one())
