"""HTTP routes (thin): reads for reviewers and units, finance's approve/return, the unit's funding.

There is deliberately no route that changes a payment order: orders change only through events
(bank results) and through funding's instructing step."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from ykt_kit.actor import CurrentActor

from ...domain.model import BatchStatus, OrderStatus
from ...service import outbox_emitter
from .deps import Db, Service, notify_relay
from .schemas import FundingIn, ReturnIn

router = APIRouter(prefix="/api/v1", tags=["payment"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/reviews", summary="Batches awaiting (or past) finance's review, with per-bank totals")
async def list_reviews(
    actor: CurrentActor,
    svc: Service,
    db: Db,
    status: BatchStatus = BatchStatus.PENDING_REVIEW,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with db.transaction() as s:
        return await svc.list_reviews(s, actor, status=status, limit=limit, offset=offset)


@router.get("/batches/{batch_id}", summary="A batch: status, totals, per-bank funding and results")
async def get_batch(batch_id: str, actor: CurrentActor, svc: Service, db: Db) -> dict[str, Any]:
    async with db.transaction() as s:
        return await svc.batch_view(s, actor, batch_id)


@router.get("/batches/{batch_id}/orders", summary="Orders of a batch, personal data masked")
async def list_orders(
    batch_id: str,
    actor: CurrentActor,
    svc: Service,
    db: Db,
    status: OrderStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with db.transaction() as s:
        return await svc.list_orders(s, actor, batch_id, status=status, limit=limit, offset=offset)


@router.post("/reviews/{batch_id}/approve", summary="Finance approves a batch pending review")
async def approve(
    batch_id: str, actor: CurrentActor, svc: Service, db: Db, request: Request
) -> dict[str, Any]:
    async with db.transaction() as s:
        out = await svc.approve(s, actor, batch_id, emit=outbox_emitter(s))
    notify_relay(request)
    return out


@router.post("/reviews/{batch_id}/return", summary="Finance returns a batch to its unit, with reasons")
async def return_batch(
    batch_id: str, body: ReturnIn, actor: CurrentActor, svc: Service, db: Db, request: Request
) -> dict[str, Any]:
    async with db.transaction() as s:
        out = await svc.return_batch(
            s,
            actor,
            batch_id,
            reason=body.reason,
            record_reasons=[(r.record_id, r.reason) for r in body.record_reasons],
            emit=outbox_emitter(s),
        )
    notify_relay(request)
    return out


@router.post(
    "/batches/{batch_id}/funding", summary="The unit applies to the treasury and instructs the banks"
)
async def fund(
    batch_id: str, body: FundingIn, actor: CurrentActor, svc: Service, db: Db, request: Request
) -> dict[str, Any]:
    # No transaction is held open across the treasury calls: check, pay, then record in one go.
    async with db.transaction() as s:
        plan = await svc.plan_funding(
            s, actor, batch_id, budget_doc_no=body.budget_doc_no, payer_account=body.payer_account
        )
    vouchers = await svc.fund_at_treasury(plan)
    async with db.transaction() as s:
        out = await svc.record_funding(s, actor, plan, vouchers, emit=outbox_emitter(s))
    notify_relay(request)
    return out
