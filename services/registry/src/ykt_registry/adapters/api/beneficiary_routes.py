"""Registry HTTP API for beneficiaries, one-card accounts and account changes (thin routes)."""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from ykt_kit.actor import CurrentActor
from ykt_kit.crypto import PiiCipher

from ... import beneficiaries as svc
from ... import imports
from .schemas import AccountChangeIn, DecisionIn, LookupIn, PersonIn, PersonStatusIn, VerificationIn
from .uploads import spooled

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=1000)]


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.cipher
    return cipher


@router.post(
    "/beneficiaries", tags=["beneficiaries"], summary="登记受益对象及一卡通账户（整批成功或整批不导入）"
)
async def register(request: Request, actor: CurrentActor, body: list[PersonIn]) -> dict[str, int]:
    async with request.app.state.db.transaction() as s:
        return await svc.register_persons(s, actor, body, _cipher(request))


@router.get("/beneficiaries", tags=["beneficiaries"], summary="受益对象名册（脱敏，按数据权限）")
async def persons(
    request: Request,
    actor: CurrentActor,
    status: str | None = None,
    village: str | None = None,
    limit: Limit = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await svc.list_persons(
            s, actor, _cipher(request), status=status, village=village, limit=limit, offset=offset
        )


@router.post(
    "/beneficiaries/lookup", tags=["beneficiaries"], summary="按身份证号查找对象（脱敏；号码放在请求体中）"
)
async def lookup(request: Request, actor: CurrentActor, body: LookupIn) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await svc.lookup(s, actor, body.id_number, _cipher(request))


@router.get(
    "/beneficiaries/{person_key}", tags=["beneficiaries"], summary="对象详情、账户历史与变更申请（脱敏）"
)
async def person(request: Request, actor: CurrentActor, person_key: str) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.person_detail(s, actor, person_key, _cipher(request))


@router.post(
    "/beneficiaries/{person_key}/verification",
    tags=["beneficiaries"],
    summary="核对完整信息（仅对象所在镇街；记录访问审计）",
)
async def verify(
    request: Request, actor: CurrentActor, person_key: str, body: VerificationIn
) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.verify_person(s, actor, person_key, body.purpose, _cipher(request))


@router.get("/beneficiaries/{person_key}/access-log", tags=["beneficiaries"], summary="完整信息访问记录")
async def access_log(request: Request, actor: CurrentActor, person_key: str) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await svc.access_log(s, actor, person_key)


@router.put(
    "/beneficiaries/{person_key}/status", tags=["beneficiaries"], summary="对象状态：在册/停发/死亡（镇街）"
)
async def set_status(
    request: Request, actor: CurrentActor, person_key: str, body: PersonStatusIn
) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.set_status(s, actor, person_key, body)


@router.post(
    "/beneficiaries/{person_key}/account-changes",
    tags=["beneficiaries"],
    status_code=201,
    summary="账户变更申请（镇街录入，待审核）",
)
async def request_change(
    request: Request, actor: CurrentActor, person_key: str, body: AccountChangeIn
) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.request_change(s, actor, person_key, body, _cipher(request))


@router.get("/account-changes", tags=["beneficiaries"], summary="账户变更申请列表（按数据权限）")
async def changes(
    request: Request, actor: CurrentActor, status: str | None = None, limit: Limit = 100, offset: int = 0
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await svc.list_changes(s, actor, status=status, limit=limit, offset=offset)


@router.post(
    "/account-changes/{change_id}/approval",
    tags=["beneficiaries"],
    summary="审核通过：关闭原账户、启用新账户",
)
async def approve(request: Request, actor: CurrentActor, change_id: str, body: DecisionIn) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.approve_change(s, actor, change_id, body)


@router.post("/account-changes/{change_id}/rejection", tags=["beneficiaries"], summary="审核不通过")
async def reject(request: Request, actor: CurrentActor, change_id: str, body: DecisionIn) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await svc.reject_change(s, actor, change_id, body)


# ------------------------------------------------------------------ collection-form imports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post(
    "/beneficiaries/imports",
    tags=["beneficiaries"],
    summary="导入个人一卡通账户收集表（XLSX/CSV，请求体为文件本身）",
)
async def import_file(
    request: Request,
    actor: CurrentActor,
    filename: str | None = None,
    policy: imports.ImportPolicy = imports.ImportPolicy.REJECT_ALL,
) -> dict[str, Any]:
    async with spooled(request, filename) as up:
        return await imports.import_persons(
            request.app.state.db,
            actor,
            _cipher(request),
            path=up.path,
            file_hash=up.sha256,
            filename=up.filename,
            policy=policy,
        )


@router.get("/beneficiaries/imports/{import_id}", tags=["beneficiaries"], summary="导入结果")
async def import_result(request: Request, actor: CurrentActor, import_id: str) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await imports.import_view(s, actor, import_id)


@router.get(
    "/beneficiaries/imports/{import_id}/report", tags=["beneficiaries"], summary="下载导入错误报告（XLSX）"
)
async def import_report(request: Request, actor: CurrentActor, import_id: str) -> Response:
    buf = io.BytesIO()
    async with request.app.state.db.transaction() as s:
        name = await imports.write_report(s, actor, import_id, buf)
    return Response(
        buf.getvalue(),
        media_type=XLSX,
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
