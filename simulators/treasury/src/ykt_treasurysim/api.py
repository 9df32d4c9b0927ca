"""HTTP routes of the treasury simulator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from .schemas import PaymentApplication
from .service import Treasury

router = APIRouter()


def get_treasury(request: Request) -> Treasury:
    return request.app.state.treasury


TreasuryDep = Annotated[Treasury, Depends(get_treasury)]


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/api/v1/payment-applications")
async def pay(body: PaymentApplication, treasury: TreasuryDep) -> dict[str, Any]:
    """Pay an application at once (idempotent by application_ref) and return its voucher."""
    return treasury.pay(body).as_dict()


@router.get("/api/v1/payment-applications")
async def applications(treasury: TreasuryDep, budget_doc_no: str | None = None) -> dict[str, Any]:
    """Every application paid, optionally those of one 指标文号."""
    paid = treasury.list(budget_doc_no)
    return {
        "applications": [a.as_dict() for a in paid],
        "count": len(paid),
        "amount_fen": sum(a.request.amount_fen for a in paid),
    }


@router.get("/api/v1/payment-applications/{application_ref}")
async def application(application_ref: str, treasury: TreasuryDep) -> dict[str, Any]:
    return treasury.get(application_ref).as_dict()
