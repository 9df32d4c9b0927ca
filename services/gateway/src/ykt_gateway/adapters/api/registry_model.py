"""Operator routes for the registry's reference data, beneficiaries and one-card accounts.

Roles are checked here; data scope (a town's own people, a unit's own agreements) is applied by
the registry in its queries. Bodies are validated with the registry's own schemas, then passed on
unchanged. ID numbers travel in bodies, never in URLs (paths are audited and logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from ykt_kit.actor import Actor, Role
from ykt_registry.adapters.api.schemas import (
    AccountChangeIn,
    AgreementIn,
    BankIn,
    DecisionIn,
    DivisionIn,
    LookupIn,
    OrganisationIn,
    PersonIn,
    PersonStatusIn,
    ProgramIn,
    VerificationIn,
)

from . import auth
from .forward import forward

router = APIRouter()

EVERYONE = (Role.ADMIN, Role.FINANCE, Role.DEPARTMENT, Role.TOWN, Role.BANK, Role.SUPERVISOR)
Anyone = Annotated[Actor, auth.roles(*EVERYONE)]
Admin = Annotated[Actor, auth.roles(Role.ADMIN)]
Auditor = Annotated[Actor, auth.roles(Role.SUPERVISOR, Role.ADMIN)]
Town = Annotated[Actor, auth.roles(Role.TOWN)]
TownOrAdmin = Annotated[Actor, auth.roles(Role.TOWN, Role.ADMIN)]
# departments see people only as records of their own programs' batches, not the registry
PeopleReader = Annotated[Actor, auth.roles(Role.TOWN, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)]
AccessLogReader = Annotated[Actor, auth.roles(Role.TOWN, Role.SUPERVISOR, Role.ADMIN)]
Limit = Annotated[int, Query(ge=1, le=1000)]


async def _pass(request: Request, actor: Actor, path: str) -> Response:
    """Forward the (already validated) JSON body unchanged."""
    return await forward(request, actor, "registry", path, content=await request.body())


# ------------------------------------------------------------------ reference data


@router.get("/programs", tags=["reference"], summary="补贴项目目录（补助标准、名册要求、互斥项目、上线状态）")
async def programs(request: Request, actor: Anyone) -> Response:
    return await forward(request, actor, "registry", "/api/v1/programs")


@router.put("/programs", tags=["reference"], summary="维护补贴项目目录（留痕）")
async def put_programs(request: Request, actor: Admin, body: list[ProgramIn]) -> Response:
    return await _pass(request, actor, "/api/v1/programs")


@router.get("/divisions", tags=["reference"], summary="行政区划（区县、镇街、村社区）")
async def divisions(
    request: Request, actor: Anyone, parent_code: str | None = None, kind: str | None = None
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/divisions")


@router.put("/divisions", tags=["reference"], summary="维护行政区划（留痕）")
async def put_divisions(request: Request, actor: Admin, body: list[DivisionIn]) -> Response:
    return await _pass(request, actor, "/api/v1/divisions")


@router.post(
    "/divisions/import",
    tags=["reference"],
    summary="从 CSV 导入行政区划（code,name,area_code,province_code,city_code[,kind,parent_code]）",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_divisions(request: Request, actor: Admin) -> Response:
    return await forward(
        request,
        actor,
        "registry",
        "/api/v1/divisions/import",
        content=await request.body(),
        content_type="text/csv",
    )


@router.get("/banks", tags=["reference"], summary="代发银行")
async def banks(request: Request, actor: Anyone) -> Response:
    return await forward(request, actor, "registry", "/api/v1/banks")


@router.put("/banks", tags=["reference"], summary="维护代发银行（留痕）")
async def put_banks(request: Request, actor: Admin, body: list[BankIn]) -> Response:
    return await _pass(request, actor, "/api/v1/banks")


@router.get("/organisations", tags=["reference"], summary="机构：部门、镇街、财政、银行、监督")
async def organisations(request: Request, actor: Anyone, kind: str | None = None) -> Response:
    return await forward(request, actor, "registry", "/api/v1/organisations")


@router.put("/organisations", tags=["reference"], summary="维护机构（留痕）")
async def put_organisations(request: Request, actor: Admin, body: list[OrganisationIn]) -> Response:
    return await _pass(request, actor, "/api/v1/organisations")


@router.get("/agency-agreements", tags=["reference"], summary="代发协议（单位只见本单位，银行只见本行）")
async def agreements(request: Request, actor: Anyone, active_only: bool = False) -> Response:
    return await forward(request, actor, "registry", "/api/v1/agency-agreements")


@router.put("/agency-agreements", tags=["reference"], summary="登记代发协议（留痕；新协议终止原协议）")
async def put_agreements(request: Request, actor: Admin, body: list[AgreementIn]) -> Response:
    return await _pass(request, actor, "/api/v1/agency-agreements")


@router.get("/reference-changes", tags=["reference"], summary="基础数据变更记录（只读）")
async def reference_changes(
    request: Request,
    actor: Auditor,
    entity: str | None = None,
    key: str | None = None,
    limit: Limit = 100,
    offset: int = 0,
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/reference-changes")


# ------------------------------------------------------------------ beneficiaries and accounts


@router.post(
    "/beneficiaries", tags=["beneficiaries"], summary="登记受益对象及一卡通账户（整批成功或整批不导入）"
)
async def register(request: Request, actor: TownOrAdmin, body: list[PersonIn]) -> Response:
    return await _pass(request, actor, "/api/v1/beneficiaries")


@router.get("/beneficiaries", tags=["beneficiaries"], summary="受益对象名册（脱敏，镇街只见本镇街）")
async def persons(
    request: Request,
    actor: PeopleReader,
    status: str | None = None,
    village: str | None = None,
    limit: Limit = 100,
    offset: int = 0,
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/beneficiaries")


@router.post(
    "/beneficiaries/imports",
    tags=["beneficiaries"],
    summary="导入个人一卡通账户收集表（XLSX/CSV 文件作为请求体；policy=reject_all|accept_valid）",
)
async def import_file(request: Request, actor: TownOrAdmin) -> Response:
    return await forward(
        request,
        actor,
        "registry",
        "/api/v1/beneficiaries/imports",
        stream_body=True,  # the file is never held whole in the gateway
    )


@router.get("/beneficiaries/imports/{import_id}", tags=["beneficiaries"], summary="导入结果")
async def import_result(request: Request, actor: AccessLogReader, import_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/beneficiaries/imports/{import_id}")


@router.get(
    "/beneficiaries/imports/{import_id}/report", tags=["beneficiaries"], summary="下载导入错误报告（XLSX）"
)
async def import_report(request: Request, actor: AccessLogReader, import_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/beneficiaries/imports/{import_id}/report")


@router.post("/beneficiaries/lookup", tags=["beneficiaries"], summary="按身份证号查找对象（脱敏）")
async def lookup(request: Request, actor: PeopleReader, body: LookupIn) -> Response:
    return await _pass(request, actor, "/api/v1/beneficiaries/lookup")


@router.get(
    "/beneficiaries/{person_key}", tags=["beneficiaries"], summary="对象详情、账户历史与变更申请（脱敏）"
)
async def person(request: Request, actor: PeopleReader, person_key: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/beneficiaries/{person_key}")


@router.post(
    "/beneficiaries/{person_key}/verification",
    tags=["beneficiaries"],
    summary="核对完整信息（仅对象所在镇街，记录访问审计）",
)
async def verify(request: Request, actor: Town, person_key: str, body: VerificationIn) -> Response:
    return await _pass(request, actor, f"/api/v1/beneficiaries/{person_key}/verification")


@router.get("/beneficiaries/{person_key}/access-log", tags=["beneficiaries"], summary="完整信息访问记录")
async def access_log(request: Request, actor: AccessLogReader, person_key: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/beneficiaries/{person_key}/access-log")


@router.put("/beneficiaries/{person_key}/status", tags=["beneficiaries"], summary="对象状态：在册/停发/死亡")
async def set_status(request: Request, actor: Town, person_key: str, body: PersonStatusIn) -> Response:
    return await _pass(request, actor, f"/api/v1/beneficiaries/{person_key}/status")


@router.post(
    "/beneficiaries/{person_key}/account-changes",
    tags=["beneficiaries"],
    status_code=201,
    summary="账户变更申请（镇街录入，待另一经办人审核）",
)
async def request_change(request: Request, actor: Town, person_key: str, body: AccountChangeIn) -> Response:
    return await _pass(request, actor, f"/api/v1/beneficiaries/{person_key}/account-changes")


@router.get("/account-changes", tags=["beneficiaries"], summary="账户变更申请列表（镇街只见本镇街）")
async def changes(
    request: Request, actor: PeopleReader, status: str | None = None, limit: Limit = 100, offset: int = 0
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/account-changes")


@router.post(
    "/account-changes/{change_id}/approval",
    tags=["beneficiaries"],
    summary="审核通过：关闭原账户、启用新账户",
)
async def approve(request: Request, actor: Town, change_id: str, body: DecisionIn) -> Response:
    return await _pass(request, actor, f"/api/v1/account-changes/{change_id}/approval")


@router.post("/account-changes/{change_id}/rejection", tags=["beneficiaries"], summary="审核不通过")
async def reject(request: Request, actor: Town, change_id: str, body: DecisionIn) -> Response:
    return await _pass(request, actor, f"/api/v1/account-changes/{change_id}/rejection")
