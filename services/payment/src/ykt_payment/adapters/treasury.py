"""The treasury (预算管理一体化 / 国库集中支付) over HTTP: one payment application per agent bank."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from ykt_kit.telemetry import inject_headers

from ..domain.model import TreasuryRefused, TreasuryUnavailable

log = logging.getLogger(__name__)

_VOUCHER = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


@dataclass(frozen=True)
class PaymentApplication:
    """What payment asks the treasury to pay into one agent bank's special account."""

    application_ref: str
    budget_doc_no: str
    payer_account: str
    payee_bank_code: str
    payee_account: str
    amount_fen: int


class Treasury(Protocol):
    """Port: pays one application and returns the voucher number, or raises a treasury error."""

    async def pay(self, application: PaymentApplication) -> str: ...


class HttpTreasury:
    """The treasury's HTTP API; it is idempotent by `application_ref`, so retrying is safe."""

    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def pay(self, application: PaymentApplication) -> str:
        body = {
            "application_ref": application.application_ref,
            "budget_doc_no": application.budget_doc_no,
            "payer_account": application.payer_account,
            "payee_bank_code": application.payee_bank_code,
            "payee_account": application.payee_account,
            "amount_fen": application.amount_fen,
        }
        bank = application.payee_bank_code
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                resp = await client.post(
                    f"{self.base_url}/api/v1/payment-applications", json=body, headers=inject_headers()
                )
        except httpx.HTTPError as exc:
            log.warning("treasury unreachable", extra={"bank_code": bank, "error": type(exc).__name__})
            raise TreasuryUnavailable("国库支付系统暂不可用，请稍后重试", bank_code=bank) from exc
        if resp.status_code >= 500:
            log.warning("treasury error", extra={"bank_code": bank, "http_status": resp.status_code})
            raise TreasuryUnavailable(
                "国库支付系统暂不可用，请稍后重试", bank_code=bank, http_status=resp.status_code
            )
        answer = _json(resp)
        voucher = answer.get("voucher_no")
        if resp.status_code != 200 or answer.get("status") != "paid" or not _voucher_ok(voucher):
            log.warning(
                "treasury refused",
                extra={"bank_code": bank, "http_status": resp.status_code, "status": answer.get("status")},
            )
            raise TreasuryRefused(
                "国库未予支付：" + _reason(answer),
                bank_code=bank,
                http_status=resp.status_code,
                treasury_status=answer.get("status"),
            )
        paid = answer.get("amount_fen")
        if paid is not None and paid != application.amount_fen:
            raise TreasuryRefused(
                "国库支付金额与申请金额不符",
                bank_code=bank,
                requested_fen=application.amount_fen,
                paid_fen=paid,
            )
        return str(voucher)


def _voucher_ok(voucher: object) -> bool:
    """A voucher number we can record and pass on (an ASCII identifier of the contracts)."""
    return isinstance(voucher, str) and _VOUCHER.fullmatch(voucher) is not None


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _reason(answer: dict[str, Any]) -> str:
    """The treasury's own message if it gave one (as text, bounded), else a generic one."""
    for key in ("message", "reason", "detail"):
        value = answer.get(key)
        if isinstance(value, str) and value:
            return value[:200]
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])[:200]
    error = answer.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:200]
    return "申请被拒绝"
