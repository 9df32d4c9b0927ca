"""States of batches and payment orders, the readiness rule for review, and the domain errors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ykt_kit.errors import Conflict, DomainError, NotFound


class BatchStatus(StrEnum):
    """Life of a batch in payment (steps 3-5)."""

    COLLECTING = "collecting"  # verdicts arriving, not yet sent by the unit
    AWAITING_RECORDS = "awaiting_records"  # sent, but fewer validated records here than declared
    TOTALS_MISMATCH = "totals_mismatch"  # sent, and the records here can never match the declared totals
    PENDING_REVIEW = "pending_review"  # 待财政复核
    APPROVED = "approved"  # 财政已复核
    RETURNED = "returned"  # 财政已退回
    FUNDED = "funded"  # 国库已拨付代发专户
    INSTRUCTED = "instructed"  # 支付指令已发送银行
    COMPLETED = "completed"  # 每笔均有银行结果


class OrderStatus(StrEnum):
    """Life of one payment order; changed only by events and funding, never by a route."""

    VALIDATED = "validated"
    INSTRUCTED = "instructed"
    BLOCKED = "blocked"
    SETTLED = "settled"
    FAILED = "failed"


BATCH_STATUS_ZH: dict[str, str] = {
    BatchStatus.COLLECTING: "数据接收中",
    BatchStatus.AWAITING_RECORDS: "等待校验数据",
    BatchStatus.TOTALS_MISMATCH: "汇总数不符",
    BatchStatus.PENDING_REVIEW: "待财政复核",
    BatchStatus.APPROVED: "财政已复核",
    BatchStatus.RETURNED: "财政已退回",
    BatchStatus.FUNDED: "资金已拨付",
    BatchStatus.INSTRUCTED: "支付指令已发送",
    BatchStatus.COMPLETED: "发放已完成",
}

#: A batch.sent is taken in these states (a returned batch may be sent again after correction).
SENDABLE = frozenset(
    {
        BatchStatus.COLLECTING,
        BatchStatus.AWAITING_RECORDS,
        BatchStatus.TOTALS_MISMATCH,
        BatchStatus.PENDING_REVIEW,
        BatchStatus.RETURNED,
    }
)
#: New validated records re-open the readiness question in these states.
RECHECK_ON_RECORDS = frozenset({BatchStatus.AWAITING_RECORDS, BatchStatus.PENDING_REVIEW})
#: Finance may return a batch in these states.
RETURNABLE = frozenset({BatchStatus.PENDING_REVIEW, BatchStatus.TOTALS_MISMATCH})

DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
DUPLICATE_PAYMENT_REASON = "该对象本期此项补贴已发放或正在发放"


@dataclass(frozen=True)
class Sums:
    """A record count and an amount in fen."""

    record_count: int = 0
    amount_fen: int = 0


def readiness(held: Sums, sent: Sums) -> BatchStatus:
    """Where a sent batch stands, comparing the orders held here with the unit's declared totals.

    Amounts are never negative, so once the amount held exceeds the declared amount no later
    record can repair it."""
    if held.record_count == sent.record_count and held.amount_fen == sent.amount_fen:
        return BatchStatus.PENDING_REVIEW
    if held.record_count < sent.record_count and held.amount_fen <= sent.amount_fen:
        return BatchStatus.AWAITING_RECORDS
    return BatchStatus.TOTALS_MISMATCH


class BatchNotFound(NotFound):
    code = "BATCH_NOT_FOUND"

    def __init__(self, batch_id: str) -> None:
        super().__init__("批次不存在", batch_id=batch_id)


class WrongBatchState(Conflict):
    code = "BATCH_STATE"

    def __init__(self, status: str, action: str) -> None:
        super().__init__(
            f"批次当前状态为“{BATCH_STATUS_ZH.get(status, status)}”，不能{action}",
            status_now=status,
            action=action,
        )


class TotalsChanged(Conflict):
    code = "TOTALS_CHANGED"


class UnknownRecords(DomainError):
    status = 422
    code = "RECORDS_UNKNOWN"


class TreasuryUnavailable(DomainError):
    status = 502
    code = "TREASURY_UNAVAILABLE"


class TreasuryRefused(Conflict):
    code = "TREASURY_REFUSED"
