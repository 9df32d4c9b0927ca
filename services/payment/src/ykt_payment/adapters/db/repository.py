"""Every query of the payment service: set-wise, in the caller's transaction, never committing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.model import OrderStatus, Sums
from .tables import BATCHES, FUNDING, LEDGER, ORDERS

_count = sa.func.count()
_sum = sa.func.coalesce(sa.func.sum(ORDERS.c.amount_fen), 0)


def _filter_sum(status: str) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(ORDERS.c.amount_fen).filter(ORDERS.c.status == status), 0)


def _filter_count(status: str) -> sa.ColumnElement[Any]:
    return sa.func.count().filter(ORDERS.c.status == status)


# ---------------------------------------------------------------- batches


async def ensure_batch(
    session: AsyncSession, *, batch_id: str, unit_code: str, program_code: str, period: str, status: str
) -> bool:
    """Create the batch row in `status` unless it exists; True when it was created."""
    result = await session.execute(
        insert(BATCHES)
        .values(
            batch_id=batch_id, unit_code=unit_code, program_code=program_code, period=period, status=status
        )
        .on_conflict_do_nothing(index_elements=[BATCHES.c.batch_id])
        .returning(BATCHES.c.batch_id)
    )
    return result.first() is not None


async def lock_batch(session: AsyncSession, batch_id: str) -> Row[Any] | None:
    """The batch row, locked until the transaction ends: every change of a batch goes through
    this, so that concurrent handlers of one batch (different topics) see each other's work."""
    return (
        await session.execute(sa.select(BATCHES).where(BATCHES.c.batch_id == batch_id).with_for_update())
    ).first()


async def get_batch(session: AsyncSession, batch_id: str) -> Row[Any] | None:
    return (await session.execute(sa.select(BATCHES).where(BATCHES.c.batch_id == batch_id))).first()


async def set_batch(
    session: AsyncSession, batch_id: str, *, only_from: Collection[str] | None = None, **values: Any
) -> bool:
    """Update the batch (only from the given states, if any); True when a row changed."""
    stmt = sa.update(BATCHES).where(BATCHES.c.batch_id == batch_id)
    if only_from is not None:
        stmt = stmt.where(BATCHES.c.status.in_(list(only_from)))
    result = await session.execute(
        stmt.values(updated_at=sa.func.now(), **values).returning(BATCHES.c.batch_id)
    )
    return result.first() is not None


async def list_batches(
    session: AsyncSession, *, status: str | None, unit_code: str | None, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
    where = []
    if status is not None:
        where.append(BATCHES.c.status == status)
    if unit_code is not None:
        where.append(BATCHES.c.unit_code == unit_code)
    total = (await session.execute(sa.select(_count).select_from(BATCHES).where(*where))).scalar_one()
    rows = (
        await session.execute(
            sa.select(BATCHES)
            .where(*where)
            .order_by(BATCHES.c.updated_at, BATCHES.c.batch_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), int(total)


# ---------------------------------------------------------------- orders


async def insert_orders(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert orders set-wise; an existing record id is left as it is (orders are immutable)."""
    if not rows:
        return 0
    result = await session.execute(
        insert(ORDERS)
        .on_conflict_do_nothing(index_elements=[ORDERS.c.record_id])
        .returning(ORDERS.c.record_id),
        list(rows),
    )
    return len(result.all())


async def order_sums(session: AsyncSession, batch_id: str, *, status: Collection[str] | None = None) -> Sums:
    stmt = sa.select(_count, _sum).where(ORDERS.c.batch_id == batch_id)
    if status is not None:
        stmt = stmt.where(ORDERS.c.status.in_(list(status)))
    n, amount = (await session.execute(stmt)).one()
    return Sums(int(n), int(amount))


async def bank_sums(session: AsyncSession, batch_id: str, *, status: str) -> dict[str, Sums]:
    rows = await session.execute(
        sa.select(ORDERS.c.bank_code, _count, _sum)
        .where(ORDERS.c.batch_id == batch_id, ORDERS.c.status == status)
        .group_by(ORDERS.c.bank_code)
        .order_by(ORDERS.c.bank_code)
    )
    return {r[0]: Sums(int(r[1]), int(r[2])) for r in rows}


async def bank_breakdown(
    session: AsyncSession, batch_ids: Sequence[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """Per batch, per bank code: record count and amount of its orders."""
    out: dict[str, dict[str, dict[str, int]]] = {b: {} for b in batch_ids}
    if not batch_ids:
        return out
    rows = await session.execute(
        sa.select(ORDERS.c.batch_id, ORDERS.c.bank_code, _count, _sum)
        .where(ORDERS.c.batch_id.in_(list(batch_ids)))
        .group_by(ORDERS.c.batch_id, ORDERS.c.bank_code)
        .order_by(ORDERS.c.batch_id, ORDERS.c.bank_code)
    )
    for batch_id, bank, n, amount in rows:
        out[batch_id][bank] = {"records": int(n), "amount_fen": int(amount)}
    return out


async def bank_detail(session: AsyncSession, batch_id: str) -> dict[str, dict[str, Any]]:
    """Per bank code of the batch: orders, funding and results."""
    per_bank = (
        sa.select(
            ORDERS.c.bank_code,
            _count.label("records"),
            _sum.label("amount_fen"),
            _filter_count(OrderStatus.SETTLED).label("settled_count"),
            _filter_sum(OrderStatus.SETTLED).label("settled_fen"),
            _filter_count(OrderStatus.FAILED).label("failed_count"),
            _filter_sum(OrderStatus.FAILED).label("failed_fen"),
        )
        .where(ORDERS.c.batch_id == batch_id)
        .group_by(ORDERS.c.bank_code)
        .subquery()
    )
    rows = await session.execute(
        sa.select(per_bank, FUNDING.c.funded_fen, FUNDING.c.instructed_fen, FUNDING.c.voucher_no)
        .select_from(
            per_bank.outerjoin(
                FUNDING, sa.and_(FUNDING.c.batch_id == batch_id, FUNDING.c.bank_code == per_bank.c.bank_code)
            )
        )
        .order_by(per_bank.c.bank_code)
    )
    return {
        r.bank_code: {
            "records": int(r.records),
            "amount_fen": int(r.amount_fen),
            "funded_fen": int(r.funded_fen or 0),
            "instructed_fen": int(r.instructed_fen or 0),
            "voucher_no": r.voucher_no,
            "settled": {"record_count": int(r.settled_count), "amount_fen": int(r.settled_fen)},
            "failed": {"record_count": int(r.failed_count), "amount_fen": int(r.failed_fen)},
        }
        for r in rows
    }


async def status_counts(session: AsyncSession, batch_id: str) -> dict[str, Sums]:
    rows = await session.execute(
        sa.select(ORDERS.c.status, _count, _sum)
        .where(ORDERS.c.batch_id == batch_id)
        .group_by(ORDERS.c.status)
    )
    return {r[0]: Sums(int(r[1]), int(r[2])) for r in rows}


async def existing_record_ids(session: AsyncSession, batch_id: str, record_ids: Collection[str]) -> set[str]:
    if not record_ids:
        return set()
    rows = await session.execute(
        sa.select(ORDERS.c.record_id).where(
            ORDERS.c.batch_id == batch_id, ORDERS.c.record_id.in_(list(record_ids))
        )
    )
    return {r[0] for r in rows}


async def list_orders(
    session: AsyncSession, batch_id: str, *, status: str | None, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
    where = [ORDERS.c.batch_id == batch_id]
    if status is not None:
        where.append(ORDERS.c.status == status)
    total = (await session.execute(sa.select(_count).select_from(ORDERS).where(*where))).scalar_one()
    rows = (
        await session.execute(
            sa.select(ORDERS).where(*where).order_by(ORDERS.c.record_id).limit(limit).offset(offset)
        )
    ).all()
    return list(rows), int(total)


async def orders_in_status(session: AsyncSession, batch_id: str, status: str) -> list[Row[Any]]:
    """Orders of the batch in `status`, by bank then record id."""
    rows = await session.execute(
        sa.select(ORDERS)
        .where(ORDERS.c.batch_id == batch_id, ORDERS.c.status == status)
        .order_by(ORDERS.c.bank_code, ORDERS.c.record_id)
    )
    return list(rows.all())


# ---------------------------------------------------------------- funding and instructing


async def insert_funding(session: AsyncSession, batch_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """One row per bank: what the treasury paid into its special account, and the voucher."""
    if rows:
        await session.execute(
            sa.insert(FUNDING),
            [{"batch_id": batch_id, "instructed_fen": 0, **r} for r in rows],
        )


async def claim_ledger(session: AsyncSession, batch_id: str) -> int:
    """Claim the ledger for every validated order of the batch; a person-period already claimed
    (by another batch, or by an earlier order of this one) is left to its first claimant."""
    source = (
        sa.select(
            ORDERS.c.person_key,
            ORDERS.c.program_code,
            ORDERS.c.period,
            ORDERS.c.record_id,
            sa.literal("instructed", sa.Text),
        )
        .where(ORDERS.c.batch_id == batch_id, ORDERS.c.status == OrderStatus.VALIDATED)
        .order_by(ORDERS.c.record_id)
    )
    stmt = (
        insert(LEDGER)
        .from_select(["person_key", "program_code", "period", "record_id", "state"], source)
        .on_conflict_do_nothing()
        .returning(LEDGER.c.record_id)
    )
    return len((await session.execute(stmt)).all())


async def mark_claimed_instructed(session: AsyncSession, batch_id: str) -> dict[str, Sums]:
    """Validated orders that hold their ledger claim become instructed; sums per bank."""
    result = await session.execute(
        sa.update(ORDERS)
        .where(
            ORDERS.c.batch_id == batch_id,
            ORDERS.c.status == OrderStatus.VALIDATED,
            ORDERS.c.record_id == LEDGER.c.record_id,
        )
        .values(status=OrderStatus.INSTRUCTED, updated_at=sa.func.now())
        .returning(ORDERS.c.bank_code, ORDERS.c.amount_fen)
    )
    return _per_bank(result.all())


async def mark_unclaimed_blocked(session: AsyncSession, batch_id: str, *, code: str, reason: str) -> Sums:
    """Validated orders left without a ledger claim are blocked as duplicates."""
    result = await session.execute(
        sa.update(ORDERS)
        .where(ORDERS.c.batch_id == batch_id, ORDERS.c.status == OrderStatus.VALIDATED)
        .values(status=OrderStatus.BLOCKED, reason_code=code, reason=reason, updated_at=sa.func.now())
        .returning(ORDERS.c.amount_fen)
    )
    amounts = [int(r[0]) for r in result]
    return Sums(len(amounts), sum(amounts))


async def raise_instructed(session: AsyncSession, batch_id: str, amounts: dict[str, int]) -> int:
    """Add instructed amounts to the banks' funding rows; the CHECK refuses more than funded.

    Returns how many funding rows were raised (a bank without a funding row is not raised)."""
    if not amounts:
        return 0
    v = sa.values(sa.column("bank_code", sa.Text), sa.column("amount", sa.BigInteger), name="v").data(
        list(amounts.items())
    )
    result = await session.execute(
        sa.update(FUNDING)
        .where(FUNDING.c.batch_id == batch_id, FUNDING.c.bank_code == v.c.bank_code)
        .values(instructed_fen=FUNDING.c.instructed_fen + v.c.amount)
        .returning(FUNDING.c.bank_code)
    )
    return len(result.all())


# ---------------------------------------------------------------- bank results


async def settle(session: AsyncSession, batch_id: str, bank_code: str, record_ids: Sequence[str]) -> Sums:
    """Instructed orders the bank confirms become settled and their ledger rows confirmed."""
    if not record_ids:
        return Sums()
    result = await session.execute(
        sa.update(ORDERS)
        .where(
            ORDERS.c.batch_id == batch_id,
            ORDERS.c.bank_code == bank_code,
            ORDERS.c.status == OrderStatus.INSTRUCTED,
            ORDERS.c.record_id.in_(list(record_ids)),
        )
        .values(status=OrderStatus.SETTLED, updated_at=sa.func.now())
        .returning(ORDERS.c.record_id, ORDERS.c.amount_fen)
    )
    rows = result.all()
    if rows:
        await session.execute(
            sa.update(LEDGER).where(LEDGER.c.record_id.in_([r[0] for r in rows])).values(state="settled")
        )
    return Sums(len(rows), sum(int(r[1]) for r in rows))


async def fail(
    session: AsyncSession, batch_id: str, bank_code: str, records: Sequence[tuple[str, str, str]]
) -> Sums:
    """Instructed orders the bank could not credit become failed with its reason, and their
    ledger rows are released so that a corrected re-issue may claim the person-period again."""
    if not records:
        return Sums()
    v = sa.values(
        sa.column("record_id", sa.Text), sa.column("code", sa.Text), sa.column("reason", sa.Text), name="v"
    ).data(list(records))
    result = await session.execute(
        sa.update(ORDERS)
        .where(
            ORDERS.c.batch_id == batch_id,
            ORDERS.c.bank_code == bank_code,
            ORDERS.c.status == OrderStatus.INSTRUCTED,
            ORDERS.c.record_id == v.c.record_id,
        )
        .values(status=OrderStatus.FAILED, reason_code=v.c.code, reason=v.c.reason, updated_at=sa.func.now())
        .returning(ORDERS.c.record_id, ORDERS.c.amount_fen)
    )
    rows = result.all()
    if rows:
        await session.execute(sa.delete(LEDGER).where(LEDGER.c.record_id.in_([r[0] for r in rows])))
    return Sums(len(rows), sum(int(r[1]) for r in rows))


async def ledger_rows(session: AsyncSession, person_key: str) -> list[Row[Any]]:
    """The ledger rows of one person (for inspection and tests)."""
    rows = await session.execute(sa.select(LEDGER).where(LEDGER.c.person_key == person_key))
    return list(rows.all())


def _per_bank(rows: Sequence[Row[Any]]) -> dict[str, Sums]:
    acc: dict[str, list[int]] = {}
    for row in rows:
        a = acc.setdefault(row.bank_code, [0, 0])
        a[0] += 1
        a[1] += int(row.amount_fen)
    return {bank: Sums(n, amt) for bank, (n, amt) in sorted(acc.items())}
