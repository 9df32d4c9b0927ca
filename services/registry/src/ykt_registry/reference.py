"""Reference-data use cases: the program catalogue, divisions (also from CSV), banks,
organisations and agency agreements. Admin writes, all-or-nothing; every change is audited in
`reference_changes` in the same transaction. They never commit."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit.actor import Actor, Role, require

from .adapters.api.schemas import AgreementIn, BankIn, DivisionIn, OrganisationIn, ProgramIn
from .adapters.db import reference_repo as ref
from .adapters.db.tables import BANKS, DIVISIONS, ORGANISATIONS, PROGRAMS
from .domain.model import InvalidRecords, RowError
from .domain.reference import (
    STANDARD,
    OrgKind,
    ReferenceForbidden,
    check_exclusions,
    division_level,
    kind_from_name,
    kinds_of,
    township_code,
)

AUDIT_READERS = (Role.ADMIN, Role.SUPERVISOR)


def _json(v: Any) -> Any:
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    return v


def _refuse(errors: list[RowError], what: str) -> None:
    if errors:
        raise InvalidRecords(
            f"{what}共{len(errors)}处错误，未保存任何数据", errors=[e.as_dict() for e in errors[:500]]
        )


def _duplicates(keys: Sequence[str], field: str, code: str, label: str) -> list[RowError]:
    seen: dict[str, int] = {}
    out = []
    for n, k in enumerate(keys, start=1):
        if k in seen:
            out.append(RowError(n, field, code, f"第{n}行：{label} {k} 与第{seen[k]}行重复"))
        else:
            seen[k] = n
    return out


async def _apply(
    session: AsyncSession, actor: Actor, *, entity: str, table: Any, key: str, rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Upsert the rows that differ from what is stored; one audit row per created or changed item."""
    current = await ref.rows_by_key(session, table, key, [r[key] for r in rows], lock=True)
    changed, audit = [], []
    for r in rows:
        before = current.get(r[key])
        old = _json({c: before.get(c) for c in r}) if before is not None else None
        new = _json(r)
        if old == new:
            continue
        changed.append(r)
        audit.append(
            {
                "actor": actor.user_id,
                "role": actor.role.value,
                "org_code": actor.org_code,
                "entity": entity,
                "key": r[key],
                "old": old,
                "new": new,
            }
        )
    await ref.upsert(session, table, changed, key)
    await ref.add_changes(session, audit)
    created = sum(1 for a in audit if a["old"] is None)
    return {
        "upserted": len(rows),
        "created": created,
        "updated": len(audit) - created,
        "unchanged": len(rows) - len(audit),
    }


# ------------------------------------------------------------------ programs


def program_view(row: Any) -> dict[str, Any]:
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    std = m.get("standard")
    return {
        "code": m["code"],
        "name": m["name"],
        "department_code": m["department_code"],
        "frequency": m["frequency"],
        "standard": STANDARD.validate_python(std).model_dump(exclude_none=True) if std else None,
        "requires_registers": list(m.get("requires_registers") or []),
        "excludes_registers": list(m.get("excludes_registers") or []),
        "exclusive_with": list(m.get("exclusive_with") or []),
        "rollout": m["rollout"],
    }


async def put_programs(session: AsyncSession, actor: Actor, items: Sequence[ProgramIn]) -> dict[str, int]:
    """Create or change programs; exclusions must name known programs and be mutual."""
    require(actor, Role.ADMIN)
    errors = _duplicates([p.code for p in items], "code", "PROGRAM_DUPLICATE", "项目代码")
    departments = {o["code"] for o in await ref.organisations(session, kind=OrgKind.DEPARTMENT)}
    for n, p in enumerate(items, start=1):
        if p.department_code not in departments:
            errors.append(
                RowError(
                    n,
                    "department_code",
                    "PROGRAM_DEPARTMENT_UNKNOWN",
                    f"第{n}行：主管部门 {p.department_code} 不是已登记的业务主管部门",
                )
            )
        both = set(p.requires_registers) & set(p.excludes_registers)
        if both:
            errors.append(
                RowError(
                    n,
                    "excludes_registers",
                    "PROGRAM_REGISTERS_CONFLICT",
                    f"第{n}行：名册 {'、'.join(sorted(both))} 不能既要求在册又要求不在册",
                )
            )
    catalogue = await ref.exclusions(session)
    rows_of = {p.code: n for n, p in enumerate(items, start=1)}
    for p in items:
        catalogue[p.code] = list(p.exclusive_with)
    errors += check_exclusions(catalogue, rows_of)
    trials = (await ref.trial_programs(session) - set(rows_of)) | {
        p.code for p in items if p.rollout == "trial"
    }
    if len(trials) > 1:
        n = next((rows_of[c] for c in sorted(trials) if c in rows_of), 1)
        errors.append(
            RowError(
                n,
                "rollout",
                "PROGRAM_TRIAL_ONLY_ONE",
                f"第{n}行：试运行只选择1个补贴项目（工作方案五、（五）），当前为 {'、'.join(sorted(trials))}",
            )
        )
    _refuse(errors, "补贴项目")
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "department_code": p.department_code,
            "frequency": p.frequency.value,
            "standard": p.standard.model_dump(mode="json", exclude_none=True) if p.standard else None,
            "requires_registers": sorted(r.value for r in p.requires_registers),
            "excludes_registers": sorted(r.value for r in p.excludes_registers),
            "exclusive_with": sorted(set(p.exclusive_with)),
            "rollout": p.rollout.value,
        }
        for p in items
    ]
    return await _apply(session, actor, entity="program", table=PROGRAMS, key="code", rows=rows)


# ------------------------------------------------------------------ divisions


async def put_divisions(session: AsyncSession, actor: Actor, items: Sequence[DivisionIn]) -> dict[str, int]:
    require(actor, Role.ADMIN)
    return await _divisions(session, actor, [(n, i.model_dump()) for n, i in enumerate(items, start=1)])


async def import_divisions(session: AsyncSession, actor: Actor, text: str) -> dict[str, int]:
    """Load divisions from a CSV shaped like the Chongqing towns/streets reference file
    (code,name,area_code,province_code,city_code), optionally with `kind` and `parent_code`
    columns and village/community rows: 9-digit township codes become 12-digit; kinds and
    parents left empty are derived from the code and the name."""
    require(actor, Role.ADMIN)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not {"code", "name"} <= set(header):
        raise InvalidRecords(
            "CSV 须有表头，至少包含 code、name 两列",
            errors=[RowError(1, "header", "CSV_HEADER", "第1行：表头须包含 code、name").as_dict()],
        )
    errors: list[RowError] = []
    items: list[tuple[int, dict[str, Any]]] = []
    for n, raw in enumerate(reader, start=2):  # row 1 is the header
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        code, name = row.get("code", ""), row.get("name", "").strip('"')
        level = division_level(code)
        if level is None:
            errors.append(RowError(n, "code", "DIVISION_CODE_FORMAT", f"第{n}行：区划代码应为6、9或12位数字"))
            continue
        if not name or len(name) > 40:
            errors.append(RowError(n, "name", "DIVISION_NAME", f"第{n}行：名称不能为空且不超过40字"))
            continue
        code = township_code(code) if level == "township" else code
        kind = row.get("kind") or kind_from_name(level, name)
        if kind is None:
            errors.append(
                RowError(
                    n,
                    "kind",
                    "DIVISION_KIND_UNKNOWN",
                    f"第{n}行：无法从名称判断类别，请填写 kind（{'/'.join(kinds_of(level))}）",
                )
            )
            continue
        parent = row.get("parent_code") or row.get("parent") or None
        if parent is None and level == "township":
            parent = row.get("area_code") or code[:6]
            parent = parent if parent else None
        elif parent is None and level == "village":
            parent = code[:9] + "000"
        if parent is not None and division_level(parent) == "township":
            parent = township_code(parent)
        items.append((n, {"code": code, "name": name, "kind": kind, "parent_code": parent}))
    _refuse(errors, "区划文件")
    return await _divisions(session, actor, items, optional_district_parent=True)


async def _divisions(
    session: AsyncSession,
    actor: Actor,
    items: Sequence[tuple[int, dict[str, Any]]],
    *,
    optional_district_parent: bool = False,
) -> dict[str, int]:
    """Check levels, kinds and parents (in the request or stored), then apply."""
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for n, d in items:
        if d["code"] in seen:
            errors.append(
                RowError(n, "code", "DIVISION_DUPLICATE", f"第{n}行：区划代码与第{seen[d['code']]}行重复")
            )
        seen[d["code"]] = n
    in_request = {d["code"]: d["kind"] for _, d in items}
    parents = [d["parent_code"] for _, d in items if d["parent_code"]]
    known = {**await ref.division_kinds(session, parents), **in_request}
    out: list[dict[str, Any]] = []
    for n, d in items:
        level = division_level(d["code"])
        if level is None:
            errors.append(RowError(n, "code", "DIVISION_CODE_FORMAT", f"第{n}行：区划代码应为6或12位数字"))
            continue
        if d["kind"] not in kinds_of(level):
            errors.append(
                RowError(n, "kind", "DIVISION_KIND", f"第{n}行：该级区划类别应为 {'/'.join(kinds_of(level))}")
            )
        parent = d["parent_code"]
        want = {"district": None, "township": "district", "village": "township"}[level]
        if parent is None:
            if level == "village":
                errors.append(
                    RowError(
                        n, "parent_code", "DIVISION_PARENT_MISSING", f"第{n}行：村（社区）须填写所属镇街"
                    )
                )
        elif parent not in known:
            if level == "township" and optional_district_parent:
                d = {**d, "parent_code": None}  # the district itself is not loaded: keep the town top-level
            else:
                errors.append(
                    RowError(
                        n, "parent_code", "DIVISION_PARENT_UNKNOWN", f"第{n}行：上级区划 {parent} 不存在"
                    )
                )
        elif want is None or division_level(parent) != want or known[parent] not in kinds_of(want):
            errors.append(
                RowError(n, "parent_code", "DIVISION_PARENT_LEVEL", f"第{n}行：上级区划 {parent} 的层级不对")
            )
        elif level == "village" and not d["code"].startswith(parent[:9]):
            errors.append(
                RowError(
                    n, "code", "DIVISION_PARENT_MISMATCH", f"第{n}行：村（社区）代码前9位应与所属镇街一致"
                )
            )
        out.append(d)
    _refuse(errors, "行政区划")
    return await _apply(session, actor, entity="division", table=DIVISIONS, key="code", rows=out)


# ------------------------------------------------------------------ banks, organisations, agreements


async def put_banks(session: AsyncSession, actor: Actor, items: Sequence[BankIn]) -> dict[str, int]:
    require(actor, Role.ADMIN)
    errors = _duplicates([b.code for b in items], "code", "BANK_DUPLICATE", "银行代码")
    inst = [b.institution_code for b in items if b.institution_code]
    errors += [
        RowError(e.row, "institution_code", "BANK_INSTITUTION_DUPLICATE", e.message)
        for e in _duplicates(
            [b.institution_code or f"-{i}" for i, b in enumerate(items)], "x", "x", "金融机构代码"
        )
    ]
    holders = await ref.banks_by_institution(session, inst)
    for n, b in enumerate(items, start=1):
        holder = holders.get(b.institution_code or "")
        if holder is not None and holder != b.code:
            errors.append(
                RowError(
                    n,
                    "institution_code",
                    "BANK_INSTITUTION_TAKEN",
                    f"第{n}行：金融机构代码 {b.institution_code} 已登记为银行 {holder}",
                )
            )
    _refuse(errors, "代发银行")
    rows = [b.model_dump(mode="json") for b in items]
    return await _apply(session, actor, entity="bank", table=BANKS, key="code", rows=rows)


async def put_organisations(
    session: AsyncSession, actor: Actor, items: Sequence[OrganisationIn]
) -> dict[str, int]:
    require(actor, Role.ADMIN)
    errors = _duplicates([o.code for o in items], "code", "ORG_DUPLICATE", "机构代码")
    kinds = await ref.division_kinds(session, [o.division_code for o in items if o.division_code])
    banks = set(
        (await ref.rows_by_key(session, BANKS, "code", [o.bank_code for o in items if o.bank_code])).keys()
    )
    for n, o in enumerate(items, start=1):
        if o.division_code is not None:
            if division_level(o.division_code) != "township" or o.division_code not in kinds:
                errors.append(
                    RowError(
                        n,
                        "division_code",
                        "ORG_DIVISION_UNKNOWN",
                        f"第{n}行：镇街区划 {o.division_code} 不存在",
                    )
                )
            elif o.code != o.division_code:
                # operators of a town act under its division code (their data scope)
                errors.append(
                    RowError(n, "code", "ORG_TOWN_CODE", f"第{n}行：镇街机构代码须与其区划代码一致")
                )
        if o.bank_code is not None and o.bank_code not in banks:
            errors.append(RowError(n, "bank_code", "BANK_UNKNOWN", f"第{n}行：代发银行 {o.bank_code} 不存在"))
    _refuse(errors, "机构")
    rows = [o.model_dump(mode="json") for o in items]
    return await _apply(session, actor, entity="organisation", table=ORGANISATIONS, key="code", rows=rows)


async def put_agreements(session: AsyncSession, actor: Actor, items: Sequence[AgreementIn]) -> dict[str, int]:
    """Record the agent bank each paying unit chose; a new agreement ends the unit's active one."""
    require(actor, Role.ADMIN)
    errors = _duplicates([a.unit_code for a in items], "unit_code", "AGREEMENT_DUPLICATE_UNIT", "发放单位")
    errors += [
        RowError(e.row, "agreement_no", "AGREEMENT_DUPLICATE_NO", e.message)
        for e in _duplicates([a.agreement_no for a in items], "x", "x", "协议编号")
    ]
    units = await ref.organisation_kinds(session, [a.unit_code for a in items])
    banks = set((await ref.rows_by_key(session, BANKS, "code", [a.bank_code for a in items])).keys())
    active = await ref.active_agreements(session, [a.unit_code for a in items])
    used = await ref.agreement_numbers(session, [a.agreement_no for a in items])
    ends: list[tuple[int, date]] = []
    new_rows: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for n, a in enumerate(items, start=1):
        kind = units.get(a.unit_code)
        if kind is None:
            errors.append(
                RowError(n, "unit_code", "AGREEMENT_UNIT_UNKNOWN", f"第{n}行：发放单位 {a.unit_code} 未登记")
            )
            continue
        if kind not in (OrgKind.DEPARTMENT, OrgKind.TOWN):
            errors.append(
                RowError(
                    n, "unit_code", "AGREEMENT_UNIT_KIND", f"第{n}行：只有业务主管部门和镇街签订代发协议"
                )
            )
            continue
        if a.bank_code not in banks:
            errors.append(RowError(n, "bank_code", "BANK_UNKNOWN", f"第{n}行：代发银行 {a.bank_code} 不存在"))
            continue
        cur = active.get(a.unit_code)
        new = {
            "unit_code": a.unit_code,
            "bank_code": a.bank_code,
            "agreement_no": a.agreement_no,
            "effective_date": a.effective_date,
        }
        if cur is not None and all(cur[k] == v for k, v in new.items()):
            continue  # the same agreement again
        if a.agreement_no in used:
            errors.append(
                RowError(
                    n,
                    "agreement_no",
                    "AGREEMENT_NO_TAKEN",
                    f"第{n}行：协议编号 {a.agreement_no} 已使用；协议内容变化须以新协议编号登记",
                )
            )
            continue
        if cur is not None:
            if a.effective_date < cur["effective_date"]:
                errors.append(
                    RowError(
                        n,
                        "effective_date",
                        "AGREEMENT_DATE_BEFORE_CURRENT",
                        f"第{n}行：新协议生效日期不能早于现行协议（{cur['effective_date'].isoformat()}）",
                    )
                )
                continue
            ends.append((cur["id"], a.effective_date))
        new_rows.append({**new, "status": "active", "created_by": actor.user_id})
        audit.append(
            {
                "actor": actor.user_id,
                "role": actor.role.value,
                "org_code": actor.org_code,
                "entity": "agency_agreement",
                "key": a.unit_code,
                "old": _json({k: cur[k] for k in new}) if cur else None,
                "new": _json(new),
            }
        )
    _refuse(errors, "代发协议")
    await ref.end_agreements(session, ends)  # before the inserts: one active per unit at all times
    await ref.insert_agreements(session, new_rows)
    await ref.add_changes(session, audit)
    return {
        "upserted": len(items),
        "created": sum(1 for x in audit if x["old"] is None),
        "updated": sum(1 for x in audit if x["old"] is not None),
        "unchanged": len(items) - len(audit),
    }


# ------------------------------------------------------------------ reads


async def list_agreements(session: AsyncSession, actor: Actor, *, active_only: bool) -> list[dict[str, Any]]:
    """Admin, finance and supervisors see all; a unit its own; a bank those with itself."""
    unit = actor.org_code if actor.role in (Role.DEPARTMENT, Role.TOWN) else None
    bank_org = actor.org_code if actor.role == Role.BANK else None
    rows = await ref.agreements(session, unit=unit, bank_org=bank_org, active_only=active_only)
    return [_json(r) for r in rows]


async def list_changes(
    session: AsyncSession, actor: Actor, *, entity: str | None, key: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    if actor.role not in AUDIT_READERS:
        raise ReferenceForbidden("只有平台管理员和监督部门可以查看基础数据变更记录")
    return await ref.changes(session, entity=entity, key=key, limit=limit, offset=offset)
