"""Queries of reference data: catalogue, divisions, banks, organisations, agreements, their audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import AGREEMENTS, BANKS, DIVISIONS, ORGANISATIONS, PROGRAMS, REFERENCE_CHANGES


async def rows_by_key(
    session: AsyncSession, table: sa.Table, key: str, keys: Sequence[str], *, lock: bool = False
) -> dict[str, dict[str, Any]]:
    """The current rows for `keys` (locked when about to be changed), as plain dicts."""
    if not keys:
        return {}
    q = sa.select(table).where(table.c[key].in_(list(keys)))
    if lock:
        q = q.with_for_update()
    return {r._mapping[key]: dict(r._mapping) for r in (await session.execute(q)).all()}


async def upsert(session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]], key: str) -> None:
    """Insert or update `rows` in one statement (stamping `updated_at` where the table has it)."""
    if not rows:
        return
    stmt = insert(table).values(list(rows))
    cols: dict[str, Any] = {c: stmt.excluded[c] for c in rows[0] if c != key}
    if "updated_at" in table.c:
        cols["updated_at"] = sa.func.now()
    await session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols))


async def add_changes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(REFERENCE_CHANGES), list(rows))


async def changes(
    session: AsyncSession, *, entity: str | None, key: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    q = sa.select(REFERENCE_CHANGES).order_by(REFERENCE_CHANGES.c.id.desc()).limit(limit).offset(offset)
    if entity is not None:
        q = q.where(REFERENCE_CHANGES.c.entity == entity)
    if key is not None:
        q = q.where(REFERENCE_CHANGES.c.key == key)
    return [{**dict(r._mapping), "at": r.at.isoformat()} for r in (await session.execute(q)).all()]


async def exclusions(session: AsyncSession) -> dict[str, list[str]]:
    q = sa.select(PROGRAMS.c.code, PROGRAMS.c.exclusive_with)
    return {c: list(e or []) for c, e in (await session.execute(q)).all()}


async def trial_programs(session: AsyncSession) -> set[str]:
    q = sa.select(PROGRAMS.c.code).where(PROGRAMS.c.rollout == "trial")
    return set((await session.execute(q)).scalars())


async def divisions(
    session: AsyncSession, *, parent: str | None, kinds: Sequence[str] | None
) -> list[dict[str, Any]]:
    q = sa.select(DIVISIONS).order_by(DIVISIONS.c.code)
    if parent is not None:
        q = q.where(DIVISIONS.c.parent_code == parent)
    if kinds:
        q = q.where(DIVISIONS.c.kind.in_(list(kinds)))
    return [dict(r._mapping) for r in (await session.execute(q)).all()]


async def division_kinds(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    q = sa.select(DIVISIONS.c.code, DIVISIONS.c.kind).where(DIVISIONS.c.code.in_(list(codes)))
    return dict((await session.execute(q)).all())


async def banks_by_institution(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """institution_code -> bank code, for the given institution codes."""
    if not codes:
        return {}
    q = sa.select(BANKS.c.institution_code, BANKS.c.code).where(BANKS.c.institution_code.in_(list(codes)))
    return dict((await session.execute(q)).all())


async def organisations(session: AsyncSession, *, kind: str | None) -> list[dict[str, Any]]:
    q = sa.select(ORGANISATIONS).order_by(ORGANISATIONS.c.kind, ORGANISATIONS.c.code)
    if kind is not None:
        q = q.where(ORGANISATIONS.c.kind == kind)
    return [dict(r._mapping) for r in (await session.execute(q)).all()]


async def organisation_kinds(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    q = sa.select(ORGANISATIONS.c.code, ORGANISATIONS.c.kind).where(ORGANISATIONS.c.code.in_(list(codes)))
    return dict((await session.execute(q)).all())


async def agreements(
    session: AsyncSession, *, unit: str | None, bank_org: str | None, active_only: bool
) -> list[dict[str, Any]]:
    """Agreements in the caller's scope: a unit's own, or those with a bank organisation's bank."""
    q = sa.select(AGREEMENTS).order_by(AGREEMENTS.c.unit_code, AGREEMENTS.c.id)
    if unit is not None:
        q = q.where(AGREEMENTS.c.unit_code == unit)
    if bank_org is not None:
        own_bank = (
            sa.select(ORGANISATIONS.c.bank_code).where(ORGANISATIONS.c.code == bank_org).scalar_subquery()
        )
        q = q.where(AGREEMENTS.c.bank_code == own_bank)
    if active_only:
        q = q.where(AGREEMENTS.c.status == "active")
    return [dict(r._mapping) for r in (await session.execute(q)).all()]


async def active_agreements(session: AsyncSession, units: Sequence[str]) -> dict[str, dict[str, Any]]:
    q = (
        sa.select(AGREEMENTS)
        .where(AGREEMENTS.c.unit_code.in_(list(units)), AGREEMENTS.c.status == "active")
        .with_for_update()
    )
    return {r.unit_code: dict(r._mapping) for r in (await session.execute(q)).all()}


async def agreement_numbers(session: AsyncSession, numbers: Sequence[str]) -> dict[str, str]:
    """agreement_no -> unit, for the numbers already used."""
    q = sa.select(AGREEMENTS.c.agreement_no, AGREEMENTS.c.unit_code).where(
        AGREEMENTS.c.agreement_no.in_(list(numbers))
    )
    return dict((await session.execute(q)).all())


async def end_agreements(session: AsyncSession, ends: Sequence[tuple[int, date]]) -> None:
    """End the given agreements (id, ended_on) in one statement."""
    if not ends:
        return
    v = sa.values(sa.column("aid", sa.BigInteger), sa.column("ended", sa.Date), name="v").data(list(ends))
    await session.execute(
        sa.update(AGREEMENTS).where(AGREEMENTS.c.id == v.c.aid).values(status="ended", ended_on=v.c.ended)
    )


async def insert_agreements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(AGREEMENTS), list(rows))
