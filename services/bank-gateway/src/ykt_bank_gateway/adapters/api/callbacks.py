"""Result callbacks from banks. No operator acts here: a bank authenticates by signing the raw
body (X-Signature = hex HMAC-SHA256 with the callback secret)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError
from ykt_kit.crypto import constant_time_equal
from ykt_kit.errors import DomainError, NotFound, Unauthorized

from ... import service
from ...dispatcher import count_results
from ...domain.model import BankResult
from ...metrics import BANK_CALLBACKS
from .schemas import CallbackAnswer, CallbackBody

log = logging.getLogger(__name__)
router = APIRouter(tags=["bank callbacks"])


def signature(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body, as banks put it in X-Signature."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@router.post("/bank-callbacks/{bank_code}", response_model=CallbackAnswer)
async def bank_callback(
    bank_code: str,
    request: Request,
    x_signature: Annotated[str | None, Header()] = None,
    x_bank_code: Annotated[str | None, Header()] = None,
) -> CallbackAnswer:
    """Apply a bank's results; repeated callbacks change nothing and emit nothing."""
    settings = request.app.state.settings
    if bank_code not in settings.bank_adapters():
        raise NotFound("未配置该银行", code="BANK_UNKNOWN")
    raw = await request.body()
    if not x_signature or not constant_time_equal(
        signature(settings.callback_secret, raw), x_signature.strip().lower()
    ):
        BANK_CALLBACKS.labels(bank_code, "bad_signature").inc()
        log.warning("bank callback with a bad signature refused", extra={"bank": bank_code})
        raise Unauthorized("银行回调签名无效", code="BAD_SIGNATURE")
    try:
        body = CallbackBody.model_validate_json(raw)
    except ValidationError as exc:
        BANK_CALLBACKS.labels(bank_code, "invalid").inc()
        raise DomainError(
            "银行回调报文格式错误", code="CALLBACK_INVALID", status=422, errors=exc.error_count()
        ) from exc
    if body.bank_code != bank_code or (x_bank_code is not None and x_bank_code != bank_code):
        BANK_CALLBACKS.labels(bank_code, "invalid").inc()
        raise DomainError("回调银行与地址不符", code="BANK_CODE_MISMATCH", status=400)
    results = [
        BankResult(
            end_to_end_id=r.end_to_end_id,
            status=r.status,
            amount_fen=r.amount_fen,
            reason_code=r.reason_code,
            reason=(r.reason or "")[:200] if r.status == "failed" else r.reason,
            bank_txn_id=r.bank_txn_id,
            settled_on=r.settled_on,
        )
        for r in body.results
    ]
    async with request.app.state.db.transaction() as session:
        outcome = await service.apply_results(
            session, bank_code=bank_code, results=results, cipher=request.app.state.cipher
        )
    if outcome.accepted:
        request.app.state.bus.relay.notify()
    BANK_CALLBACKS.labels(bank_code, "processed").inc()
    count_results(bank_code, outcome)
    log.info(
        "bank callback applied",
        extra={
            "bank": bank_code,
            "batch_ref": body.batch_ref,
            "accepted": outcome.accepted,
            "ignored": outcome.ignored,
        },
    )
    return CallbackAnswer(accepted=outcome.accepted, ignored=outcome.ignored)
