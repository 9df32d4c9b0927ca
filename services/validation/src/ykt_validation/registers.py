"""Reference-register imports (残疾人, 特困供养, 建档立卡/脱贫, 死亡人员, 财政供养; work plan §四.二)
and the reads around them.

A register file (XLSX, or CSV in UTF-8/GBK) is read as a stream (`ykt_registry.intake.open_table`
with the kind's form), checked row by row, and stored in groups inside ONE transaction that also
retires the kind's previous import, so readers see the old membership or the new one, never a
mix. All or nothing: one bad row and nothing changes (the old register stays in force); the
issues are kept with a rejected import and can be downloaded as an XLSX report. The same file for
the same kind and date again changes nothing and answers with the first import. ID numbers are
kept only as their blind index and masked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit import idcard, masking
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.db import Database
from ykt_kit.errors import Conflict, DomainError, NotFound
from ykt_registry.intake import RowIssue, Severity, Table, open_table, write_issue_report

from .adapters.db import registers as repo
from .domain.register_forms import REGISTER_FORMS, RegisterChecker
from .domain.registers import REGISTER_NAMES, RegisterKind
from .service import today_in_china

GROUP = 2000  # entries per INSERT; bounds memory, not the transaction
MAX_KEPT_ISSUES = 10_000
SOURCE_MAX = 60

#: who may do what (the gateway checks the same roles before forwarding)
IMPORTERS = (Role.ADMIN,)
#: import metadata (kind, date, counts; no personal data)
IMPORT_READERS = (Role.ADMIN, Role.SUPERVISOR, Role.FINANCE, Role.DEPARTMENT)
#: a person's memberships and the row-level reports (masked personal data)
PERSON_READERS = (Role.ADMIN, Role.SUPERVISOR)


class RegisterImportRejected(DomainError):
    """The file had row errors: nothing was imported, the previous register stays in force."""

    status = 422
    code = "IMPORT_REJECTED"


class RegisterOutdated(Conflict):
    """The register's date is earlier than that of the register in force for the kind."""

    code = "REGISTER_OUTDATED"


class RegisterImportNotFound(NotFound):
    code = "REGISTER_IMPORT_NOT_FOUND"


class _RolledBack(Exception):
    """Raised inside the import's transaction to undo it."""


def report_path(import_id: str) -> str:
    return f"/api/v1/registers/imports/{import_id}/report"


def _view(r: Any) -> dict[str, Any]:
    kind = RegisterKind(r.kind)
    return {
        "import_id": r.import_id,
        "kind": kind.value,
        "kind_name": REGISTER_NAMES[kind],
        "source": r.source,
        "as_of": r.as_of.isoformat(),
        "filename": r.filename,
        "status": r.status,
        "rows": r.rows,
        "entries": r.entries,
        "refused_rows": r.refused_rows,
        "errors": r.errors,
        "joined": r.joined,
        "departed": r.departed,
        "replaces": r.replaces,
        "imported_by": r.imported_by,
        "imported_org": r.imported_org,
        "imported_at": r.imported_at.isoformat(),
        "superseded_at": r.superseded_at.isoformat() if r.superseded_at else None,
        "report": report_path(r.import_id),
    }


# ---------------------------------------------------------------------------- import


async def import_register(
    db: Database,
    actor: Actor,
    cipher: PiiCipher,
    *,
    kind: RegisterKind,
    as_of: date,
    source: str,
    path: Path,
    file_hash: str,
    filename: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Import a spooled register file as the kind's membership; see the module docstring.
    Returns the import, with `duplicate: true` when this file was imported before."""
    require(actor, *IMPORTERS)
    today = today or today_in_china()
    source = " ".join(source.split())
    if not source or len(source) > SOURCE_MAX:
        raise DomainError(
            f"请填写名册来源（提供单位），不超过{SOURCE_MAX}个字", code="SOURCE_INVALID", status=422
        )
    if as_of > today:
        raise DomainError(f"名册日期（{as_of.isoformat()}）不能晚于今天", code="AS_OF_IN_FUTURE", status=422)
    meta = {
        "kind": kind.value,
        "source": source,
        "as_of": as_of,
        "filename": filename[:200],
        "file_hash": file_hash,
        "imported_by": actor.user_id,
        "imported_org": actor.org_code,
    }
    checker = RegisterChecker(kind, as_of=as_of, today=today, max_issues=MAX_KEPT_ISSUES)
    import_id = str(uuid.uuid4())
    try:
        async with db.transaction() as s:
            return await _apply(s, cipher, checker, import_id, meta, path)
    except _RolledBack:
        pass
    # the entries were rolled back; what was wrong is kept for the report
    s_ = checker.summary
    async with db.transaction() as s:
        await repo.insert_import(
            s,
            {
                **meta,
                "import_id": import_id,
                "status": "rejected",
                "rows": s_.rows,
                "entries": 0,
                "refused_rows": s_.rejected,
                "errors": s_.errors,
                "joined": 0,
                "departed": 0,
            },
        )
        await repo.insert_issues(s, import_id, [_issue_row(i) for i in checker.issues])
    raise RegisterImportRejected(
        f"名册文件有{s_.rejected}行共{s_.errors}处错误，未导入任何数据（{REGISTER_NAMES[kind]}仍按原版本执行），"
        "请下载错误报告修改后重新导入",
        import_id=import_id,
        rows=s_.rows,
        errors=[i.as_dict() for i in checker.issues[:50]],
        report=report_path(import_id),
    )


async def _apply(
    s: AsyncSession,
    cipher: PiiCipher,
    checker: RegisterChecker,
    import_id: str,
    meta: dict[str, Any],
    path: Path,
) -> dict[str, Any]:
    kind: RegisterKind = checker.kind
    await repo.lock_kind(s, kind)
    earlier = await repo.applied_import(s, kind, meta["as_of"], meta["file_hash"])
    if earlier is not None:
        return {**_view(earlier), "duplicate": True}
    current = await repo.current_import(s, kind)
    if current is not None and meta["as_of"] < current.as_of:
        raise RegisterOutdated(
            f"名册日期{meta['as_of'].isoformat()}早于现行{REGISTER_NAMES[kind]}的日期{current.as_of.isoformat()}，"
            "不能用旧名册替换新名册",
            current_import_id=current.import_id,
            current_as_of=current.as_of.isoformat(),
        )
    # Retire the register in force and take its place in this transaction: other transactions
    # keep reading the old membership until this one commits.
    if current is not None:
        await repo.supersede(s, current.import_id)
    await repo.insert_import(
        s,
        {
            **meta,
            "import_id": import_id,
            "status": "current",
            "replaces": current.import_id if current is not None else None,
        },
    )
    with path.open("rb") as fh:
        table = await asyncio.to_thread(open_table, fh, meta["filename"], form=REGISTER_FORMS[kind])
        with table:
            groups = _groups(table, checker, cipher, import_id)
            while (group := await asyncio.to_thread(next, groups, None)) is not None:
                if checker.summary.errors == 0:  # once refused, keep checking but store nothing more
                    await repo.insert_entries(s, group)
    summary = checker.summary
    if summary.errors:
        raise _RolledBack
    if summary.rows == 0:
        raise DomainError(
            f"{REGISTER_NAMES[kind]}文件只有表头、没有数据行；空名册会清空现有名册，未导入",
            code="REGISTER_EMPTY",
            status=422,
        )
    joined, departed = await repo.membership_changes(
        s, import_id, current.import_id if current is not None else None
    )
    await repo.finish_import(
        s,
        import_id,
        rows=summary.rows,
        entries=summary.accepted,
        refused_rows=0,
        errors=0,
        joined=joined,
        departed=departed,
    )
    return {**_view(await repo.get_import(s, import_id)), "duplicate": False}


def _groups(
    table: Table, checker: RegisterChecker, cipher: PiiCipher, import_id: str
) -> Iterator[list[dict[str, Any]]]:
    """Checked rows as entries, GROUP at a time (runs in a worker thread: reading and HMAC)."""
    group: list[dict[str, Any]] = []
    for number, cells in table:
        row = checker.check(number, cells)
        if row is None:
            continue
        group.append(
            {
                "import_id": import_id,
                "person_key": cipher.blind_index(row.id_number),
                "row": row.row,
                "id_masked": masking.mask_id(row.id_number),
                "name": row.name,
                "attributes": row.attributes,
            }
        )
        if len(group) >= GROUP:
            yield group
            group = []
    if group:
        yield group


def _issue_row(i: RowIssue) -> dict[str, Any]:
    return {
        "row": i.row,
        "column_label": i.column,
        "code": i.code,
        "message": i.message,
        "severity": i.severity.value,
        "value": i.value,
    }


# ---------------------------------------------------------------------------- reads


async def registers_in_force(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """Every kind with the import in force (None for a kind never imported)."""
    require(actor, *IMPORT_READERS)
    current = {
        r.kind: r for r in await repo.list_imports(session, kind=None, status="current", limit=100, offset=0)
    }
    return [
        {
            "kind": k.value,
            "kind_name": REGISTER_NAMES[k],
            "current": _view(current[k.value]) if k.value in current else None,
        }
        for k in RegisterKind
    ]


async def list_imports(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: RegisterKind | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    require(actor, *IMPORT_READERS)
    rows = await repo.list_imports(session, kind=kind, status=status, limit=limit, offset=offset)
    return [_view(r) for r in rows]


async def _import(session: AsyncSession, import_id: str) -> Any:
    row = await repo.get_import(session, import_id)
    if row is None:
        raise RegisterImportNotFound("名册导入记录不存在")
    return row


async def import_view(session: AsyncSession, actor: Actor, import_id: str) -> dict[str, Any]:
    require(actor, *IMPORT_READERS)
    return _view(await _import(session, import_id))


async def write_report(session: AsyncSession, actor: Actor, import_id: str, out: BinaryIO) -> str:
    """The import's row issues as XLSX into `out`; returns a file name for the download."""
    require(actor, *PERSON_READERS)
    r = await _import(session, import_id)
    issues = (
        RowIssue(i.row, i.column_label, i.code, i.message, Severity(i.severity), i.value)
        for i in await repo.import_issues(session, import_id)
    )
    write_issue_report(issues, out, filename=r.filename)
    return f"名册导入错误报告-{r.import_id[:8]}.xlsx"


async def lookup_person(
    session: AsyncSession, actor: Actor, cipher: PiiCipher, id_number: str
) -> dict[str, Any]:
    """One person's memberships in force and the imports that listed them before (masked)."""
    require(actor, *PERSON_READERS)
    s = id_number.strip().upper()
    try:
        idcard.parse(s)
    except idcard.InvalidId as exc:
        raise DomainError(exc.message, code=exc.code, status=422) from None
    key = cipher.blind_index(s)
    current: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for e in await repo.person_entries(session, key):
        kind = RegisterKind(e.kind)
        item = {
            "kind": kind.value,
            "kind_name": REGISTER_NAMES[kind],
            "import_id": e.import_id,
            "as_of": e.as_of.isoformat(),
            "source": e.source,
            "status": e.status,
            "row": e.row,
            "name": masking.mask_name(e.name),
            "id_number": e.id_masked,
            "attributes": e.attributes or {},
        }
        (current if e.status == "current" else history).append(item)
    return {"person_key": key, "id_number": masking.mask_id(s), "current": current, "history": history}
