"""Queries of beneficiaries, accounts and account changes. Every read takes the caller's town
(None = every town) and puts it in the WHERE clause: scope is enforced by the query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import ACCOUNT_CHANGES, ACCOUNTS, DIVISIONS, PERSONS, PII_ACCESS

CHUNK = 5000

# a literal, not a bound parameter: only then can a prepared (generic) plan use the partial
# unique indexes `… WHERE status = 'active'` (else every look-up scans the whole table)
IS_ACTIVE = ACCOUNTS.c.status == sa.literal_column("'active'")
_ACTIVE = sa.and_(ACCOUNTS.c.person_key == PERSONS.c.person_key, IS_ACTIVE)
_PERSON_WITH_ACCOUNT = [
    PERSONS,
    ACCOUNTS.c.account_id,
    ACCOUNTS.c.carrier,
    ACCOUNTS.c.bank_code,
    ACCOUNTS.c.account_no_enc,
    ACCOUNTS.c.account_key,
    ACCOUNTS.c.account_tail,
    ACCOUNTS.c.holder_name,
    ACCOUNTS.c.opened_at,
]


def _in_town(q: Any, town: str | None) -> Any:
    return q if town is None else q.where(PERSONS.c.town_code == town)


def _text_array(values: Sequence[str]) -> Any:
    """One array parameter (`= ANY(:keys)`) instead of thousands of IN-list parameters."""
    return sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.Text))


async def villages(session: AsyncSession, towns: Sequence[str]) -> dict[str, dict[str, str]]:
    """town code -> {village name: village code}, for the towns that have villages loaded."""
    if not towns:
        return {}
    q = sa.select(DIVISIONS.c.parent_code, DIVISIONS.c.name, DIVISIONS.c.code).where(
        DIVISIONS.c.parent_code.in_(list(towns)), DIVISIONS.c.kind.in_(["社区", "村"])
    )
    out: dict[str, dict[str, str]] = {}
    for parent, name, code in (await session.execute(q)).all():
        out.setdefault(parent, {})[name] = code
    return out


async def persons_with_account(
    session: AsyncSession, keys: Sequence[str], *, lock: bool = False
) -> dict[str, sa.Row[Any]]:
    """Existing persons among `keys`, with their active account (None columns if they have none)."""
    out: dict[str, sa.Row[Any]] = {}
    for i in range(0, len(keys), CHUNK):
        q = (
            sa.select(*_PERSON_WITH_ACCOUNT)
            .select_from(PERSONS.outerjoin(ACCOUNTS, _ACTIVE))
            .where(PERSONS.c.person_key == sa.func.any(_text_array(keys[i : i + CHUNK])))
        )
        if lock:
            q = q.with_for_update(of=PERSONS)
        out.update({r.person_key: r for r in (await session.execute(q)).all()})
    return out


async def active_owners(session: AsyncSession, account_keys: Sequence[str]) -> dict[str, str]:
    """account blind index -> the person whose active account it is."""
    out: dict[str, str] = {}
    for i in range(0, len(account_keys), CHUNK):
        q = sa.select(ACCOUNTS.c.account_key, ACCOUNTS.c.person_key).where(
            ACCOUNTS.c.account_key == sa.func.any(_text_array(account_keys[i : i + CHUNK])),
            IS_ACTIVE,
        )
        out.update(dict((await session.execute(q)).all()))
    return out


def _unnest_insert(table: sa.Table, columns: Sequence[str], tail: str) -> sa.TextClause:
    """INSERT … SELECT FROM unnest(one array per column) …: one short statement whatever the row
    count (the driver prepares it once), instead of a VALUES list as long as the rows."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
    names = ", ".join(columns)
    return sa.text(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) AS t({names}) {tail}")


def _columns(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {c: [r[c] for r in rows] for c in rows[0]}


async def upsert_persons(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new persons and update changed ones, one statement per chunk (status is kept)."""
    for i in range(0, len(rows), CHUNK):
        part = list(rows[i : i + CHUNK])
        keep = {"person_key", "created_by"}
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in part[0] if c not in keep)
        tail = f"ON CONFLICT (person_key) DO UPDATE SET {sets}, updated_at = now()"
        await session.execute(_unnest_insert(PERSONS, list(part[0]), tail), _columns(part))


async def open_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert accounts; a row that would be a second active account (or a taken number) is
    skipped by the unique indexes, so the caller compares counts. Returns the new ids."""
    ids: list[int] = []
    for i in range(0, len(rows), CHUNK):
        part = list(rows[i : i + CHUNK])
        q = _unnest_insert(ACCOUNTS, list(part[0]), "ON CONFLICT DO NOTHING RETURNING account_id")
        ids += list((await session.execute(q, _columns(part))).scalars())
    return ids


async def close_accounts(session: AsyncSession, account_ids: Sequence[int]) -> int:
    if not account_ids:
        return 0
    q = (
        sa.update(ACCOUNTS)
        .where(ACCOUNTS.c.account_id.in_(list(account_ids)), IS_ACTIVE)
        .values(status="closed", closed_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


async def persons(
    session: AsyncSession,
    *,
    town: str | None,
    status: str | None,
    village: str | None,
    limit: int,
    offset: int,
) -> list[sa.Row[Any]]:
    q = (
        sa.select(*_PERSON_WITH_ACCOUNT)
        .select_from(PERSONS.outerjoin(ACCOUNTS, _ACTIVE))
        .order_by(PERSONS.c.town_code, PERSONS.c.village, PERSONS.c.person_key)
        .limit(limit)
        .offset(offset)
    )
    q = _in_town(q, town)
    if status is not None:
        q = q.where(PERSONS.c.status == status)
    if village is not None:
        q = q.where(PERSONS.c.village == village)
    return list((await session.execute(q)).all())


async def person(
    session: AsyncSession, person_key: str, *, town: str | None, lock: bool = False
) -> sa.Row[Any] | None:
    q = _in_town(
        sa.select(*_PERSON_WITH_ACCOUNT)
        .select_from(PERSONS.outerjoin(ACCOUNTS, _ACTIVE))
        .where(PERSONS.c.person_key == person_key),
        town,
    )
    if lock:
        q = q.with_for_update(of=PERSONS)
    return (await session.execute(q)).first()


async def accounts_of(session: AsyncSession, person_key: str) -> list[sa.Row[Any]]:
    q = sa.select(ACCOUNTS).where(ACCOUNTS.c.person_key == person_key).order_by(ACCOUNTS.c.account_id)
    return list((await session.execute(q)).all())


async def set_person_status(session: AsyncSession, person_key: str, status: str, reason: str) -> None:
    await session.execute(
        sa.update(PERSONS)
        .where(PERSONS.c.person_key == person_key)
        .values(status=status, status_reason=reason, updated_at=sa.func.now())
    )


def _changes_in_town(q: Any, town: str | None) -> Any:
    # the person's current town decides, so a person who moved is handled by the new town
    if town is None:
        return q
    return q.where(
        ACCOUNT_CHANGES.c.person_key.in_(sa.select(PERSONS.c.person_key).where(PERSONS.c.town_code == town))
    )


async def insert_change(session: AsyncSession, row: dict[str, Any]) -> bool:
    """False when the person already has a pending change (the partial unique index says so)."""
    q = insert(ACCOUNT_CHANGES).values(**row).on_conflict_do_nothing().returning(ACCOUNT_CHANGES.c.change_id)
    return (await session.execute(q)).scalar_one_or_none() is not None


async def changes(
    session: AsyncSession,
    *,
    town: str | None,
    person_key: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[sa.Row[Any]]:
    q = _changes_in_town(
        sa.select(ACCOUNT_CHANGES)
        .order_by(ACCOUNT_CHANGES.c.requested_at.desc(), ACCOUNT_CHANGES.c.change_id)
        .limit(limit)
        .offset(offset),
        town,
    )
    if person_key is not None:
        q = q.where(ACCOUNT_CHANGES.c.person_key == person_key)
    if status is not None:
        q = q.where(ACCOUNT_CHANGES.c.status == status)
    return list((await session.execute(q)).all())


async def change(
    session: AsyncSession, change_id: str, *, town: str | None, lock: bool = False
) -> sa.Row[Any] | None:
    q = _changes_in_town(sa.select(ACCOUNT_CHANGES).where(ACCOUNT_CHANGES.c.change_id == change_id), town)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).first()


async def decide_change(session: AsyncSession, change_id: str, **values: Any) -> int:
    q = (
        sa.update(ACCOUNT_CHANGES)
        .where(ACCOUNT_CHANGES.c.change_id == change_id, ACCOUNT_CHANGES.c.status == "pending")
        .values(**values, decided_at=sa.func.now())
    )
    return int((await session.execute(q)).rowcount)  # type: ignore[attr-defined]


async def log_access(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(sa.insert(PII_ACCESS).values(**row))


async def access_log(session: AsyncSession, person_key: str, *, limit: int) -> list[sa.Row[Any]]:
    q = (
        sa.select(PII_ACCESS)
        .where(PII_ACCESS.c.person_key == person_key)
        .order_by(PII_ACCESS.c.id.desc())
        .limit(limit)
    )
    return list((await session.execute(q)).all())
