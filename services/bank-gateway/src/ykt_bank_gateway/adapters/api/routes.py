"""Operator routes (signed actor headers from the gateway), scoped in the query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from ykt_kit.actor import CurrentActor

from ... import service
from .schemas import BankList, BankView, InstructionPage, InstructionStatus

router = APIRouter(prefix="/api/v1", tags=["bank-gateway"])


@router.get("/instructions", response_model=InstructionPage)
async def list_instructions(
    request: Request,
    actor: CurrentActor,
    batch_id: str | None = None,
    bank_code: str | None = None,
    status: InstructionStatus | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, object]:
    """Instructions in the actor's scope (a bank its own, a unit its batches), masked, paginated."""
    where = service.scope_filter(actor, batch_id=batch_id, bank_code=bank_code, status=status)
    async with request.app.state.db.transaction() as session:
        return await service.list_instructions(
            session, actor=actor, where=where, page=page, page_size=page_size, cipher=request.app.state.cipher
        )


@router.get("/banks", response_model=BankList)
async def list_banks(request: Request, actor: CurrentActor) -> BankList:
    """The banks this gateway serves, the adapter that speaks to each and who verifies accounts."""
    routes = request.app.state.settings.bank_adapters()
    verifiers = request.app.state.verifications.verifiers
    return BankList(
        banks=[
            BankView(
                bank_code=code,
                adapter=name,
                verification=v.name if (v := verifiers.get(code)) is not None else "unsupported",
            )
            for code, name in sorted(routes.items())
        ]
    )
