"""HTTP routes of the reference registers: import a register file, list imports and their reports,
look up one person. Thin: one use case each; the roles are checked in the use case."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from ykt_kit.actor import CurrentActor
from ykt_kit.crypto import PiiCipher

from ... import registers
from ...domain.registers import RegisterKind
from .deps import Session
from .schemas import RegisterImportOut, RegisterInForceOut, RegisterLookupIn, RegisterLookupOut
from .uploads import spooled

router = APIRouter(prefix="/api/v1/registers", tags=["registers"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ("text/csv", XLSX)},
    }
}


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.cipher
    return cipher


@router.post(
    "/imports",
    summary="导入名册（XLSX/CSV 文件作为请求体；整表替换该类名册，有错整表不导入）",
    response_model=RegisterImportOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={200: {"description": "同一文件再次导入：返回首次导入（duplicate: true）"}},
)
async def import_register(
    request: Request,
    actor: CurrentActor,
    kind: Annotated[RegisterKind, Query(description="名册类别")],
    as_of: Annotated[date, Query(description="名册日期 YYYY-MM-DD：名册所反映的日期")],
    source: Annotated[str, Query(min_length=1, max_length=60, description="名册来源（提供单位），如 区残联")],
    filename: Annotated[str | None, Query(max_length=200, description="原文件名（留档）")] = None,
) -> JSONResponse:
    async with spooled(request, filename) as up:
        out = await registers.import_register(
            request.app.state.db,
            actor,
            _cipher(request),
            kind=kind,
            as_of=as_of,
            source=source,
            path=up.path,
            file_hash=up.sha256,
            filename=up.filename,
        )
    return JSONResponse(out, status_code=200 if out["duplicate"] else 201)


@router.get("", summary="各类名册及现行版本", response_model=list[RegisterInForceOut])
async def in_force(actor: CurrentActor, session: Session) -> list[dict[str, Any]]:
    return await registers.registers_in_force(session, actor)


@router.get("/imports", summary="名册导入记录（新的在前）", response_model=list[RegisterImportOut])
async def list_imports(
    actor: CurrentActor,
    session: Session,
    kind: RegisterKind | None = None,
    status: Literal["current", "superseded", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    return await registers.list_imports(session, actor, kind=kind, status=status, limit=limit, offset=offset)


@router.get("/imports/{import_id}", summary="一次名册导入", response_model=RegisterImportOut)
async def import_view(actor: CurrentActor, session: Session, import_id: str) -> dict[str, Any]:
    return await registers.import_view(session, actor, import_id)


@router.get("/imports/{import_id}/report", summary="下载名册导入错误报告（XLSX）")
async def import_report(actor: CurrentActor, session: Session, import_id: str) -> Response:
    buf = io.BytesIO()
    name = await registers.write_report(session, actor, import_id, buf)
    return Response(
        buf.getvalue(),
        media_type=XLSX,
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.post(
    "/lookup", summary="查询某人在哪些名册中（号码放在请求体中；结果脱敏）", response_model=RegisterLookupOut
)
async def lookup(
    request: Request, actor: CurrentActor, session: Session, body: RegisterLookupIn
) -> dict[str, Any]:
    return await registers.lookup_person(session, actor, _cipher(request), body.id_number)
