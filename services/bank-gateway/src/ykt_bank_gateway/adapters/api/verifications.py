"""Account verification for other services (validation): set-wise, routed to each item's bank.

Callers sign actor headers like the gateway does (`ykt_kit.actor`, YKT_SERVICE_SECRET) as the
platform: role `admin`. Operators have no route to it through the gateway."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from ykt_kit.actor import CurrentActor, Role, require
from ykt_kit.errors import DomainError

from ...domain.verification import VerificationItem
from ...verification import AccountVerifications
from .schemas import (
    VerificationRequestIn,
    VerificationResponseOut,
    VerificationResultOut,
    VerificationSummary,
)


class NoEchoRoute(APIRoute):
    """Invalid bodies are answered without FastAPI's echo of the input: it would carry the
    names, accounts and ID numbers of the request back into the caller's error logs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [
                    {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")}
                    for e in list(exc.errors())[:20]
                ]
                raise DomainError(
                    "核验请求格式错误", code="VALIDATION_ERROR", status=422, errors=errors
                ) from None

        return route


router = APIRouter(prefix="/api/v1", tags=["account verification"], route_class=NoEchoRoute)


@router.post("/account-verifications", response_model=VerificationResponseOut)
async def verify_accounts(
    request: Request, actor: CurrentActor, body: VerificationRequestIn
) -> VerificationResponseOut:
    """Per item: `verified`, `rejected` (the bank's reason), `pending` (the bank did not answer in
    time: ask again after `retry_after_seconds`; not a failure) or `unsupported`. Always 200."""
    require(actor, Role.ADMIN)
    verifications: AccountVerifications = request.app.state.verifications
    items = [
        VerificationItem(
            item_id=i.id,
            bank_code=i.bank_code.upper(),
            account_no=i.account_no,
            holder_name=i.holder_name,
            id_number=i.id_number,
        )
        for i in body.items
    ]
    answers = await verifications.verify(items, refresh=body.refresh)
    retry = request.app.state.settings.verify_retry_after_seconds
    results = [
        VerificationResultOut(
            id=item.item_id,
            bank_code=item.bank_code,
            status=a.status,
            reason_code=a.reason_code,
            reason=a.reason,
            checked_at=a.checked_at,
            cached=a.cached,
            retry_after_seconds=retry if a.status == "pending" else None,
        )
        for item, a in zip(items, answers, strict=True)
    ]
    counts = Counter(r.status for r in results)
    return VerificationResponseOut(
        results=results,
        summary=VerificationSummary(
            verified=counts["verified"],
            rejected=counts["rejected"],
            pending=counts["pending"],
            unsupported=counts["unsupported"],
        ),
    )
