"""The operator API: every route names the roles it admits and the service that owns the data.

Finance approves or returns batches and has no route that changes payment data; nobody does
after validation: payment records are immutable in the payment service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from ykt_disclosure.adapters.api.schemas import CorrectionIn as CorrectionPubIn
from ykt_disclosure.adapters.api.schemas import MaskingIn, WithdrawalIn
from ykt_kit.actor import Actor, Role
from ykt_registry.adapters.api.schemas import UPLOAD_BODY, UPLOAD_DESCRIPTION, BatchIn, CorrectionIn

from ..db import repository as repo
from . import auth
from .forward import forward
from .registers import router as registers_router
from .registry_model import router as registry_model_router

router = APIRouter(prefix="/api/v1")

EVERYONE = (Role.ADMIN, Role.FINANCE, Role.DEPARTMENT, Role.TOWN, Role.BANK, Role.SUPERVISOR)
UNITS = (Role.DEPARTMENT, Role.TOWN)
READERS = (Role.DEPARTMENT, Role.TOWN, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)

Anyone = Annotated[Actor, auth.roles(*EVERYONE)]
Admin = Annotated[Actor, auth.roles(Role.ADMIN)]
Unit = Annotated[Actor, auth.roles(*UNITS)]
Reader = Annotated[Actor, auth.roles(*READERS)]
Finance = Annotated[Actor, auth.roles(Role.FINANCE)]
Reviewer = Annotated[Actor, auth.roles(Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)]
BankReader = Annotated[Actor, auth.roles(Role.BANK, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN, *UNITS)]
Auditor = Annotated[Actor, auth.roles(Role.SUPERVISOR, Role.ADMIN)]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class ReturnIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="退回原因")
    record_reasons: list[dict[str, str]] = Field(default_factory=list, description="[{record_id, reason}]")


class FundingIn(BaseModel):
    budget_doc_no: str = Field(min_length=1, max_length=64, description="指标文号")
    payer_account: str | None = Field(default=None, max_length=64, description="付款账户")


# ------------------------------------------------------------------ session


@router.post("/auth/token", tags=["auth"], summary="登录，获取访问令牌")
async def token(request: Request, body: LoginIn) -> dict[str, object]:
    return await auth.login(request, body.username, body.password)


@router.post("/auth/logout", tags=["auth"], summary="退出登录（令牌立即失效）", status_code=204)
async def logout(request: Request, actor: Anyone) -> Response:
    await auth.logout(request, request.state.token)
    return Response(status_code=204)


@router.get("/me", tags=["auth"], summary="当前用户")
async def me(actor: Anyone) -> dict[str, str]:
    return {"user": actor.user_id, "role": actor.role.value, "org_code": actor.org_code}


# ------------------------------------------------------------------ batches: steps 1-2 (registry, validation)


@router.post("/batches", tags=["batches"], status_code=201, summary="提交发放批次（第一步）")
async def submit(request: Request, actor: Unit, body: BatchIn) -> Response:
    return await forward(request, actor, "registry", "/api/v1/batches", content=await request.body())


@router.post(
    "/batches/files",
    tags=["batches"],
    status_code=201,
    summary="上传发放批次文件（第一步；XLSX、CSV、JSON，大批次）",
    description=UPLOAD_DESCRIPTION,
    openapi_extra=UPLOAD_BODY,
)
async def submit_file(
    request: Request,
    actor: Unit,
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
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/batches/files", stream_body=True)


@router.get("/batches", tags=["batches"], summary="发放批次列表（按数据权限）")
async def batches(
    request: Request, actor: Reader, status: str | None = None, limit: int = 100, offset: int = 0
) -> Response:
    return await forward(request, actor, "registry", "/api/v1/batches")


@router.get("/batches/{batch_id}", tags=["batches"], summary="批次状态")
async def batch(request: Request, actor: Reader, batch_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}")


@router.get("/batches/{batch_id}/history", tags=["batches"], summary="批次状态变化记录（含时间）")
async def history(request: Request, actor: Reader, batch_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}/history")


@router.get("/batches/{batch_id}/records", tags=["batches"], summary="批次明细及每条记录状态（脱敏）")
async def records(
    request: Request,
    actor: Reader,
    batch_id: str,
    status: str | None = None,
    limit: int = 500,
    offset: int = 0,
    after_seq: Annotated[int | None, Query(description="上一页最后一条的 seq（深翻页用）")] = None,
) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}/records")


@router.get("/batches/{batch_id}/verdicts", tags=["batches"], summary="校验结果（第二步）")
async def verdicts(
    request: Request,
    actor: Reader,
    batch_id: str,
    outcome: str | None = None,
    limit: Annotated[int, Query(le=1000)] = 500,
    offset: int = 0,
) -> Response:
    scope = await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}", method="GET", params={})
    if scope.status_code != 200:
        return scope  # not found in the actor's scope: say no more than registry did
    params = {"batch_id": batch_id, "outcome": outcome, "limit": limit, "offset": offset}
    return await forward(request, actor, "validation", "/api/v1/verdicts", params=params)


@router.post("/batches/{batch_id}/records/{record_id}/correction", tags=["batches"], summary="修正记录")
async def correct(
    request: Request, actor: Unit, batch_id: str, record_id: str, body: CorrectionIn
) -> Response:
    return await forward(
        request,
        actor,
        "registry",
        f"/api/v1/batches/{batch_id}/records/{record_id}/correction",
        json_body=body.model_dump(exclude_none=True),
    )


@router.post("/batches/{batch_id}/records/{record_id}/withdrawal", tags=["batches"], summary="撤回未通过记录")
async def withdraw(request: Request, actor: Unit, batch_id: str, record_id: str) -> Response:
    return await forward(
        request, actor, "registry", f"/api/v1/batches/{batch_id}/records/{record_id}/withdrawal"
    )


@router.post("/batches/{batch_id}/resubmission", tags=["batches"], summary="修正后重新提交校验")
async def resubmit(request: Request, actor: Unit, batch_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}/resubmission")


@router.post("/batches/{batch_id}/sending", tags=["batches"], summary="发送财政和代发银行（第三步）")
async def send(request: Request, actor: Unit, batch_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}/sending")


@router.post(
    "/batches/{batch_id}/reissue",
    tags=["batches"],
    status_code=201,
    summary="失败记录修正后重新发放（第五步）",
)
async def reissue(request: Request, actor: Unit, batch_id: str) -> Response:
    return await forward(request, actor, "registry", f"/api/v1/batches/{batch_id}/reissue")


# ------------------------------------------------------------------ steps 3-5 (payment, bank-gateway)


@router.get("/reviews", tags=["review"], summary="待复核批次")
async def reviews(request: Request, actor: Reviewer, status: str | None = "pending_review") -> Response:
    return await forward(request, actor, "payment", "/api/v1/reviews")


@router.post("/reviews/{batch_id}/approve", tags=["review"], summary="财政复核通过（不能修改数据）")
async def approve(request: Request, actor: Finance, batch_id: str) -> Response:
    return await forward(request, actor, "payment", f"/api/v1/reviews/{batch_id}/approve")


@router.post("/reviews/{batch_id}/return", tags=["review"], summary="财政退回（原渠道退回，附原因）")
async def return_batch(request: Request, actor: Finance, batch_id: str, body: ReturnIn) -> Response:
    return await forward(
        request, actor, "payment", f"/api/v1/reviews/{batch_id}/return", json_body=body.model_dump()
    )


@router.post(
    "/batches/{batch_id}/funding", tags=["payment"], summary="提交拨款申请，资金拨付代发银行（第四步）"
)
async def funding(request: Request, actor: Unit, batch_id: str, body: FundingIn) -> Response:
    return await forward(
        request,
        actor,
        "payment",
        f"/api/v1/batches/{batch_id}/funding",
        json_body=body.model_dump(exclude_none=True),
    )


@router.get("/batches/{batch_id}/payment", tags=["payment"], summary="发放进度：拨付、指令、到账、失败")
async def payment_view(request: Request, actor: Reader, batch_id: str) -> Response:
    return await forward(request, actor, "payment", f"/api/v1/batches/{batch_id}")


@router.get("/batches/{batch_id}/orders", tags=["payment"], summary="支付明细（脱敏，只读）")
async def orders(
    request: Request,
    actor: Reader,
    batch_id: str,
    status: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> Response:
    return await forward(request, actor, "payment", f"/api/v1/batches/{batch_id}/orders")


@router.get("/instructions", tags=["bank"], summary="代发指令与银行反馈（银行只见本行）")
async def instructions(
    request: Request,
    actor: BankReader,
    batch_id: str | None = None,
    bank_code: str | None = None,
    status: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> Response:
    return await forward(request, actor, "bank_gateway", "/api/v1/instructions")


# ------------------------------------------------------------------ step 6 (disclosure): publications


# finance reviews payments and changes nothing else; publications belong to the paying departments
Publisher = Annotated[Actor, auth.roles(Role.DEPARTMENT, Role.ADMIN)]
PublicationReader = Annotated[Actor, auth.roles(Role.DEPARTMENT, Role.FINANCE, Role.ADMIN, Role.SUPERVISOR)]


@router.get("/disclosure/publications", tags=["disclosure"], summary="公示管理列表（含已撤回）")
async def publications(request: Request, actor: PublicationReader) -> Response:
    return await forward(request, actor, "disclosure", "/api/v1/disclosure/publications")


@router.get("/disclosure/publications/{publication_id}", tags=["disclosure"], summary="公示详情及变更记录")
async def publication(request: Request, actor: PublicationReader, publication_id: str) -> Response:
    return await forward(request, actor, "disclosure", f"/api/v1/disclosure/publications/{publication_id}")


@router.post(
    "/disclosure/publications/{publication_id}/corrections", tags=["disclosure"], summary="更正公示（留痕）"
)
async def correct_publication(
    request: Request, actor: Publisher, publication_id: str, body: CorrectionPubIn
) -> Response:
    return await forward(
        request,
        actor,
        "disclosure",
        f"/api/v1/disclosure/publications/{publication_id}/corrections",
        json_body=body.model_dump(mode="json"),
    )


@router.post(
    "/disclosure/publications/{publication_id}/withdrawal", tags=["disclosure"], summary="撤回公示（留痕）"
)
async def withdraw_publication(
    request: Request, actor: Publisher, publication_id: str, body: WithdrawalIn
) -> Response:
    return await forward(
        request,
        actor,
        "disclosure",
        f"/api/v1/disclosure/publications/{publication_id}/withdrawal",
        json_body=body.model_dump(mode="json"),
    )


@router.get("/disclosure/masking", tags=["disclosure"], summary="各渠道脱敏规则及变更记录")
async def masking(request: Request, actor: Auditor) -> Response:
    return await forward(request, actor, "disclosure", "/api/v1/disclosure/masking")


@router.put(
    "/disclosure/masking/{channel}", tags=["disclosure"], summary="调整渠道脱敏规则（平台管理员，留痕）"
)
async def set_masking(request: Request, actor: Admin, channel: str, body: MaskingIn) -> Response:
    return await forward(
        request,
        actor,
        "disclosure",
        f"/api/v1/disclosure/masking/{channel}",
        json_body=body.model_dump(mode="json"),
    )


# ------------------------------------------------------------------ audit


@router.get("/audit", tags=["audit"], summary="操作审计日志（只读）")
async def audit(
    request: Request, actor: Auditor, limit: Annotated[int, Query(le=1000)] = 100, offset: int = 0
) -> list[dict[str, Any]]:
    async with request.app.state.db.transaction() as s:
        return await repo.audit_entries(s, limit=limit, offset=offset)


# reference data, beneficiaries and accounts (registry): routes of their own module
router.include_router(registry_model_router)
# reference registers (validation)
router.include_router(registers_router)
