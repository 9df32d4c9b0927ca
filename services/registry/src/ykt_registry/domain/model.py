"""Registry domain: states of batches and records, and the rules of intake (no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

import orjson
from ykt_kit.errors import Conflict, DomainError, Forbidden, NotFound


class BatchStatus(StrEnum):
    VALIDATING = "validating"  # 校验中
    NEEDS_CORRECTION = "needs_correction"  # 待修正
    VALIDATED = "validated"  # 校验通过，待发送
    SENT = "sent"  # 已发送财政复核
    APPROVED = "approved"  # 财政已审核
    RETURNED = "returned"  # 财政退回
    FUNDED = "funded"  # 资金已拨付
    COMPLETED = "completed"  # 银行已反馈
    DISCLOSED = "disclosed"  # 已公示


class RecordStatus(StrEnum):
    SUBMITTED = "submitted"
    PASSED = "passed"
    REJECTED = "rejected"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"
    SETTLED = "settled"
    FAILED = "failed"
    REISSUED = "reissued"


BATCH_STATUS_ZH = {
    "validating": "校验中",
    "needs_correction": "待修正",
    "validated": "校验通过",
    "sent": "待财政复核",
    "approved": "财政已审核",
    "returned": "财政已退回",
    "funded": "资金已拨付",
    "completed": "银行已反馈",
    "disclosed": "已公示",
}


class ControlTotalsMismatch(DomainError):
    status = 422
    code = "CONTROL_TOTALS_MISMATCH"


class InvalidRecords(DomainError):
    status = 422
    code = "RECORDS_INVALID"


class BatchNumberConflict(Conflict):
    code = "BATCH_NO_CONFLICT"


class WrongState(Conflict):
    code = "BATCH_STATE"


class UnknownProgram(NotFound):
    code = "PROGRAM_UNKNOWN"


class OutOfScope(Forbidden):
    code = "OUT_OF_SCOPE"


@dataclass(frozen=True)
class RowError:
    """An error of one row and field, for the clerk who fixes the file."""

    row: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


def content_hash(obj: object) -> str:
    """Stable hash of a submission's content (same content → same hash)."""
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def check_totals(declared_count: int, declared_fen: int, actual_count: int, actual_fen: int) -> None:
    """Refuse a batch whose declared control totals differ from its records, naming both figures."""
    if declared_count != actual_count or declared_fen != actual_fen:
        raise ControlTotalsMismatch(
            f"控制总数不符：申报 {declared_count} 笔、{yuan(declared_fen)} 元，"
            f"实际 {actual_count} 笔、{yuan(actual_fen)} 元",
            declared={"record_count": declared_count, "amount_fen": declared_fen},
            actual={"record_count": actual_count, "amount_fen": actual_fen},
        )
