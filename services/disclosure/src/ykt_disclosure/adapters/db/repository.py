"""Every query of the disclosure service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.masking import Channel, DisclosedRow, IdRule, MaskingRule, NameRule
from ...domain.publication import Change, ChangeKind, Expected, Publication, Status
from .tables import (
    DISCLOSED_RECORDS,
    EXPECTED,
    FAILED_RECORDS,
    MASKING_CHANGES,
    MASKING_RULES,
    PUBLIC_VERSION,
    PUBLICATION_CHANGES,
    PUBLICATIONS,
)

P = PUBLICATIONS
R = DISCLOSED_RECORDS
F = FAILED_RECORDS
C = PUBLICATION_CHANGES


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
        .values(**publication.as_row())
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
        corrected_at=m["corrected_at"],
        withdrawn_at=m["withdrawn_at"],
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
    P.c.corrected_at,
    P.c.withdrawn_at,
)


def _current(
    now: datetime,
    program: str | None = None,
    town: str | None = None,
    period: str | None = None,
    village: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [
        P.c.status == Status.PUBLISHED.value,
        P.c.window_start <= now,
        P.c.window_end > now,
    ]
    if program:
        where.append(P.c.program_code == program)
    if period:
        where.append(P.c.period == period)
    if town or village:
        place = [R.c.batch_id == P.c.batch_id]
        if town:
            place.append(R.c.town_code == town)
        if village:
            place.append(R.c.village == village)
        where.append(sa.exists().where(*place))
    return where


async def count_current(
    session: AsyncSession,
    *,
    now: datetime,
    program: str | None,
    town: str | None,
    period: str | None,
    village: str | None = None,
) -> int:
    stmt = sa.select(sa.func.count()).select_from(P).where(*_current(now, program, town, period, village))
    return int((await session.execute(stmt)).scalar_one())


async def list_current(
    session: AsyncSession,
    *,
    now: datetime,
    program: str | None,
    town: str | None,
    period: str | None,
    village: str | None = None,
    limit: int,
    offset: int,
) -> list[Publication]:
    """Publications whose window is open, newest first."""
    stmt = (
        sa.select(*_PUBLICATION_COLUMNS)
        .where(*_current(now, program, town, period, village))
        .order_by(P.c.window_start.desc(), P.c.publication_id)
        .limit(limit)
        .offset(offset)
    )
    return [_publication(r) for r in (await session.execute(stmt)).mappings().all()]


async def current_periods(session: AsyncSession, *, now: datetime) -> list[str]:
    """Periods that open publications cover, newest first (for the filter form)."""
    stmt = sa.select(P.c.period).where(*_current(now)).group_by(P.c.period).order_by(P.c.period.desc())
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
    session: AsyncSession,
    *,
    batch_id: str,
    town: str | None,
    village: str | None,
    limit: int | None,
    offset: int = 0,
) -> list[sa.RowMapping]:
    """One page (or, without a limit, all) of a batch's rows, by town, village, then record id:
    the default masks and the encrypted originals (for a channel with another rule)."""
    stmt = (
        sa.select(
            R.c.record_id,
            R.c.town_code,
            R.c.village,
            R.c.name_masked,
            R.c.id_masked,
            R.c.name_enc,
            R.c.id_enc,
            R.c.amount_fen,
            R.c.settled_on,
        )
        .where(*_rows_where(batch_id, town, village))
        .order_by(R.c.town_code, R.c.village, R.c.record_id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).mappings().all())


async def current_places(session: AsyncSession, *, now: datetime, town: str | None) -> list[tuple[str, str]]:
    """(town, village) pairs that open publications list, for the filter form."""
    stmt = (
        sa.select(R.c.town_code, R.c.village)
        .select_from(R.join(P, P.c.batch_id == R.c.batch_id))
        .where(*_current(now), R.c.village != "", *([R.c.town_code == town] if town else []))
        .group_by(R.c.town_code, R.c.village)
        .order_by(R.c.town_code, R.c.village)
    )
    return [(r.town_code, r.village) for r in (await session.execute(stmt)).all()]


async def place_tallies(session: AsyncSession, *, batch_id: str) -> list[sa.RowMapping]:
    """Count and amount per (town, village) of a batch."""
    stmt = (
        sa.select(
            R.c.town_code,
            R.c.village,
            sa.func.count().label("record_count"),
            sa.func.sum(R.c.amount_fen).label("amount_fen"),
        )
        .where(R.c.batch_id == batch_id)
        .group_by(R.c.town_code, R.c.village)
        .order_by(R.c.town_code, R.c.village)
    )
    return list((await session.execute(stmt)).mappings().all())


# ------------------------------------------------------------------ failures


async def insert_failed(session: AsyncSession, *, rows: Sequence[dict[str, object]]) -> int:
    """Hold failed records (one statement), skipping record ids already held."""
    if not rows:
        return 0
    stmt = (
        insert(F)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=[F.c.record_id])
        .returning(F.c.record_id)
    )
    return len((await session.execute(stmt)).all())


# ------------------------------------------------------------------ personal query


async def personal_payments(
    session: AsyncSession, *, person_key: str, name_key: str
) -> tuple[list[sa.RowMapping], list[sa.RowMapping]]:
    """(settled rows, failed rows) of the person whose ID number's blind index is `person_key`,
    only when `name_key` is a name that person was paid under; else two empty lists. The same
    two statements run whether or not the person exists."""
    verified = sa.exists().where(R.c.person_key == person_key, R.c.name_key == name_key)
    settled = (
        (
            await session.execute(
                sa.select(R.c.record_id, R.c.program_code, R.c.period, R.c.amount_fen, R.c.settled_on)
                .where(R.c.person_key == person_key, verified)
                .order_by(R.c.settled_on.desc(), R.c.program_code, R.c.period, R.c.record_id)
            )
        )
        .mappings()
        .all()
    )
    failed = (
        (
            await session.execute(
                sa.select(
                    F.c.record_id, F.c.program_code, F.c.period, F.c.amount_fen, F.c.failed_on, F.c.reason
                )
                .where(F.c.person_key == person_key, verified)
                .order_by(F.c.failed_on.desc(), F.c.program_code, F.c.period, F.c.record_id)
            )
        )
        .mappings()
        .all()
    )
    return list(settled), list(failed)


# ------------------------------------------------------------------ operator changes


async def lock_publication(session: AsyncSession, *, publication_id: uuid.UUID) -> Publication | None:
    """The publication, locked for this transaction (changes of one publication are serial)."""
    row = (
        (
            await session.execute(
                sa.select(*_PUBLICATION_COLUMNS).where(P.c.publication_id == publication_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    return _publication(row) if row else None


async def add_change(session: AsyncSession, **values: object) -> Change:
    row = (await session.execute(sa.insert(C).values(**values).returning(*C.c))).mappings().one()
    return _change(row)


def _change(m: sa.RowMapping) -> Change:
    return Change(
        change_id=int(m["change_id"]),
        publication_id=m["publication_id"],
        kind=ChangeKind(m["kind"]),
        actor_user=m["actor_user"],
        actor_role=m["actor_role"],
        actor_org=m["actor_org"],
        reason=m["reason"],
        statement=m["statement"],
        window_end_before=m["window_end_before"],
        window_end_after=m["window_end_after"],
        at=m["at"],
    )


async def apply_withdrawal(session: AsyncSession, *, publication_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        sa.update(P)
        .where(P.c.publication_id == publication_id)
        .values(status=Status.WITHDRAWN.value, withdrawn_at=at)
    )


async def apply_correction(
    session: AsyncSession, *, publication_id: uuid.UUID, at: datetime, window_end: datetime
) -> None:
    await session.execute(
        sa.update(P)
        .where(P.c.publication_id == publication_id)
        .values(corrected_at=at, window_end=window_end)
    )


async def changes_of(session: AsyncSession, *, publication_ids: Sequence[uuid.UUID]) -> list[Change]:
    """Changes of the given publications, oldest first."""
    if not publication_ids:
        return []
    stmt = sa.select(*C.c).where(C.c.publication_id.in_(list(publication_ids))).order_by(C.c.change_id)
    return [_change(m) for m in (await session.execute(stmt)).mappings().all()]


async def all_changes(session: AsyncSession) -> list[Change]:
    stmt = sa.select(*C.c).order_by(C.c.change_id)
    return [_change(m) for m in (await session.execute(stmt)).mappings().all()]


def _operator_where(
    program: str | None, status: str | None, scope_org: str | None, scope_programs: Sequence[str] | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if program:
        where.append(P.c.program_code == program)
    if status:
        where.append(P.c.status == status)
    if scope_org is not None:
        where.append(sa.or_(P.c.unit_code == scope_org, P.c.program_code.in_(list(scope_programs or []))))
    return where


async def count_publications(
    session: AsyncSession,
    *,
    program: str | None,
    status: str | None,
    scope_org: str | None,
    scope_programs: Sequence[str] | None,
) -> int:
    where = _operator_where(program, status, scope_org, scope_programs)
    return int((await session.execute(sa.select(sa.func.count()).select_from(P).where(*where))).scalar_one())


async def list_publications(
    session: AsyncSession,
    *,
    program: str | None,
    status: str | None,
    scope_org: str | None,
    scope_programs: Sequence[str] | None,
    limit: int,
    offset: int,
) -> list[Publication]:
    """Every publication (any window, any status) in the actor's scope, newest first."""
    stmt = (
        sa.select(*_PUBLICATION_COLUMNS)
        .where(*_operator_where(program, status, scope_org, scope_programs))
        .order_by(P.c.window_start.desc(), P.c.publication_id)
        .limit(limit)
        .offset(offset)
    )
    return [_publication(r) for r in (await session.execute(stmt)).mappings().all()]


# ------------------------------------------------------------------ masking rules


async def masking_overrides(session: AsyncSession) -> dict[Channel, MaskingRule]:
    rows = (await session.execute(sa.select(MASKING_RULES))).mappings().all()
    return {
        Channel(r["channel"]): MaskingRule(name=NameRule(r["name_rule"]), id=IdRule(r["id_rule"]))
        for r in rows
    }


async def set_masking_rule(
    session: AsyncSession, *, channel: Channel, rule: MaskingRule, at: datetime
) -> None:
    stmt = insert(MASKING_RULES).values(
        channel=channel.value, name_rule=rule.name.value, id_rule=rule.id.value, changed_at=at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[MASKING_RULES.c.channel],
        set_={"name_rule": stmt.excluded.name_rule, "id_rule": stmt.excluded.id_rule, "changed_at": at},
    )
    await session.execute(stmt)


async def lock_masking(session: AsyncSession) -> None:
    """Serialise masking changes (their audit rows record the rule they replaced)."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("ykt-disclosure:masking", 0)))
    )


async def add_masking_change(session: AsyncSession, **values: object) -> dict[str, object]:
    row = await session.execute(sa.insert(MASKING_CHANGES).values(**values).returning(*MASKING_CHANGES.c))
    return dict(row.mappings().one())


async def masking_history(session: AsyncSession) -> list[dict[str, object]]:
    stmt = sa.select(*MASKING_CHANGES.c).order_by(MASKING_CHANGES.c.change_id)
    return [dict(m) for m in (await session.execute(stmt)).mappings().all()]


# ------------------------------------------------------------------ public data version


async def bump_public_version(session: AsyncSession) -> None:
    """Something the public sees changed: API answers cached under the old version go stale."""
    await session.execute(
        sa.update(PUBLIC_VERSION).where(PUBLIC_VERSION.c.id == 1).values(v=PUBLIC_VERSION.c.v + 1)
    )


async def public_version(session: AsyncSession) -> str:
    row = (await session.execute(sa.select(PUBLIC_VERSION.c.epoch, PUBLIC_VERSION.c.v))).one()
    return f"{row.epoch.hex}.{row.v}"
