"""Payment applications and the vouchers the treasury issues for them, in memory.

Methods never await, so each runs atomically on the event loop thread."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .schemas import PaymentApplication

log = logging.getLogger("ykt_treasurysim")

CHINA_TZ = timezone(timedelta(hours=8), "CST")

#: The fields that make two applications with one reference the same application.
COMPARED = ("budget_doc_no", "payer_account", "payee_bank_code", "payee_account", "amount_fen")

LABELS = {
    "application_ref": "支付申请编号",
    "budget_doc_no": "指标文号",
    "payer_account": "付款账号",
    "payee_bank_code": "收款银行代码",
    "payee_account": "收款账号",
    "amount_fen": "金额（分）",
}


def label(field: str) -> str:
    """'指标文号（budget_doc_no）'."""
    return f"{LABELS.get(field, field)}（{field}）"


class ApplicationConflict(Exception):
    """The reference was used before for a different payment."""

    def __init__(self, ref: str, fields: list[str]) -> None:
        self.ref = ref
        self.fields = fields
        names = "、".join(label(f) for f in fields)
        super().__init__(f"支付申请{ref}已受理，本次提交的{names}与原申请不一致")


class ApplicationNotFound(LookupError):
    """No application has this reference."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"未找到支付申请{ref}")


@dataclass(frozen=True, slots=True)
class PaidApplication:
    """An application the treasury paid, with its voucher."""

    request: PaymentApplication
    voucher_no: str
    paid_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.request.model_dump(),
            "status": "paid",
            "voucher_no": self.voucher_no,
            "paid_at": self.paid_at.isoformat(timespec="seconds"),
        }


class Treasury:
    """The treasury's book of payment applications, keyed by application reference."""

    def __init__(self) -> None:
        self.applications: dict[str, PaidApplication] = {}
        self._seq = itertools.count(1)

    def pay(self, request: PaymentApplication) -> PaidApplication:
        """Pay an application once; the same application again returns the same voucher."""
        existing = self.applications.get(request.application_ref)
        if existing is not None:
            differing = [f for f in COMPARED if getattr(existing.request, f) != getattr(request, f)]
            if differing:
                raise ApplicationConflict(request.application_ref, differing)
            return existing
        now = datetime.now(CHINA_TZ)
        paid = PaidApplication(request, f"GK{now:%Y%m%d}{next(self._seq):06d}", now)
        self.applications[request.application_ref] = paid
        log.info(
            "paid application %s: %d fen to bank %s, voucher %s",
            request.application_ref,
            request.amount_fen,
            request.payee_bank_code,
            paid.voucher_no,
        )
        return paid

    def get(self, ref: str) -> PaidApplication:
        try:
            return self.applications[ref]
        except KeyError:
            raise ApplicationNotFound(ref) from None

    def list(self, budget_doc_no: str | None = None) -> list[PaidApplication]:
        return [
            a
            for a in self.applications.values()
            if budget_doc_no is None or a.request.budget_doc_no == budget_doc_no
        ]
