"""Every query on the reference registers; set-wise (one statement for a chunk of people), inside
the caller's transaction (never commits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.registers import Membership, RegisterImportRef, RegisterKind
from .tables import REGISTER_ENTRIES, REGISTER_IMPORT_ISSUES, REGISTER_IMPORTS

# The imports a question is answered from, one per kind: the current ones, or those that were
# current on a given date (the latest as-of date not after it; of two for one date, the later).
_CURRENT = "SELECT import_id, kind, as_of, source FROM register_imports WHERE status = 'current'"
_ON_DATE = """
    SELECT DISTINCT ON (kind) import_id, kind, as_of, source
    FROM register_imports
    WHERE status IN ('current', 'superseded') AND as_of <= :on
    ORDER BY kind, as_of DESC, imported_at DESC
"""


def _chosen(on: date | None) -> tuple[str, dict[str, Any]]:
    return (_CURRENT, {}) if on is None else (_ON_DATE, {"on": on})


async def memberships(
    session: AsyncSession, person_keys: Sequence[str], *, on: date | None = None
) -> dict[str, dict[RegisterKind, Membership]]:
    """person_key → kind → membership for a whole chunk of people, in one query; from the current
    imports, or from those valid on `on`. People in no register are absent."""
    if not person_keys:
        return {}
    chosen, params = _chosen(on)
    rows = await session.execute(
        sa.text(
            f"""
            WITH chosen AS ({chosen})
            SELECT e.person_key, c.kind, c.import_id, c.as_of, c.source, e.attributes
            FROM chosen c
            JOIN register_entries e ON e.import_id = c.import_id
            WHERE e.person_key = ANY(CAST(:keys AS text[]))
            """  # noqa: S608 - `chosen` is one of two constant statements
        ),
        {**params, "keys": list(dict.fromkeys(person_keys))},
    )
    out: dict[str, dict[RegisterKind, Membership]] = {}
    for key, kind, import_id, as_of, source, attributes in rows:
        k = RegisterKind(kind)
        out.setdefault(key, {})[k] = Membership(k, import_id, as_of, source, attributes or {})
    return out


async def register_versions(
    session: AsyncSession, *, on: date | None = None
) -> dict[RegisterKind, RegisterImportRef]:
    """The import each kind is answered from (current, or valid on `on`); kinds never imported are absent."""
    chosen, params = _chosen(on)
    rows = await session.execute(sa.text(chosen), params)
    return {RegisterKind(k): RegisterImportRef(i, RegisterKind(k), a, s) for i, k, a, s in rows}


# ---------------------------------------------------------------- imports


async def lock_kind(session: AsyncSession, kind: RegisterKind) -> None:
    """Serialise imports of one kind until the transaction ends (different kinds run in parallel)."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"ykt.register.{kind.value}"}
    )


async def applied_import(session: AsyncSession, kind: RegisterKind, as_of: date, file_hash: str) -> Any:
    """The import (current or superseded) of this very file for this kind and date, if any."""
    q = sa.select(REGISTER_IMPORTS).where(
        REGISTER_IMPORTS.c.kind == kind.value,
        REGISTER_IMPORTS.c.as_of == as_of,
        REGISTER_IMPORTS.c.file_hash == file_hash,
        REGISTER_IMPORTS.c.status != "rejected",
    )
    return (await session.execute(q)).first()


async def current_import(session: AsyncSession, kind: RegisterKind) -> Any:
    q = sa.select(REGISTER_IMPORTS).where(
        REGISTER_IMPORTS.c.kind == kind.value, REGISTER_IMPORTS.c.status == "current"
    )
    return (await session.execute(q)).first()


async def supersede(session: AsyncSession, import_id: str) -> None:
    await session.execute(
        sa.update(REGISTER_IMPORTS)
        .where(REGISTER_IMPORTS.c.import_id == import_id, REGISTER_IMPORTS.c.status == "current")
        .values(status="superseded", superseded_at=sa.func.now())
    )


async def insert_import(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(sa.insert(REGISTER_IMPORTS).values(dict(row)))


async def finish_import(session: AsyncSession, import_id: str, **counts: int) -> None:
    await session.execute(
        sa.update(REGISTER_IMPORTS).where(REGISTER_IMPORTS.c.import_id == import_id).values(**counts)
    )


async def insert_entries(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """One multi-row INSERT for a group of entries."""
    if rows:
        await session.execute(sa.insert(REGISTER_ENTRIES).values([dict(r) for r in rows]))


async def membership_changes(session: AsyncSession, new_id: str, old_id: str | None) -> tuple[int, int]:
    """(joined, departed): people in the new import and not the old one, and the other way round."""
    row = (
        await session.execute(
            sa.text(
                """
                SELECT
                  (SELECT count(*) FROM register_entries n WHERE n.import_id = :new AND NOT EXISTS
                     (SELECT 1 FROM register_entries o WHERE o.import_id = :old AND o.person_key = n.person_key)),
                  (SELECT count(*) FROM register_entries o WHERE o.import_id = :old AND NOT EXISTS
                     (SELECT 1 FROM register_entries n WHERE n.import_id = :new AND n.person_key = o.person_key))
                """
            ),
            {"new": new_id, "old": old_id or ""},
        )
    ).one()
    return int(row[0]), int(row[1])


async def insert_issues(session: AsyncSession, import_id: str, issues: Sequence[Mapping[str, Any]]) -> None:
    rows = [{"import_id": import_id, "seq": n, **i} for n, i in enumerate(issues, start=1)]
    for k in range(0, len(rows), 5000):
        await session.execute(sa.insert(REGISTER_IMPORT_ISSUES).values(rows[k : k + 5000]))


async def get_import(session: AsyncSession, import_id: str) -> Any:
    q = sa.select(REGISTER_IMPORTS).where(REGISTER_IMPORTS.c.import_id == import_id)
    return (await session.execute(q)).first()


async def list_imports(
    session: AsyncSession, *, kind: RegisterKind | None, status: str | None, limit: int, offset: int
) -> list[Any]:
    """Imports, newest first."""
    q = sa.select(REGISTER_IMPORTS)
    if kind is not None:
        q = q.where(REGISTER_IMPORTS.c.kind == kind.value)
    if status is not None:
        q = q.where(REGISTER_IMPORTS.c.status == status)
    q = (
        q.order_by(REGISTER_IMPORTS.c.imported_at.desc(), REGISTER_IMPORTS.c.import_id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(q)).all())


async def import_issues(session: AsyncSession, import_id: str) -> list[Any]:
    q = (
        sa.select(REGISTER_IMPORT_ISSUES)
        .where(REGISTER_IMPORT_ISSUES.c.import_id == import_id)
        .order_by(REGISTER_IMPORT_ISSUES.c.seq)
    )
    return list((await session.execute(q)).all())


async def person_entries(session: AsyncSession, person_key: str) -> list[Any]:
    """Every applied import (current or superseded) that lists this person, newest first per kind."""
    q = (
        sa.select(
            REGISTER_IMPORTS.c.import_id,
            REGISTER_IMPORTS.c.kind,
            REGISTER_IMPORTS.c.as_of,
            REGISTER_IMPORTS.c.source,
            REGISTER_IMPORTS.c.status,
            REGISTER_ENTRIES.c.row,
            REGISTER_ENTRIES.c.id_masked,
            REGISTER_ENTRIES.c.name,
            REGISTER_ENTRIES.c.attributes,
        )
        .select_from(
            REGISTER_ENTRIES.join(
                REGISTER_IMPORTS, REGISTER_IMPORTS.c.import_id == REGISTER_ENTRIES.c.import_id
            )
        )
        .where(REGISTER_ENTRIES.c.person_key == person_key, REGISTER_IMPORTS.c.status != "rejected")
        .order_by(
            REGISTER_IMPORTS.c.kind, REGISTER_IMPORTS.c.as_of.desc(), REGISTER_IMPORTS.c.imported_at.desc()
        )
    )
    return list((await session.execute(q)).all())
