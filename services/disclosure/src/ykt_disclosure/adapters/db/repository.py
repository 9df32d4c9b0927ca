"""Every query of the disclosure service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.masking import DisclosedRow
from ...domain.publication import Expected, Publication
from .tables import DISCLOSED_RECORDS, EXPECTED, PUBLICATIONS

P = PUBLICATIONS
R = DISCLOSED_RECORDS


async def lock_batch(session: AsyncSession, *, batch_id: str) -> None:
    """Serialise this transaction with every other one touching `batch_id` until it ends.

    payment.settled and batch.completed arrive on different topics and may be handled at the same
    moment: without the lock each transaction could miss the other's uncommitted rows and neither
    would publish."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("ykt-disclosure:" + batch_id, 0)))
    )


async def insert_rows(session: AsyncSession, *, rows: Sequence[DisclosedRow]) -> tuple[int, int]:
    """Insert masked rows in one statement, skipping record ids already held; return (count,
    amount in fen) of the rows actually inserted."""
    if not rows:
        return 0, 0
    stmt = (
        insert(R)
        .values([r.as_row() for r in rows])
        .on_conflict_do_nothing(index_elements=[R.c.record_id])
        .returning(R.c.amount_fen)
    )
    amounts = (await session.execute(stmt)).scalars().all()
    return len(amounts), int(sum(amounts))


async def insert_expected(session: AsyncSession, *, expected: Expected) -> bool:
    """Store a batch's settled totals; False when they were already stored."""
    stmt = (
        insert(EXPECTED)
        .values(**asdict(expected))
        .on_conflict_do_nothing(index_elements=[EXPECTED.c.batch_id])
        .returning(EXPECTED.c.batch_id)
    )
    return (await session.execute(stmt)).first() is not None


async def get_expected(session: AsyncSession, *, batch_id: str) -> Expected | None:
    row = (
        await session.execute(
            sa.select(
                EXPECTED.c.batch_id,
                EXPECTED.c.program_code,
                EXPECTED.c.period,
                EXPECTED.c.unit_code,
                EXPECTED.c.settled_count,
                EXPECTED.c.settled_amount_fen,
            ).where(EXPECTED.c.batch_id == batch_id)
        )
    ).first()
    return Expected(**row._mapping) if row else None


async def is_published(session: AsyncSession, *, batch_id: str) -> bool:
    stmt = sa.select(sa.literal(1)).where(P.c.batch_id == batch_id)
    return (await session.execute(stmt)).first() is not None


async def tally(session: AsyncSession, *, batch_id: str) -> tuple[int, int]:
    """Count and amount in fen of the rows held for `batch_id`."""
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(R.c.amount_fen), 0)).where(
        R.c.batch_id == batch_id
    )
    count, amount = (await session.execute(stmt)).one()
    return int(count), int(amount)


async def insert_publication(session: AsyncSession, *, publication: Publication) -> bool:
    """Create the batch's publication; False when the batch already has one (exactly once)."""
    stmt = (
        insert(P)
        .values(**asdict(publication))
        .on_conflict_do_nothing(index_elements=[P.c.batch_id])
        .returning(P.c.publication_id)
    )
    return (await session.execute(stmt)).first() is not None


# ------------------------------------------------------------------ public reads


def _publication(m: sa.RowMapping) -> Publication:
    return Publication(
        publication_id=m["publication_id"],
        batch_id=m["batch_id"],
        program_code=m["program_code"],
        period=m["period"],
        unit_code=m["unit_code"],
        record_count=int(m["record_count"]),
        amount_fen=int(m["amount_fen"]),
        window_start=m["window_start"],
        window_end=m["window_end"],
        status=m["status"],
    )


_PUBLICATION_COLUMNS = (
    P.c.publication_id,
    P.c.batch_id,
    P.c.program_code,
    P.c.period,
    P.c.unit_code,
    P.c.record_count,
    P.c.amount_fen,
    P.c.window_start,
    P.c.window_end,
    P.c.status,
)


def _current(
    now: datetime, program: str | None, town: str | None, period: str | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [P.c.window_start <= now, P.c.window_end > now]
    if program:
        where.append(P.c.program_code == program)
    if period:
        where.append(P.c.period == period)
    if town:
        where.append(sa.exists().where(R.c.batch_id == P.c.batch_id, R.c.town_code == town))
    return where


async def count_current(
    session: AsyncSession, *, now: datetime, program: str | None, town: str | None, period: str | None
) -> int:
    stmt = sa.select(sa.func.count()).select_from(P).where(*_current(now, program, town, period))
    return int((await session.execute(stmt)).scalar_one())


async def list_current(
    session: AsyncSession,
    *,
    now: datetime,
    program: str | None,
    town: str | None,
    period: str | None,
    limit: int,
    offset: int,
) -> list[Publication]:
    """Publications whose window is open, newest first."""
    stmt = (
        sa.select(*_PUBLICATION_COLUMNS)
        .where(*_current(now, program, town, period))
        .order_by(P.c.window_start.desc(), P.c.publication_id)
        .limit(limit)
        .offset(offset)
    )
    return [_publication(r) for r in (await session.execute(stmt)).mappings().all()]


async def current_periods(session: AsyncSession, *, now: datetime) -> list[str]:
    """Periods that open publications cover, newest first (for the filter form)."""
    stmt = (
        sa.select(P.c.period)
        .where(*_current(now, None, None, None))
        .group_by(P.c.period)
        .order_by(P.c.period.desc())
    )
    return list((await session.execute(stmt)).scalars().all())


async def get_publication(session: AsyncSession, *, publication_id: uuid.UUID) -> Publication | None:
    row = (
        (await session.execute(sa.select(*_PUBLICATION_COLUMNS).where(P.c.publication_id == publication_id)))
        .mappings()
        .first()
    )
    return _publication(row) if row else None


async def places(session: AsyncSession, *, batch_id: str) -> list[tuple[str, str]]:
    """Distinct (town code, village) pairs of a batch's rows, for the filter form."""
    stmt = (
        sa.select(R.c.town_code, R.c.village)
        .where(R.c.batch_id == batch_id)
        .group_by(R.c.town_code, R.c.village)
        .order_by(R.c.town_code, R.c.village)
    )
    return [(r.town_code, r.village) for r in (await session.execute(stmt)).all()]


def _rows_where(batch_id: str, town: str | None, village: str | None) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [R.c.batch_id == batch_id]
    if town:
        where.append(R.c.town_code == town)
    if village:
        where.append(R.c.village == village)
    return where


async def rows_tally(
    session: AsyncSession, *, batch_id: str, town: str | None, village: str | None
) -> tuple[int, int]:
    """Count and amount in fen of a batch's rows under a filter."""
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(R.c.amount_fen), 0)).where(
        *_rows_where(batch_id, town, village)
    )
    count, amount = (await session.execute(stmt)).one()
    return int(count), int(amount)


async def list_rows(
    session: AsyncSession, *, batch_id: str, town: str | None, village: str | None, limit: int, offset: int
) -> list[sa.RowMapping]:
    """One page of a batch's masked rows, by town, village, then record id."""
    stmt = (
        sa.select(R.c.town_code, R.c.village, R.c.name_masked, R.c.id_masked, R.c.amount_fen, R.c.settled_on)
        .where(*_rows_where(batch_id, town, village))
        .order_by(R.c.town_code, R.c.village, R.c.record_id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(stmt)).mappings().all())
