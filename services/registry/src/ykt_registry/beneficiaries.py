"""Beneficiary use cases: registration (Annex 2, set-wise, all-or-nothing), masked reads,
a verified full view with an access record, person status, and account re-applications
(账户变更申请) approved by the person's town. They never commit.

Scopes: a town reads and changes only its own people; finance, supervisors and the platform
admin read every town (masked) and change nothing here, except that the admin may run the
initial bulk registration on the towns' behalf. Departments see people only as records of
their own programs' batches, never the person registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit import idcard, masking
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import Forbidden

from .adapters.api.schemas import AccountChangeIn, DecisionIn, PersonIn, PersonStatusIn
from .adapters.db import beneficiary_repo as brepo
from .adapters.db import repository as repo
from .domain.beneficiaries import (
    AccountInvalid,
    ChangeNotFound,
    ChangeState,
    ChangeStatus,
    PersonNotFound,
    PersonStatus,
    RegistrationConflict,
    account_tail,
)
from .domain.model import InvalidRecords, OutOfScope, RowError

READ_ALL = (Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)


def read_scope(actor: Actor) -> str | None:
    """The town whose people the actor may read; None = every town."""
    if actor.role == Role.TOWN:
        return actor.org_code
    if actor.role in READ_ALL:
        return None
    if actor.role == Role.DEPARTMENT:
        raise OutOfScope("业务主管部门通过本部门项目的发放批次查看对象，不能查看受益对象名册")
    raise OutOfScope("当前角色无权查看受益对象")


def account_key(cipher: PiiCipher, account_no: str) -> str:
    return cipher.blind_index(account_no, purpose="account")


# ------------------------------------------------------------------ registration


async def register_persons(
    session: AsyncSession, actor: Actor, items: Sequence[PersonIn], cipher: PiiCipher
) -> dict[str, int]:
    """Register beneficiaries and open their one-card accounts, all rows or none.

    The same person with the same data again changes nothing; changed personal data updates the
    person; a different account for a person who has an active one is refused: that is an
    account change (账户变更申请), approved by the town."""
    summary, errors = await register_rows(session, actor, list(enumerate(items, start=1)), cipher)
    if errors:
        raise InvalidRecords(
            f"共{len(errors)}处错误，未导入任何数据", errors=[e.as_dict() for e in errors[:500]]
        )
    return summary


async def register_rows(
    session: AsyncSession, actor: Actor, numbered: Sequence[tuple[int, PersonIn]], cipher: PiiCipher
) -> tuple[dict[str, int], list[RowError]]:
    """Register the good rows of `numbered` (row number, person) and return the bad ones' errors.

    The caller decides what errors mean: `register_persons` rolls everything back, an import with
    the accept-valid policy keeps the good rows."""
    require(actor, Role.TOWN, Role.ADMIN)
    items = [p for _, p in numbered]
    towns = await repo.division_codes(session)
    banks = await repo.bank_codes(session)
    villages = await brepo.villages(session, sorted({p.town_code for p in items}))
    errors: list[RowError] = []
    parsed: list[tuple[int, PersonIn, str, str, idcard.IdInfo, str | None]] = []
    seen: dict[str, int] = {}
    seen_acct: dict[str, int] = {}
    for n, p in numbered:
        bad = False
        if actor.role == Role.TOWN and p.town_code != actor.org_code:
            errors.append(RowError(n, "town_code", "TOWN_NOT_YOURS", f"第{n}行：只能登记本镇街的对象"))
            bad = True
        elif p.town_code not in towns:
            errors.append(RowError(n, "town_code", "TOWN_UNKNOWN", f"第{n}行：镇街代码 {p.town_code} 不存在"))
            bad = True
        if p.bank_code not in banks:
            errors.append(RowError(n, "bank_code", "BANK_UNKNOWN", f"第{n}行：代发银行 {p.bank_code} 不存在"))
            bad = True
        village_code = None
        if p.village and p.town_code in villages:
            village_code = villages[p.town_code].get(p.village)
            if village_code is None:
                errors.append(
                    RowError(
                        n, "village", "VILLAGE_UNKNOWN", f"第{n}行：村（社区）“{p.village}”不在该镇街区划中"
                    )
                )
                bad = True
        try:
            info = idcard.parse(p.id_number)
        except idcard.InvalidId as exc:
            errors.append(RowError(n, "id_number", exc.code, f"第{n}行：{exc.message}"))
            continue
        key = cipher.blind_index(p.id_number)
        akey = account_key(cipher, p.account_no)
        if key in seen:
            errors.append(RowError(n, "id_number", "PERSON_DUPLICATE", f"第{n}行：与第{seen[key]}行为同一人"))
            continue
        if akey in seen_acct:
            errors.append(
                RowError(
                    n,
                    "account_no",
                    "ACCOUNT_DUPLICATE",
                    f"第{n}行：账号与第{seen_acct[akey]}行相同（一人一卡）",
                )
            )
            continue
        seen[key] = n
        seen_acct[akey] = n
        if not bad:
            parsed.append((n, p, key, akey, info, village_code))

    existing = await brepo.persons_with_account(session, [k for _, _, k, _, _, _ in parsed], lock=True)
    owners = await brepo.active_owners(session, [a for _, _, _, a, _, _ in parsed])
    persons: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    rekey: list[int] = []
    unchanged = 0
    for n, p, key, akey, info, village_code in parsed:
        ex = existing.get(key)
        owner = owners.get(akey)
        if owner is not None and owner != key:
            errors.append(
                RowError(n, "account_no", "ACCOUNT_TAKEN", f"第{n}行：该账号已是其他受益对象的有效一卡通账户")
            )
            continue
        holder = p.holder_name or p.name
        account = {
            "person_key": key,
            "carrier": p.carrier.value,
            "bank_code": p.bank_code,
            "account_no_enc": cipher.encrypt(p.account_no),
            "account_key": akey,
            "account_tail": account_tail(p.account_no),
            "holder_name": holder,
            "opened_by": actor.user_id,
        }
        person = {
            "person_key": key,
            "name": p.name,
            "id_number_enc": cipher.encrypt(p.id_number.upper()),
            "gender": info.gender,
            "birth_date": info.birth_date,
            "phone_enc": cipher.encrypt(p.phone) if p.phone else None,
            "town_code": p.town_code,
            "village": p.village,
            "village_code": village_code,
            "household_no": p.household_no,
            "created_by": actor.user_id,
        }
        if ex is None:
            persons.append(person)
            accounts.append(account)
            continue
        if actor.role == Role.TOWN and ex.town_code != actor.org_code:
            errors.append(
                RowError(
                    n, "town_code", "PERSON_IN_OTHER_TOWN", f"第{n}行：该对象已在其他镇街登记，请由原镇街办理"
                )
            )
            continue
        if ex.status == PersonStatus.DECEASED:
            errors.append(
                RowError(n, "id_number", "PERSON_DECEASED", f"第{n}行：该对象已登记为死亡，不能重新登记")
            )
            continue
        opens = False
        if ex.account_id is None:
            opens = True
        elif ex.account_key.startswith("migrated:") and (
            cipher.decrypt(ex.account_no_enc),
            ex.bank_code,
        ) == (p.account_no, p.bank_code):
            rekey.append(ex.account_id)  # an account carried over by migration 0002 gets its index
            account = {**account, "carrier": ex.carrier, "holder_name": ex.holder_name}
            opens = True
        elif (ex.account_key, ex.bank_code, ex.carrier, ex.holder_name) != (
            akey,
            p.bank_code,
            p.carrier.value,
            holder,
        ):
            errors.append(
                RowError(
                    n,
                    "account_no",
                    "ACCOUNT_CHANGE_REQUIRED",
                    f"第{n}行：该对象已有有效一卡通账户（尾号{ex.account_tail}），"
                    "更换账户须提交账户变更申请，经镇街审核后生效",
                )
            )
            continue
        old_phone = cipher.decrypt(ex.phone_enc) if ex.phone_enc is not None else None
        changed = (ex.name, old_phone, ex.town_code, ex.village, ex.village_code, ex.household_no) != (
            p.name,
            p.phone,
            p.town_code,
            p.village,
            village_code,
            p.household_no,
        )
        if changed:
            persons.append({**person, "id_number_enc": ex.id_number_enc})
        if opens:
            accounts.append(account)
        if not changed and not opens:
            unchanged += 1
    errors.sort(key=lambda e: e.row)
    await brepo.upsert_persons(session, persons)
    await brepo.close_accounts(session, rekey)
    opened = await brepo.open_accounts(session, accounts)
    if len(opened) != len(accounts):
        # someone registered the same person or account at the same moment: nothing is kept
        raise RegistrationConflict("同一对象或账号正被同时登记，请稍后重新导入")
    created = sum(1 for r in persons if r["person_key"] not in existing)
    refused = {e.row for e in errors}
    summary = {
        "registered": sum(1 for n, *_ in parsed if n not in refused),
        "created": created,
        "updated": len(persons) - created,
        "unchanged": unchanged,
        "accounts_opened": len(opened) - len(rekey),
    }
    return summary, errors


# ------------------------------------------------------------------ reads (masked)


def _masked(r: Any, cipher: PiiCipher) -> dict[str, Any]:
    return {
        "person_key": r.person_key,
        "name": masking.mask_name(r.name),
        "id_number": masking.mask_id(cipher.decrypt(r.id_number_enc)),
        "gender": r.gender,
        "birth_date": r.birth_date.isoformat(),
        "phone": masking.mask_phone(cipher.decrypt(r.phone_enc)) if r.phone_enc is not None else None,
        "town_code": r.town_code,
        "village": r.village,
        "village_code": r.village_code,
        "household_no": r.household_no,
        "status": r.status,
        "account": None
        if r.account_id is None
        else {
            "account_id": r.account_id,
            "carrier": r.carrier,
            "bank_code": r.bank_code,
            "account_no": "*" * 12 + r.account_tail,
            "holder_name": masking.mask_name(r.holder_name),
        },
    }


async def list_persons(
    session: AsyncSession,
    actor: Actor,
    cipher: PiiCipher,
    *,
    status: str | None,
    village: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    rows = await brepo.persons(
        session, town=read_scope(actor), status=status, village=village, limit=limit, offset=offset
    )
    return [_masked(r, cipher) for r in rows]


async def lookup(
    session: AsyncSession, actor: Actor, id_number: str, cipher: PiiCipher
) -> list[dict[str, Any]]:
    """Find a person by ID number (sent in a body, never in a URL) within the actor's scope."""
    row = await brepo.person(session, cipher.blind_index(id_number), town=read_scope(actor))
    return [] if row is None else [_masked(row, cipher)]


def _account_view(a: Any) -> dict[str, Any]:
    return {
        "account_id": a.account_id,
        "carrier": a.carrier,
        "bank_code": a.bank_code,
        "account_no": "*" * 12 + a.account_tail,
        "holder_name": masking.mask_name(a.holder_name),
        "status": a.status,
        "opened_at": a.opened_at.isoformat(),
        "closed_at": a.closed_at.isoformat() if a.closed_at else None,
        "change_id": a.change_id,
    }


def _change_view(c: Any) -> dict[str, Any]:
    return {
        "change_id": c.change_id,
        "person_key": c.person_key,
        "town_code": c.town_code,
        "old_account_id": c.old_account_id,
        "new": {
            "carrier": c.carrier,
            "bank_code": c.bank_code,
            "account_no": "*" * 12 + c.account_tail,
            "holder_name": masking.mask_name(c.holder_name),
        },
        "reason": c.reason,
        "requested_by": c.requested_by,
        "requested_at": c.requested_at.isoformat(),
        "status": c.status,
        "decided_by": c.decided_by,
        "decided_at": c.decided_at.isoformat() if c.decided_at else None,
        "decision_note": c.decision_note,
        "new_account_id": c.new_account_id,
    }


async def _scoped_person(
    session: AsyncSession, actor: Actor, person_key: str, *, town: str | None, lock: bool = False
) -> Any:
    row = await brepo.person(session, person_key, town=town, lock=lock)
    if row is None:
        raise PersonNotFound("受益对象不存在或不在本单位权限范围内")
    return row


async def person_detail(
    session: AsyncSession, actor: Actor, person_key: str, cipher: PiiCipher
) -> dict[str, Any]:
    """One person, masked, with the whole account history and every account change."""
    r = await _scoped_person(session, actor, person_key, town=read_scope(actor))
    return {
        **_masked(r, cipher),
        "status_reason": r.status_reason,
        "accounts": [_account_view(a) for a in await brepo.accounts_of(session, person_key)],
        "account_changes": [
            _change_view(c)
            for c in await brepo.changes(
                session, town=None, person_key=person_key, status=None, limit=1000, offset=0
            )
        ],
    }


async def verify_person(
    session: AsyncSession, actor: Actor, person_key: str, purpose: str, cipher: PiiCipher
) -> dict[str, Any]:
    """Full values for the operator of the person's own town who checks them against documents;
    the access (who, when, why, which fields — not the values) is recorded in the same transaction."""
    if actor.role != Role.TOWN:
        raise Forbidden("只有对象所在镇街的经办人员可以查看完整信息", code="PII_FULL_VIEW_FORBIDDEN")
    r = await _scoped_person(session, actor, person_key, town=actor.org_code)
    fields = ["name", "id_number", "phone", "account_no", "holder_name"]
    await brepo.log_access(
        session,
        {
            "actor": actor.user_id,
            "role": actor.role.value,
            "org_code": actor.org_code,
            "person_key": person_key,
            "fields": fields,
            "purpose": purpose,
        },
    )
    return {
        "person_key": r.person_key,
        "name": r.name,
        "id_number": cipher.decrypt(r.id_number_enc),
        "phone": cipher.decrypt(r.phone_enc) if r.phone_enc is not None else None,
        "account": None
        if r.account_id is None
        else {
            "account_id": r.account_id,
            "bank_code": r.bank_code,
            "carrier": r.carrier,
            "account_no": cipher.decrypt(r.account_no_enc),
            "holder_name": r.holder_name,
        },
    }


async def access_log(session: AsyncSession, actor: Actor, person_key: str) -> list[dict[str, Any]]:
    """Who saw this person's full data (supervisors, admin, and the person's own town)."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN, Role.TOWN):
        raise OutOfScope("当前角色无权查看个人信息访问记录")
    await _scoped_person(session, actor, person_key, town=read_scope(actor))
    return [
        {**dict(a._mapping), "at": a.at.isoformat()}
        for a in await brepo.access_log(session, person_key, limit=500)
    ]


# ------------------------------------------------------------------ changes by the town


async def set_status(
    session: AsyncSession, actor: Actor, person_key: str, body: PersonStatusIn
) -> dict[str, Any]:
    """The person's town marks them inactive or deceased (or active again, unless deceased)."""
    require(actor, Role.TOWN)
    r = await _scoped_person(session, actor, person_key, town=actor.org_code, lock=True)
    if r.status == PersonStatus.DECEASED and body.status != PersonStatus.DECEASED:
        raise ChangeState("已登记死亡的对象不能恢复", code="PERSON_DECEASED")
    await brepo.set_person_status(session, person_key, body.status.value, body.reason)
    return {"person_key": person_key, "status": body.status.value}


async def request_change(
    session: AsyncSession, actor: Actor, person_key: str, body: AccountChangeIn, cipher: PiiCipher
) -> dict[str, Any]:
    """Record a beneficiary's re-application for another one-card account (pending approval)."""
    require(actor, Role.TOWN)
    r = await _scoped_person(session, actor, person_key, town=actor.org_code, lock=True)
    if r.status == PersonStatus.DECEASED:
        raise ChangeState("已登记死亡的对象不能变更账户", code="PERSON_DECEASED")
    if body.bank_code not in await repo.bank_codes(session):
        raise AccountInvalid(f"代发银行 {body.bank_code} 不存在", code="BANK_UNKNOWN")
    akey = account_key(cipher, body.account_no)
    holder = body.holder_name or r.name
    if r.account_id is not None and (r.account_key, r.bank_code, r.carrier, r.holder_name) == (
        akey,
        body.bank_code,
        body.carrier.value,
        holder,
    ):
        raise AccountInvalid("新账户与现有账户相同，无需变更", code="ACCOUNT_CHANGE_SAME")
    owner = (await brepo.active_owners(session, [akey])).get(akey)
    if owner is not None and owner != person_key:
        raise AccountInvalid("该账号已是其他受益对象的有效一卡通账户", code="ACCOUNT_TAKEN")
    change_id = str(uuid.uuid4())
    ok = await brepo.insert_change(
        session,
        {
            "change_id": change_id,
            "person_key": person_key,
            "town_code": r.town_code,
            "old_account_id": r.account_id,
            "carrier": body.carrier.value,
            "bank_code": body.bank_code,
            "account_no_enc": cipher.encrypt(body.account_no),
            "account_key": akey,
            "account_tail": account_tail(body.account_no),
            "holder_name": holder,
            "reason": body.reason,
            "requested_by": actor.user_id,
        },
    )
    if not ok:
        raise ChangeState("该对象已有待审核的账户变更申请", code="ACCOUNT_CHANGE_PENDING")
    c = await brepo.change(session, change_id, town=None)
    return _change_view(c)


async def _pending_change(session: AsyncSession, actor: Actor, change_id: str) -> Any:
    if actor.role != Role.TOWN:
        raise Forbidden("账户变更由对象所在镇街审核", code="ROLE_FORBIDDEN", role=actor.role.value)
    c = await brepo.change(session, change_id, town=actor.org_code, lock=True)
    if c is None:
        raise ChangeNotFound("账户变更申请不存在或不在本镇街权限范围内")
    if c.status != ChangeStatus.PENDING:
        raise ChangeState("该申请已审核", status_now=c.status)
    if c.requested_by == actor.user_id:
        raise Forbidden("申请录入人不能审核自己录入的申请", code="ACCOUNT_CHANGE_SELF_APPROVAL")
    return c


async def approve_change(
    session: AsyncSession, actor: Actor, change_id: str, body: DecisionIn
) -> dict[str, Any]:
    """Close the old account and open the new one, in this transaction; the change records both."""
    c = await _pending_change(session, actor, change_id)
    p = await _scoped_person(session, actor, c.person_key, town=actor.org_code, lock=True)
    if p.account_id != c.old_account_id:
        raise ChangeState("对象的现有账户已变化，请重新提交申请", code="ACCOUNT_CHANGE_STALE")
    owner = (await brepo.active_owners(session, [c.account_key])).get(c.account_key)
    if owner is not None and owner != c.person_key:
        raise AccountInvalid("该账号已是其他受益对象的有效一卡通账户", code="ACCOUNT_TAKEN")
    if p.account_id is not None:
        await brepo.close_accounts(session, [p.account_id])
    opened = await brepo.open_accounts(
        session,
        [
            {
                "person_key": c.person_key,
                "carrier": c.carrier,
                "bank_code": c.bank_code,
                "account_no_enc": c.account_no_enc,
                "account_key": c.account_key,
                "account_tail": c.account_tail,
                "holder_name": c.holder_name,
                "opened_by": actor.user_id,
                "change_id": change_id,
            }
        ],
    )
    if len(opened) != 1:
        raise RegistrationConflict("账户正被同时变更，请稍后重试")
    await brepo.decide_change(
        session,
        change_id,
        status=ChangeStatus.APPROVED.value,
        decided_by=actor.user_id,
        decision_note=body.note,
        new_account_id=opened[0],
    )
    return _change_view(await brepo.change(session, change_id, town=None))


async def reject_change(
    session: AsyncSession, actor: Actor, change_id: str, body: DecisionIn
) -> dict[str, Any]:
    await _pending_change(session, actor, change_id)
    await brepo.decide_change(
        session,
        change_id,
        status=ChangeStatus.REJECTED.value,
        decided_by=actor.user_id,
        decision_note=body.note,
    )
    return _change_view(await brepo.change(session, change_id, town=None))


async def list_changes(
    session: AsyncSession, actor: Actor, *, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await brepo.changes(
        session, town=read_scope(actor), person_key=None, status=status, limit=limit, offset=offset
    )
    return [_change_view(c) for c in rows]
