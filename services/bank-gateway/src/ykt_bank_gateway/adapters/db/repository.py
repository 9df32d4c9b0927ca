"""Every query of the bank-gateway, set-wise: one statement per chunk, group or callback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.model import BankResult
from .tables import bank_batches, instructions, received_chunks

I = instructions.c  # noqa: E741 - short alias for column access


def _in(seconds: float) -> sa.ColumnElement[Any]:
    """now() plus `seconds`, as a timestamp expression."""
    return sa.func.now() + sa.literal(timedelta(seconds=seconds), sa.Interval)


# ------------------------------------------------------------------ incoming instructions


async def add_bank_batch(session: AsyncSession, values: dict[str, Any]) -> Any:
    """Insert the (batch, bank) header unless present; return it locked for this transaction."""
    await session.execute(insert(bank_batches).values(**values).on_conflict_do_nothing())
    row = (
        await session.execute(
            sa.select(bank_batches)
            .where(
                bank_batches.c.batch_id == values["batch_id"], bank_batches.c.bank_code == values["bank_code"]
            )
            .with_for_update()
        )
    ).one()
    return row


async def traceparents(session: AsyncSession, *, bank_code: str, batch_ids: Sequence[str]) -> dict[str, str]:
    """The trace context each of these batches arrived with at this bank (where one was stored)."""
    rows = await session.execute(
        sa.select(bank_batches.c.batch_id, bank_batches.c.traceparent).where(
            bank_batches.c.bank_code == bank_code,
            bank_batches.c.batch_id.in_(list(batch_ids)),
            bank_batches.c.traceparent.is_not(None),
        )
    )
    return {r.batch_id: r.traceparent for r in rows}


async def add_chunk(
    session: AsyncSession, *, batch_id: str, bank_code: str, index: int, record_count: int, amount_fen: int
) -> bool:
    """Record that a chunk arrived; False when it had arrived before."""
    stmt = (
        insert(received_chunks)
        .values(
            batch_id=batch_id,
            bank_code=bank_code,
            chunk_index=index,
            record_count=record_count,
            amount_fen=amount_fen,
        )
        .on_conflict_do_nothing()
        .returning(received_chunks.c.chunk_index)
    )
    return (await session.execute(stmt)).first() is not None


async def count_chunks(session: AsyncSession, *, batch_id: str, bank_code: str) -> int:
    stmt = sa.select(sa.func.count()).where(
        received_chunks.c.batch_id == batch_id, received_chunks.c.bank_code == bank_code
    )
    return int((await session.execute(stmt)).scalar_one())


async def insert_instructions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Multi-row insert; rows whose end-to-end id exists already are left alone. Returns how many were new."""
    if not rows:
        return 0
    stmt = insert(instructions).values(list(rows)).on_conflict_do_nothing().returning(I.end_to_end_id)
    return len((await session.execute(stmt)).all())


async def count_same_instructions(
    session: AsyncSession, *, batch_id: str, bank_code: str, ids: Sequence[str], amounts: Sequence[int]
) -> int:
    """How many of (id, amount) are stored for this very batch and bank (a re-sent chunk matches all)."""
    stmt = sa.text(
        """
        SELECT count(*) FROM instructions i
        JOIN unnest(CAST(:ids AS text[]), CAST(:amounts AS bigint[])) AS p(e2e, amount_fen)
          ON i.end_to_end_id = p.e2e
        WHERE i.batch_id = :batch_id AND i.bank_code = :bank_code AND i.amount_fen = p.amount_fen
        """
    )
    params = {"ids": list(ids), "amounts": list(amounts), "batch_id": batch_id, "bank_code": bank_code}
    return int((await session.execute(stmt, params)).scalar_one())


async def instruction_totals(session: AsyncSession, *, batch_id: str, bank_code: str) -> tuple[int, int]:
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(I.amount_fen), 0)).where(
        I.batch_id == batch_id, I.bank_code == bank_code
    )
    count, amount = (await session.execute(stmt)).one()
    return int(count), int(amount)


async def mark_batch_complete(session: AsyncSession, *, batch_id: str, bank_code: str) -> None:
    await session.execute(
        sa.update(bank_batches)
        .where(bank_batches.c.batch_id == batch_id, bank_batches.c.bank_code == bank_code)
        .values(status="complete", completed_at=sa.func.now())
    )


# ------------------------------------------------------------------ dispatcher


async def lock_in_order(session: AsyncSession, *, ids: Sequence[str]) -> None:
    """Row-lock these instructions in end-to-end-id order before writing them.

    Bank callbacks lock the rows they settle in that order (`lock_for_results`) while the
    dispatcher marks the same rows sent, failed or due again; a plain ``UPDATE ... WHERE id IN``
    locks in whatever order its plan visits the rows (heap order under a sequential or bitmap
    scan), and the two would deadlock. With one order everywhere, one of them simply waits."""
    if not ids:
        return
    await session.execute(
        sa.select(I.end_to_end_id)
        .where(I.end_to_end_id.in_(list(ids)))
        .order_by(I.end_to_end_id)
        .with_for_update()
    )


async def due_groups(session: AsyncSession, *, banks: Sequence[str]) -> list[tuple[str, str]]:
    """One (bank, batch) group with unsent instructions due, per bank, from complete batches only."""
    stmt = sa.text(
        """
        SELECT DISTINCT ON (i.bank_code) i.bank_code, i.batch_id
        FROM instructions i
        JOIN bank_batches b ON b.batch_id = i.batch_id AND b.bank_code = i.bank_code
        WHERE i.status = 'new' AND i.next_attempt_at <= now() AND b.status = 'complete'
          AND i.bank_code = ANY(CAST(:banks AS text[]))
        ORDER BY i.bank_code, i.next_attempt_at, i.batch_id
        """
    )
    return [(r.bank_code, r.batch_id) for r in (await session.execute(stmt, {"banks": list(banks)})).all()]


async def claim_new(
    session: AsyncSession, *, bank_code: str, batch_id: str, limit: int, lease_seconds: float
) -> list[Any]:
    """Lock up to `limit` due unsent instructions of a group (skipping rows another worker holds)
    and lease them, so that nobody else picks them while the bank request is under way."""
    rows = (
        await session.execute(
            sa.select(
                I.end_to_end_id,
                I.name_enc,
                I.id_number_enc,
                I.account_no_enc,
                I.amount_fen,
                I.program_code,
                I.period,
                I.attempts,
            )
            .where(
                I.bank_code == bank_code,
                I.batch_id == batch_id,
                I.status == "new",
                I.next_attempt_at <= sa.func.now(),
            )
            .order_by(I.end_to_end_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if rows:
        await session.execute(
            sa.update(instructions)
            .where(I.end_to_end_id.in_([r.end_to_end_id for r in rows]))
            .values(next_attempt_at=_in(lease_seconds))
        )
    return list(rows)


async def mark_sent(session: AsyncSession, *, ids: Sequence[str], query_after_seconds: float) -> int:
    """The bank took these: count the try and mark them sent. A result may have come back before
    this (the bank answers quickly and no row lock is held during the request); such rows keep it."""
    await lock_in_order(session, ids=ids)
    is_new = I.status == "new"
    stmt = (
        sa.update(instructions)
        .where(I.end_to_end_id.in_(list(ids)))
        .values(
            status=sa.case((is_new, "sent"), else_=I.status),
            sent_at=sa.func.coalesce(I.sent_at, sa.func.now()),
            attempts=I.attempts + 1,
            next_attempt_at=sa.case((is_new, _in(query_after_seconds)), else_=I.next_attempt_at),
        )
    )
    return int((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def mark_send_failed(session: AsyncSession, *, ids: Sequence[str], base: float, cap: float) -> int:
    """Count the failed try and put the rows back after an exponential, capped delay; returns the
    highest attempt count."""
    await lock_in_order(session, ids=ids)
    stmt = sa.text(
        """
        UPDATE instructions
        SET attempts = attempts + 1,
            next_attempt_at = now() + make_interval(secs => least(CAST(:cap AS float8),
                                                                  CAST(:base AS float8) * power(2, attempts)))
        WHERE end_to_end_id = ANY(CAST(:ids AS text[])) AND status = 'new'
        RETURNING attempts
        """
    )
    rows = (await session.execute(stmt, {"ids": list(ids), "base": base, "cap": cap})).all()
    return max((r.attempts for r in rows), default=0)


async def claim_unanswered(
    session: AsyncSession, *, banks: Sequence[str], limit: int, lease_seconds: float
) -> list[tuple[str, str]]:
    """Sent instructions whose result is overdue: lock, lease and return (bank, end-to-end id)."""
    rows = (
        await session.execute(
            sa.select(I.bank_code, I.end_to_end_id)
            .where(I.status == "sent", I.next_attempt_at <= sa.func.now(), I.bank_code.in_(list(banks)))
            .order_by(I.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if rows:
        await session.execute(
            sa.update(instructions)
            .where(I.end_to_end_id.in_([r.end_to_end_id for r in rows]))
            .values(next_attempt_at=_in(lease_seconds))
        )
    return [(r.bank_code, r.end_to_end_id) for r in rows]


async def resend(session: AsyncSession, *, ids: Sequence[str]) -> int:
    """The bank does not know these sent instructions: make them due for sending again."""
    if not ids:
        return 0
    await lock_in_order(session, ids=ids)
    stmt = (
        sa.update(instructions)
        .where(I.end_to_end_id.in_(list(ids)), I.status == "sent")
        .values(status="new", next_attempt_at=sa.func.now())
    )
    return int((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class StoredAmount:
    end_to_end_id: str
    amount_fen: int
    status: str


async def lock_for_results(
    session: AsyncSession, *, bank_code: str, ids: Sequence[str]
) -> list[StoredAmount]:
    """Lock this bank's instructions named in a result set, in id order (no deadlock between
    concurrent callbacks), and return their amounts and statuses."""
    rows = (
        await session.execute(
            sa.select(I.end_to_end_id, I.amount_fen, I.status)
            .where(I.end_to_end_id.in_(list(ids)), I.bank_code == bank_code)
            .order_by(I.end_to_end_id)
            .with_for_update()
        )
    ).all()
    return [StoredAmount(r.end_to_end_id, int(r.amount_fen), r.status) for r in rows]


async def record_results(
    session: AsyncSession, *, bank_code: str, results: Sequence[BankResult]
) -> list[Any]:
    """Set final results on instructions still open (new/sent) whose amount matches; return exactly
    the rows this statement changed, with what their events need."""
    if not results:
        return []
    stmt = sa.text(
        """
        UPDATE instructions AS i
        SET status = r.status, reason_code = r.reason_code, reason = r.reason, bank_txn_id = r.bank_txn_id,
            settled_on = r.settled_on, result_at = now()
        FROM unnest(CAST(:e2e AS text[]), CAST(:status AS text[]), CAST(:reason_code AS text[]),
                    CAST(:reason AS text[]), CAST(:txn AS text[]), CAST(:settled_on AS date[]),
                    CAST(:amount AS bigint[]))
             AS r(end_to_end_id, status, reason_code, reason, bank_txn_id, settled_on, amount_fen)
        WHERE i.end_to_end_id = r.end_to_end_id AND i.bank_code = :bank_code
          AND i.amount_fen = r.amount_fen AND i.status IN ('new', 'sent')
        RETURNING i.end_to_end_id, i.record_id, i.batch_id, i.person_key, i.name_enc, i.id_number_enc,
                  i.program_code, i.period, i.town_code, i.village, i.amount_fen, i.status, i.reason_code,
                  i.reason, i.bank_txn_id, i.settled_on
        """
    )
    params = {
        "bank_code": bank_code,
        "e2e": [r.end_to_end_id for r in results],
        "status": [r.status for r in results],
        "reason_code": [r.reason_code for r in results],
        "reason": [r.reason for r in results],
        "txn": [r.bank_txn_id for r in results],
        "settled_on": [r.settled_on.isoformat() if r.settled_on else None for r in results],
        "amount": [r.amount_fen for r in results],
    }
    return list((await session.execute(stmt, params)).all())


# ------------------------------------------------------------------ queries for operators


@dataclass(frozen=True)
class InstructionFilter:
    batch_id: str | None = None
    bank_code: str | None = None
    status: str | None = None
    unit_code: str | None = None


async def list_instructions(
    session: AsyncSession, *, where: InstructionFilter, limit: int, offset: int
) -> tuple[list[Any], int]:
    conds = []
    if where.batch_id is not None:
        conds.append(I.batch_id == where.batch_id)
    if where.bank_code is not None:
        conds.append(I.bank_code == where.bank_code)
    if where.status is not None:
        conds.append(I.status == where.status)
    if where.unit_code is not None:
        conds.append(I.unit_code == where.unit_code)
    total = int(
        (
            await session.execute(sa.select(sa.func.count()).select_from(instructions).where(*conds))
        ).scalar_one()
    )
    rows = (
        await session.execute(
            sa.select(
                I.end_to_end_id,
                I.record_id,
                I.batch_id,
                I.bank_code,
                I.unit_code,
                I.program_code,
                I.period,
                I.name_enc,
                I.account_no_enc,
                I.amount_fen,
                I.town_code,
                I.village,
                I.status,
                I.reason_code,
                I.reason,
                I.bank_txn_id,
                I.settled_on,
                I.attempts,
                I.sent_at,
                I.result_at,
            )
            .where(*conds)
            .order_by(I.created_at, I.end_to_end_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), total
