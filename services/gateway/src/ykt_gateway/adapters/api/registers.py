"""Operator routes for validation's reference registers (残疾人, 特困供养, 建档立卡/脱贫, 死亡人员,
财政供养). The platform administrator imports them; supervisors read everything; finance and the
departments see which version of each register is in force (no personal data). ID numbers
travel in bodies, never in URLs (paths are audited and logged)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from ykt_kit.actor import Actor, Role
from ykt_validation.adapters.api.schemas import RegisterLookupIn
from ykt_validation.domain.registers import RegisterKind

from . import auth
from .forward import forward

router = APIRouter(prefix="/registers", tags=["registers"])

Importer = Annotated[Actor, auth.roles(Role.ADMIN)]
ImportReader = Annotated[Actor, auth.roles(Role.ADMIN, Role.SUPERVISOR, Role.FINANCE, Role.DEPARTMENT)]
PersonReader = Annotated[Actor, auth.roles(Role.ADMIN, Role.SUPERVISOR)]


@router.post(
    "/imports",
    summary="导入名册（XLSX/CSV 文件作为请求体；整表替换该类名册，有错整表不导入）",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            },
        }
    },
)
async def import_register(
    request: Request,
    actor: Importer,
    kind: Annotated[RegisterKind, Query(description="名册类别")],
    as_of: Annotated[date, Query(description="名册日期 YYYY-MM-DD")],
    source: Annotated[str, Query(min_length=1, max_length=60, description="名册来源（提供单位）")],
    filename: Annotated[str | None, Query(max_length=200, description="原文件名（留档）")] = None,
) -> Response:
    return await forward(request, actor, "validation", "/api/v1/registers/imports", stream_body=True)


@router.get("", summary="各类名册及现行版本")
async def in_force(request: Request, actor: ImportReader) -> Response:
    return await forward(request, actor, "validation", "/api/v1/registers")


@router.get("/imports", summary="名册导入记录")
async def imports(
    request: Request,
    actor: ImportReader,
    kind: RegisterKind | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return await forward(request, actor, "validation", "/api/v1/registers/imports")


@router.get("/imports/{import_id}", summary="一次名册导入")
async def import_view(request: Request, actor: ImportReader, import_id: str) -> Response:
    return await forward(request, actor, "validation", f"/api/v1/registers/imports/{import_id}")


@router.get("/imports/{import_id}/report", summary="下载名册导入错误报告（XLSX）")
async def import_report(request: Request, actor: PersonReader, import_id: str) -> Response:
    return await forward(request, actor, "validation", f"/api/v1/registers/imports/{import_id}/report")


@router.post("/lookup", summary="查询某人在哪些名册中（脱敏）")
async def lookup(request: Request, actor: PersonReader, body: RegisterLookupIn) -> Response:
    return await forward(
        request, actor, "validation", "/api/v1/registers/lookup", content=await request.body()
    )
