"""Collection-form imports (个人一卡通账户收集表, Annex 2) from XLSX or CSV files.

A file is read as a stream (`ykt_registry.intake`), checked row by row, and registered in groups
inside ONE transaction, so memory stays bounded whatever the file's size and a refused file
leaves nothing behind. The unit chooses the policy per import:

- `reject_all` (default): any error refuses the whole file; nothing is registered;
- `accept_valid`: the good rows are registered, the bad ones are reported.

Either way every issue (row, column, code, Chinese message, masked value) is kept with the import
and can be downloaded as an XLSX report. Importing the same file again after it was applied
changes nothing and answers with the first import."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.db import Database
from ykt_kit.errors import DomainError, NotFound

from .adapters.api.schemas import PersonIn
from .adapters.db import repository as repo
from .adapters.db.tables import BANKS, DIVISIONS, PERSON_IMPORT_ISSUES, PERSON_IMPORTS
from .beneficiaries import register_rows
from .domain.beneficiaries import Carrier
from .intake import BENEFICIARY_FORM, BeneficiaryChecker, BeneficiaryRow, RowIssue, Severity, open_table
from .intake.report import write_issue_report

GROUP = 2000  # rows registered per round trip group; bounds memory, not the transaction
MAX_KEPT_ISSUES = 10_000

# registry field → the collection form's column label, for errors found against the registry
_LABELS = {
    "id_number": BENEFICIARY_FORM.label("id_number"),
    "name": BENEFICIARY_FORM.label("name"),
    "town_code": BENEFICIARY_FORM.label("town"),
    "village": BENEFICIARY_FORM.label("village"),
    "bank_code": BENEFICIARY_FORM.label("bank"),
    "account_no": BENEFICIARY_FORM.label("account_no"),
}


class ImportPolicy(StrEnum):
    REJECT_ALL = "reject_all"  # 有错整表不导入
    ACCEPT_VALID = "accept_valid"  # 导入正确行，错误行出报告


class ImportRejected(DomainError):
    """The file had errors and the policy was reject_all: nothing was registered."""

    code = "IMPORT_REJECTED"
    status = 422


@dataclass
class _Outcome:
    rows: int = 0
    registered: int = 0
    refused: set[int] = field(default_factory=set)
    errors: int = 0
    warnings: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    def add(self, issue: RowIssue) -> None:
        if issue.severity == Severity.ERROR:
            self.errors += 1
            self.refused.add(issue.row)
        else:
            self.warnings += 1
        if len(self.issues) < MAX_KEPT_ISSUES:
            self.issues.append(issue)


def _person(row: BeneficiaryRow) -> PersonIn:
    """The checked row as the registry's input (already validated: built without re-validation)."""
    return PersonIn.model_construct(
        id_number=row.id_number,
        name=row.name,
        phone=row.phone,
        town_code=row.town_code,
        village=row.village,
        household_no=row.household_no,
        carrier=Carrier(row.carrier.value) if row.carrier is not None else Carrier.BANK_CARD,
        bank_code=row.bank_code,
        account_no=row.account_no,
        holder_name=row.holder_name,
    )


def _groups(table: Any, checker: BeneficiaryChecker, out: _Outcome) -> Iterator[list[tuple[int, PersonIn]]]:
    """Checked rows in groups of GROUP; the checker's issues move to `out` as they come."""
    group: list[tuple[int, PersonIn]] = []
    for number, cells in table:
        checked = checker.check(number, cells)
        out.rows += 1
        for issue in checker.issues:
            out.add(issue)
        checker.issues.clear()
        if checked is not None:
            group.append((number, _person(checked)))
        if len(group) >= GROUP:
            yield group
            group = []
    if group:
        yield group


async def _reference(session: AsyncSession) -> tuple[dict[str, str], dict[str, str]]:
    towns = await repo.division_codes(session)
    rows = (await session.execute(sa.select(DIVISIONS.c.code, DIVISIONS.c.name))).all()
    banks = (await session.execute(sa.select(BANKS.c.code, BANKS.c.name))).all()
    return {c: n for c, n in rows if c in towns}, {str(c): str(n) for c, n in banks}


async def import_persons(
    db: Database,
    actor: Actor,
    cipher: PiiCipher,
    *,
    path: Path,
    file_hash: str,
    filename: str,
    policy: ImportPolicy,
) -> dict[str, Any]:
    """Import a spooled collection-form file; see the module docstring."""
    require(actor, Role.TOWN, Role.ADMIN)
    out = _Outcome()
    import_id = str(uuid.uuid4())
    try:
        async with db.transaction() as s:
            return await _apply(s, actor, cipher, out, import_id, path, file_hash, filename, policy)
    except _RolledBack:
        pass
    # the registrations were rolled back; what was wrong is kept for the report
    async with db.transaction() as s:
        out.registered = 0
        await _record(s, actor, import_id, file_hash, filename, policy, "rejected", out)
    raise ImportRejected(
        f"文件有{len(out.refused)}行共{out.errors}处错误，按“有错整表不导入”规则未导入任何数据，"
        "请下载错误报告修改后重新导入",
        import_id=import_id,
        rows=out.rows,
        errors=[i.as_dict() for i in out.issues[:50]],
        report=f"/api/v1/beneficiaries/imports/{import_id}/report",
    )


class _RolledBack(Exception):
    """Raised inside the import's transaction to undo it (reject_all with errors)."""


async def _apply(
    s: AsyncSession,
    actor: Actor,
    cipher: PiiCipher,
    out: _Outcome,
    import_id: str,
    path: Path,
    file_hash: str,
    filename: str,
    policy: ImportPolicy,
) -> dict[str, Any]:
    earlier = await _applied(s, actor.org_code, file_hash)
    if earlier is not None:
        return {**_view(earlier), "duplicate": True}
    towns, banks = await _reference(s)
    checker = BeneficiaryChecker(towns=towns, banks=banks, max_issues=MAX_KEPT_ISSUES)
    with path.open("rb") as fh:
        table = await asyncio.to_thread(open_table, fh, filename, form=BENEFICIARY_FORM)
        with table:
            groups = _groups(table, checker, out)
            while (group := await asyncio.to_thread(next, groups, None)) is not None:
                summary, errors = await register_rows(s, actor, group, cipher)
                out.registered += summary["registered"]
                for e in errors:
                    out.add(
                        RowIssue(
                            row=e.row,
                            column=_LABELS.get(e.field, e.field),
                            code=e.code,
                            message=e.message,
                        )
                    )
    out.issues.sort(key=lambda i: (i.row, i.column))
    if policy == ImportPolicy.REJECT_ALL and out.errors > 0:
        raise _RolledBack
    record = await _record(s, actor, import_id, file_hash, filename, policy, "applied", out)
    return {**_view(record), "duplicate": False}


async def _applied(session: AsyncSession, org_code: str, file_hash: str) -> Any:
    q = sa.select(PERSON_IMPORTS).where(
        PERSON_IMPORTS.c.org_code == org_code,
        PERSON_IMPORTS.c.file_hash == file_hash,
        PERSON_IMPORTS.c.status == "applied",
    )
    return (await session.execute(q)).first()


async def _record(
    session: AsyncSession,
    actor: Actor,
    import_id: str,
    file_hash: str,
    filename: str,
    policy: ImportPolicy,
    status: str,
    out: _Outcome,
) -> Any:
    row = {
        "import_id": import_id,
        "org_code": actor.org_code,
        "file_hash": file_hash,
        "filename": filename[:200],
        "policy": policy.value,
        "status": status,
        "rows": out.rows,
        "registered": out.registered,
        "refused_rows": len(out.refused),
        "errors": out.errors,
        "warnings": out.warnings,
        "created_by": actor.user_id,
    }
    await session.execute(sa.insert(PERSON_IMPORTS).values(row))
    issues = [
        {
            "import_id": import_id,
            "seq": n,
            "row": i.row,
            "column_label": i.column,
            "code": i.code,
            "message": i.message,
            "severity": i.severity.value,
            "value": i.value,
        }
        for n, i in enumerate(out.issues, start=1)
    ]
    for k in range(0, len(issues), 5000):
        await session.execute(sa.insert(PERSON_IMPORT_ISSUES).values(issues[k : k + 5000]))
    return (
        await session.execute(sa.select(PERSON_IMPORTS).where(PERSON_IMPORTS.c.import_id == import_id))
    ).one()


def _view(r: Any) -> dict[str, Any]:
    return {
        "import_id": r.import_id,
        "filename": r.filename,
        "policy": r.policy,
        "status": r.status,
        "rows": r.rows,
        "registered": r.registered,
        "refused_rows": r.refused_rows,
        "errors": r.errors,
        "warnings": r.warnings,
        "created_at": r.created_at.isoformat() if r.created_at else None,
        "report": f"/api/v1/beneficiaries/imports/{r.import_id}/report",
    }


async def _scoped_import(session: AsyncSession, actor: Actor, import_id: str) -> Any:
    q = sa.select(PERSON_IMPORTS).where(PERSON_IMPORTS.c.import_id == import_id)
    if actor.role == Role.TOWN:
        q = q.where(PERSON_IMPORTS.c.org_code == actor.org_code)
    elif actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        q = q.where(sa.false())
    row = (await session.execute(q)).first()
    if row is None:
        raise NotFound("导入记录不存在或不在本单位权限范围内", code="IMPORT_NOT_FOUND")
    return row


async def import_view(session: AsyncSession, actor: Actor, import_id: str) -> dict[str, Any]:
    return _view(await _scoped_import(session, actor, import_id))


async def write_report(session: AsyncSession, actor: Actor, import_id: str, out: BinaryIO) -> str:
    """Write the import's issues as XLSX into `out`; returns a file name for the download."""
    r = await _scoped_import(session, actor, import_id)
    rows = (
        await session.execute(
            sa.select(PERSON_IMPORT_ISSUES)
            .where(PERSON_IMPORT_ISSUES.c.import_id == import_id)
            .order_by(PERSON_IMPORT_ISSUES.c.seq)
        )
    ).all()
    issues = (
        RowIssue(
            row=i.row,
            column=i.column_label,
            code=i.code,
            message=i.message,
            severity=Severity(i.severity),
            value=i.value,
        )
        for i in rows
    )
    write_issue_report(issues, out, filename=r.filename)
    return f"导入错误报告-{r.import_id[:8]}.xlsx"
