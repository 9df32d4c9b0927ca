"""HTTP routes of the bank simulator: the banks' credit-transfer API and their admin views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from .callbacks import BANK_CODE_HEADER, SIGNATURE_HEADER, encode, sign, verify
from .errors import error_response
from .ledger import Bank
from .schemas import AccountEntry, CreditTransferRequest, VerificationRequest
from .service import BankSimulator

router = APIRouter()


def get_simulator(request: Request) -> BankSimulator:
    return request.app.state.simulator


Simulator = Annotated[BankSimulator, Depends(get_simulator)]


def get_bank(bank: str, simulator: Simulator) -> Bank:
    return simulator.bank(bank)


BankInPath = Annotated[Bank, Depends(get_bank)]


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/banks/{bank}/admin/accounts")
async def upsert_accounts(bank: BankInPath, entries: list[AccountEntry]) -> dict[str, int]:
    """Bulk insert-or-replace of account-book entries, keyed by account number."""
    return {"upserted": bank.upsert_accounts(entries)}


class Latency(BaseModel):
    seconds: float = Field(ge=0, le=3600)


@router.put("/banks/{bank}/admin/latency")
async def set_latency(bank: BankInPath, body: Latency) -> dict[str, float]:
    """How long the bank takes before answering its API; requests already waiting follow it."""
    bank.set_latency(body.seconds)
    return {"seconds": bank.latency}


@router.post("/banks/{bank}/api/v1/credit-transfers", status_code=202)
async def credit_transfers(
    bank: BankInPath, body: CreditTransferRequest, simulator: Simulator
) -> dict[str, int]:
    """Accept a batch of credits; results come later as signed callbacks to `callback_url`."""
    await simulator.answer_delay(bank)
    accepted, duplicates = simulator.submit(bank.code, body)
    return {"accepted": accepted, "duplicates": duplicates}


@router.get("/banks/{bank}/api/v1/credit-transfers/{end_to_end_id}", response_model=None)
async def credit_transfer_status(
    bank: BankInPath, end_to_end_id: str, simulator: Simulator
) -> dict[str, Any] | JSONResponse:
    """Where one credit stands: processing, settled or failed."""
    await simulator.answer_delay(bank)
    transfer = bank.transfers.get(end_to_end_id)
    if transfer is None:
        return error_response(404, "TRANSFER_NOT_FOUND", "未查询到该笔交易")
    return transfer.result()


@router.post("/banks/{bank}/api/v1/account-verifications", response_model=None)
async def account_verifications(
    bank: BankInPath,
    request: Request,
    simulator: Simulator,
    x_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """Verify up to 1,000 accounts against the book: each item `ok` or failed with the reason a
    credit to it would fail for (or ID_MISMATCH). The request must be signed; so is the answer."""
    secret = simulator.settings.callback_secret
    raw = await request.body()
    if not x_signature or not verify(secret, raw, x_signature):
        return error_response(401, "BAD_SIGNATURE", "请求签名无效")
    try:
        body = VerificationRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    await simulator.answer_delay(bank)
    answer = encode(
        {
            "bank_code": bank.code,
            "request_ref": body.request_ref,
            "results": simulator.verify(bank.code, body),
        }
    )
    return Response(
        answer,
        media_type="application/json; charset=utf-8",
        headers={BANK_CODE_HEADER: bank.code, SIGNATURE_HEADER: sign(secret, answer)},
    )


@router.get("/banks/{bank}/admin/credits")
async def credits(bank: BankInPath) -> dict[str, Any]:
    """The bank's ledger of booked credits."""
    return {
        "credits": [c.as_dict() for c in bank.credits],
        "count": len(bank.credits),
        "amount_fen": bank.amount_fen,
    }


@router.get("/banks/{bank}/admin/sms")
async def sms(bank: BankInPath) -> dict[str, Any]:
    """The notices the bank texted after credits."""
    return {"messages": [n.as_dict() for n in bank.notices]}


@router.get("/admin/stats")
async def stats(simulator: Simulator) -> dict[str, dict[str, int]]:
    """Per bank code: settled and failed counts, settled amount, SMS and callback counts."""
    return simulator.stats()
