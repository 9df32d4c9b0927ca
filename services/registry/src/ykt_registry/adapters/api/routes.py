"""Registry HTTP API (reached through the gateway, which signs the actor headers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from ykt_kit.actor import CurrentActor
from ykt_kit.crypto import PiiCipher

from ... import service
from .schemas import BatchIn, CorrectionIn

router = APIRouter(prefix="/api/v1")


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.cipher
    return cipher


Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("/batches", tags=["batches"], status_code=201, summary="提交发放批次（第一步：提交数据）")
async def submit(request: Request, actor: CurrentActor, body: BatchIn) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        out = await service.submit_batch(s, actor, body, _cipher(request))
    request.app.state.bus.relay.notify()
    return out


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


@router.get("/batches/{batch_id}/records", tags=["batches"], summary="批次明细（脱敏）")
async def records(
    request: Request,
    actor: CurrentActor,
    batch_id: str,
    status: str | None = None,
    limit: Limit = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await service.list_records(
            s, actor, batch_id, _cipher(request), status=status, limit=limit, offset=offset
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
