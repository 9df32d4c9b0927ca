"""Every query of the registry, set-wise where records are concerned."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import (
    BANKS,
    BATCHES,
    DIVISIONS,
    PROGRAMS,
    RECORDS,
    ROUND_CHUNKS,
    ROUNDS,
    STATUS_HISTORY,
)


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


async def code_by_name(session: AsyncSession) -> dict[str, dict[str, str]]:
    """Names operators write instead of codes: {"town": {新山村街道: 500104001000}, "bank": {…}}."""
    towns = await session.execute(
        sa.select(DIVISIONS.c.name, DIVISIONS.c.code).where(DIVISIONS.c.kind.in_(["街道", "镇", "乡"]))
    )
    banks = await session.execute(sa.select(BANKS.c.name, BANKS.c.code))
    return {
        "town": {str(n): str(c) for n, c in towns.all()},
        "bank": {str(n): str(c) for n, c in banks.all()},
    }


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


async def claim_batch(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Insert the batch unless its (unit, batch number) or (unit, file hash) is taken.

    A concurrent transaction holding the same key makes this wait for it: if it commits, the
    insert does nothing (False) and the winner's row is visible to the next statement."""
    q = insert(BATCHES).values(**row).on_conflict_do_nothing().returning(BATCHES.c.batch_id)
    return (await session.execute(q)).first() is not None


async def batch_by_unit_file(session: AsyncSession, unit: str, file_sha256: str) -> sa.Row[Any] | None:
    q = sa.select(BATCHES).where(BATCHES.c.unit_code == unit, BATCHES.c.file_sha256 == file_sha256)
    return (await session.execute(q)).first()


async def set_batch(
    session: AsyncSession, batch_id: str, *, only_from: Sequence[str] | None = None, **values: Any
) -> bool:
    """Update the batch (if in one of `only_from`); a change of status goes into its history."""
    old = (
        await session.execute(
            sa.select(BATCHES.c.status).where(BATCHES.c.batch_id == batch_id).with_for_update()
        )
    ).scalar_one_or_none()
    if old is None or (only_from is not None and old not in only_from):
        return False
    q = (
        sa.update(BATCHES)
        .where(BATCHES.c.batch_id == batch_id)
        .values(**values, updated_at=sa.func.now())
        .returning(BATCHES.c.status, BATCHES.c.current_round)
    )
    new = (await session.execute(q)).one()
    if new.status != old:
        await add_history(session, batch_id, new.status, from_status=old, round_=new.current_round)
    return True


async def add_history(
    session: AsyncSession, batch_id: str, status: str, *, from_status: str | None, round_: int | None
) -> None:
    await session.execute(
        sa.insert(STATUS_HISTORY).values(
            batch_id=batch_id, status=status, from_status=from_status, round=round_
        )
    )


async def history(session: AsyncSession, batch_id: str) -> list[sa.Row[Any]]:
    q = sa.select(STATUS_HISTORY).where(STATUS_HISTORY.c.batch_id == batch_id).order_by(STATUS_HISTORY.c.id)
    return list((await session.execute(q)).all())


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


#: Columns of batch_records written by COPY, in this order (see `copy_records`).
COPY_COLUMNS = (
    "record_id",
    "batch_id",
    "seq",
    "person_key",
    "name",
    "id_number_enc",
    "account_no_enc",
    "account_tail",
    "bank_code",
    "amount_fen",
    "quantity",
    "town_code",
    "village",
    "round",
    "status",
)


async def copy_records(session: AsyncSession, data: bytes) -> None:
    """Append records given as COPY text lines (columns `COPY_COLUMNS`) in the session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection  # psycopg.AsyncConnection
    async with (
        pg.cursor() as cur,
        cur.copy(f"COPY batch_records ({', '.join(COPY_COLUMNS)}) FROM STDIN") as cp,
    ):
        await cp.write(data)


async def round_totals(session: AsyncSession, batch_id: str, round_: int) -> tuple[int, int]:
    """Count and amount of the records travelling in `round_` (status submitted)."""
    q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(RECORDS.c.amount_fen), 0)).where(
        RECORDS.c.batch_id == batch_id, RECORDS.c.round == round_, RECORDS.c.status == "submitted"
    )
    n, amount = (await session.execute(q)).one()
    return int(n), int(amount)


@asynccontextmanager
async def round_records(
    session: AsyncSession, batch_id: str, round_: int
) -> AsyncIterator[Callable[[int], Awaitable[list[Any]]]]:
    """The records travelling in `round_`, in seq order, through a server-side cursor: yields
    `fetch(n)` giving the next n rows (fewer at the end). One statement and one plan for the
    whole round, so a million records cost one scan, not a query per page whose plan (without
    statistics on rows this transaction wrote) may re-scan the batch each time."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection  # psycopg.AsyncConnection
    async with pg.cursor(name=f"round_{uuid.uuid4().hex}", row_factory=namedtuple_row) as cur:
        await cur.execute(
            "SELECT record_id, seq, person_key, id_number_enc, name, account_no_enc, bank_code,"
            " amount_fen, quantity, town_code, village, reissue_of_record_id FROM batch_records"
            " WHERE batch_id = %s AND round = %s AND status = 'submitted' ORDER BY seq",
            (batch_id, round_),
        )
        yield cur.fetchmany


async def start_round_for_corrected(session: AsyncSession, batch_id: str, round_: int) -> int:
    """Corrected records of the batch travel again, as `round_`; returns how many."""
    q = (
        sa.update(RECORDS)
        .where(RECORDS.c.batch_id == batch_id, RECORDS.c.status == "corrected")
        .values(status="submitted", round=round_, updated_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


async def copy_corrected_into(
    session: AsyncSession, old_batch_id: str, new_batch_id: str
) -> tuple[int, int, str]:
    """Copy the corrected records of a batch into a new (re-issue) batch, numbered 1.. in their
    order, each naming the record it re-issues; returns count, amount and a digest of the ids."""
    stmt = sa.text(
        """
        WITH src AS (
            SELECT * FROM batch_records WHERE batch_id = :old AND status = 'corrected'
        ), ins AS (
            INSERT INTO batch_records (record_id, batch_id, seq, person_key, name, id_number_enc,
                account_no_enc, account_tail, bank_code, amount_fen, quantity, town_code, village,
                reissue_of_record_id, round, status)
            SELECT gen_random_uuid()::text, :new, row_number() OVER (ORDER BY seq), person_key, name,
                id_number_enc, account_no_enc, account_tail, bank_code, amount_fen, quantity,
                town_code, village, record_id, 1, 'submitted'
            FROM src
            RETURNING amount_fen
        )
        SELECT (SELECT count(*) FROM ins), (SELECT coalesce(sum(amount_fen), 0) FROM ins),
               (SELECT encode(sha256(convert_to(coalesce(string_agg(record_id, ',' ORDER BY seq), ''),
                                                'UTF8')), 'hex') FROM src)
        """
    )
    n, amount, digest = (await session.execute(stmt, {"old": old_batch_id, "new": new_batch_id})).one()
    return int(n), int(amount), str(digest)


async def records(
    session: AsyncSession,
    batch_id: str,
    *,
    status: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    after_seq: int | None = None,
) -> list[sa.Row[Any]]:
    q = sa.select(RECORDS).where(RECORDS.c.batch_id == batch_id).order_by(RECORDS.c.seq).offset(offset)
    if status:
        q = q.where(RECORDS.c.status.in_(list(status)))
    if after_seq is not None:
        q = q.where(RECORDS.c.seq > after_seq)
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
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


async def set_status_for(
    session: AsyncSession, record_ids: Sequence[str], status: str, *, only_from: Sequence[str]
) -> int:
    q = (
        sa.update(RECORDS)
        .where(RECORDS.c.record_id.in_(list(record_ids)), RECORDS.c.status.in_(list(only_from)))
        .values(status=status, updated_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


async def set_status_of_batch(
    session: AsyncSession, batch_id: str, status: str, *, only_from: Sequence[str]
) -> int:
    q = (
        sa.update(RECORDS)
        .where(RECORDS.c.batch_id == batch_id, RECORDS.c.status.in_(list(only_from)))
        .values(status=status, updated_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


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
