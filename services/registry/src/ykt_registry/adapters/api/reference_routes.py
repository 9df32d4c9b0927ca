"""Registry HTTP API for reference data (thin: one use case per route, one transaction each)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from ykt_kit.actor import CurrentActor

from ... import reference
from ..db import reference_repo as ref
from ..db import repository as repo
from .schemas import AgreementIn, BankIn, DivisionIn, OrganisationIn, ProgramIn

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=1000)]
Counts = dict[str, int]


@router.get(
    "/programs", tags=["reference"], summary="补贴项目目录（含补助标准、名册要求、互斥项目、上线状态）"
)
async def programs(request: Request, actor: CurrentActor) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return [reference.program_view(r) for r in await repo.programs(s)]


@router.put("/programs", tags=["reference"], summary="维护补贴项目目录（管理员，留痕）")
async def put_programs(request: Request, actor: CurrentActor, body: list[ProgramIn]) -> Counts:
    async with request.app.state.db.transaction() as s:
        return await reference.put_programs(s, actor, body)


@router.get("/divisions", tags=["reference"], summary="行政区划（区县、镇街、村社区）")
async def divisions(
    request: Request, actor: CurrentActor, parent_code: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await ref.divisions(s, parent=parent_code, kinds=[kind] if kind else None)


@router.put("/divisions", tags=["reference"], summary="维护行政区划（管理员，留痕）")
async def put_divisions(request: Request, actor: CurrentActor, body: list[DivisionIn]) -> Counts:
    async with request.app.state.db.transaction() as s:
        return await reference.put_divisions(s, actor, body)


@router.post(
    "/divisions/import",
    tags=["reference"],
    summary="从 CSV 导入行政区划（code,name,area_code,province_code,city_code[,kind,parent_code]）",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_divisions(request: Request, actor: CurrentActor) -> Counts:
    text = (await request.body()).decode("utf-8-sig", errors="replace")
    async with request.app.state.db.transaction() as s:
        return await reference.import_divisions(s, actor, text)


@router.get("/banks", tags=["reference"], summary="代发银行")
async def banks(request: Request, actor: CurrentActor) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return [dict(r._mapping) for r in await repo.banks(s)]


@router.put("/banks", tags=["reference"], summary="维护代发银行（管理员，留痕）")
async def put_banks(request: Request, actor: CurrentActor, body: list[BankIn]) -> Counts:
    async with request.app.state.db.transaction() as s:
        return await reference.put_banks(s, actor, body)


@router.get("/organisations", tags=["reference"], summary="机构：部门、镇街、财政、银行、监督")
async def organisations(
    request: Request, actor: CurrentActor, kind: str | None = None
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await ref.organisations(s, kind=kind)


@router.put("/organisations", tags=["reference"], summary="维护机构（管理员，留痕）")
async def put_organisations(request: Request, actor: CurrentActor, body: list[OrganisationIn]) -> Counts:
    async with request.app.state.db.transaction() as s:
        return await reference.put_organisations(s, actor, body)


@router.get("/agency-agreements", tags=["reference"], summary="代发协议（单位只见本单位，银行只见本行）")
async def agreements(
    request: Request, actor: CurrentActor, active_only: bool = False
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await reference.list_agreements(s, actor, active_only=active_only)


@router.put(
    "/agency-agreements", tags=["reference"], summary="登记代发协议（管理员，留痕；新协议终止原协议）"
)
async def put_agreements(request: Request, actor: CurrentActor, body: list[AgreementIn]) -> Counts:
    async with request.app.state.db.transaction() as s:
        return await reference.put_agreements(s, actor, body)


@router.get("/reference-changes", tags=["reference"], summary="基础数据变更记录（管理员、监督部门）")
async def reference_changes(
    request: Request,
    actor: CurrentActor,
    entity: str | None = None,
    key: str | None = None,
    limit: Limit = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await reference.list_changes(s, actor, entity=entity, key=key, limit=limit, offset=offset)
