"""Registry HTTP API (reached through the gateway, which signs the actor headers)."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from ykt_kit.actor import CurrentActor
from ykt_kit.crypto import PiiCipher

from ... import batches as batch_intake
from ... import service
from ...batch_files import read_rows, sniff_format
from .schemas import UPLOAD_BODY, UPLOAD_DESCRIPTION, BatchIn, CorrectionIn
from .uploads import spool

router = APIRouter(prefix="/api/v1")


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.cipher
    return cipher


Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post(
    "/batches",
    tags=["batches"],
    status_code=201,
    summary="提交发放批次（第一步：提交数据；JSON，适合小批次）",
    description="201: new batch; 200 with `duplicate: true`: the same submission again.",
)
async def submit(request: Request, response: Response, actor: CurrentActor, body: BatchIn) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        out = await service.submit_batch(s, actor, body, _cipher(request))
    return _submitted(request, response, out)


def _submitted(request: Request, response: Response, out: dict[str, Any]) -> dict[str, Any]:
    if out.get("duplicate"):
        response.status_code = 200
    else:
        request.app.state.bus.relay.notify()
    return out


@router.post(
    "/batches/files",
    tags=["batches"],
    status_code=201,
    summary="上传发放批次文件（XLSX、CSV、JSON；大批次）",
    description=UPLOAD_DESCRIPTION,
    openapi_extra=UPLOAD_BODY,
)
async def submit_file(
    request: Request,
    response: Response,
    actor: CurrentActor,
    unit_batch_no: Annotated[str | None, Query(description="发放单位自编批次号")] = None,
    program_code: Annotated[str | None, Query(description="补贴项目代码")] = None,
    period: Annotated[str | None, Query(description="发放期间 YYYY、YYYY-MM、YYYY-Qn")] = None,
    declared_count: Annotated[str | None, Query(description="申报笔数")] = None,
    declared_amount_fen: Annotated[str | None, Query(description="申报金额（分）")] = None,
    declared_amount: Annotated[str | None, Query(description="申报金额（元），与上一项二选一")] = None,
    format: Annotated[  # noqa: A002 - the query parameter's name
        str | None, Query(description="csv、xlsx、json 或 ndjson；不填则按类型、文件名或内容判断")
    ] = None,
    filename: Annotated[str | None, Query(max_length=200, description="原文件名（留档）")] = None,
) -> dict[str, Any]:
    meta = batch_intake.meta_from_query(
        {
            "unit_batch_no": unit_batch_no,
            "program_code": program_code,
            "period": period,
            "declared_count": declared_count,
            "declared_amount_fen": declared_amount_fen,
            "declared_amount": declared_amount,
        }
    )
    db = request.app.state.db
    async with db.transaction() as s:  # refuse before receiving a file that could not be accepted
        await batch_intake.check_submitter(s, actor, meta.program_code)
    settings = request.app.state.settings
    up = await spool(request.stream(), directory=settings.upload_dir, max_bytes=settings.max_upload_bytes)
    try:
        fmt = (format or "").lower() or sniff_format(
            up.head, content_type=request.headers.get("content-type"), filename=filename
        )
        sub = batch_intake.Submission(
            meta=meta,
            rows=functools.partial(read_rows, up.path, fmt, max_json_bytes=settings.max_json_bytes),
            file_sha256=up.sha256,
            file_format=fmt,
            file_name=filename,
            file_bytes=up.size,
        )
        async with db.transaction() as s:
            out = await batch_intake.submit(s, actor, sub, _cipher(request))
    finally:
        await asyncio.to_thread(up.path.unlink, missing_ok=True)
    return _submitted(request, response, out)


@router.get("/batches", tags=["batches"], summary="发放批次列表")
async def batches(
    request: Request, actor: CurrentActor, status: str | None = None, limit: Limit = 100, offset: int = 0
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await service.list_batches(s, actor, status=status, limit=limit, offset=offset)


@router.get("/batches/{batch_id}", tags=["batches"], summary="批次状态与分状态统计")
async def batch(request: Request, actor: CurrentActor, batch_id: str) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await service.batch_view(s, actor, batch_id)


@router.get("/batches/{batch_id}/history", tags=["batches"], summary="批次状态变化记录（含时间）")
async def history(request: Request, actor: CurrentActor, batch_id: str) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await service.batch_history(s, actor, batch_id)


@router.get(
    "/batches/{batch_id}/records",
    tags=["batches"],
    summary="批次明细及每条记录状态（脱敏）",
    description="Pages by `offset`, or for deep pages by `after_seq` (the last `seq` of the previous page).",
)
async def records(
    request: Request,
    actor: CurrentActor,
    batch_id: str,
    status: str | None = None,
    limit: Limit = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
    after_seq: Annotated[int | None, Query(ge=0)] = None,
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await service.list_records(
            s,
            actor,
            batch_id,
            _cipher(request),
            status=status,
            limit=limit,
            offset=offset,
            after_seq=after_seq,
        )


@router.post(
    "/batches/{batch_id}/records/{record_id}/correction",
    tags=["batches"],
    summary="修正未通过或发放失败的记录",
)
async def correct(
    request: Request, actor: CurrentActor, batch_id: str, record_id: str, body: CorrectionIn
) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await service.correct_record(s, actor, batch_id, record_id, body, _cipher(request))


@router.post(
    "/batches/{batch_id}/records/{record_id}/withdrawal", tags=["batches"], summary="撤回未通过校验的记录"
)
async def withdraw(request: Request, actor: CurrentActor, batch_id: str, record_id: str) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        return await service.withdraw_record(s, actor, batch_id, record_id)


async def _action(request: Request, fn: Any, *args: Any) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        out: dict[str, Any] = await fn(s, *args)
    request.app.state.bus.relay.notify()
    return out


@router.post("/batches/{batch_id}/resubmission", tags=["batches"], summary="已修正记录重新提交校验")
async def resubmit(request: Request, actor: CurrentActor, batch_id: str) -> dict[str, Any]:
    return await _action(request, service.resubmit, actor, batch_id, _cipher(request))


@router.post(
    "/batches/{batch_id}/sending", tags=["batches"], summary="发送财政部门和代发银行（第三步：发送数据）"
)
async def send(request: Request, actor: CurrentActor, batch_id: str) -> dict[str, Any]:
    return await _action(request, service.send, actor, batch_id)


@router.post(
    "/batches/{batch_id}/reissue", tags=["batches"], status_code=201, summary="发放失败记录修正后重新发放"
)
async def reissue(request: Request, actor: CurrentActor, batch_id: str) -> dict[str, Any]:
    return await _action(request, service.reissue, actor, batch_id, _cipher(request))
