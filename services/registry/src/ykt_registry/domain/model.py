"""Registry domain: states of batches and records, and the rules of intake (no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import orjson
from ykt_kit.errors import Conflict, DomainError, Forbidden, NotFound


class BatchStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交：文件接收、逐行检查、入库中（同一事务内，外部只见结果）
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
    "submitted": "已提交",
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


class DuplicateFile(Conflict):
    """The same file (same SHA-256) was already submitted by this unit under another batch number."""

    code = "DUPLICATE_FILE"


class EmptyFile(DomainError):
    status = 422
    code = "FILE_EMPTY"


class NoRecords(DomainError):
    status = 422
    code = "NO_RECORDS"


class FileUnreadable(DomainError):
    """The file is not CSV, XLSX, JSON or JSON Lines, or cannot be read as what it claims to be."""

    status = 422
    code = "FILE_NOT_TABLE"


class FileColumnsMissing(DomainError):
    status = 422
    code = "FILE_HEADER_MISSING"


class FileTooLarge(DomainError):
    status = 413
    code = "FILE_TOO_LARGE"


class BatchMetaInvalid(DomainError):
    """The batch's own data (number, program, period, control totals) is missing or malformed."""

    status = 422
    code = "BATCH_META_INVALID"


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


def fen_from_yuan(text: str) -> int:
    """Yuan as written by a clerk ("1,234.5") in fen; ValueError unless a number with at most 2 decimals."""
    try:
        d = Decimal(text.replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int(d * 100)


def check_totals(declared_count: int, declared_fen: int, actual_count: int, actual_fen: int) -> None:
    """Refuse a batch whose declared control totals differ from its records, naming both figures."""
    if declared_count != actual_count or declared_fen != actual_fen:
        raise ControlTotalsMismatch(
            f"控制总数不符：申报 {declared_count} 笔、{yuan(declared_fen)} 元，"
            f"实际 {actual_count} 笔、{yuan(actual_fen)} 元",
            declared={"record_count": declared_count, "amount_fen": declared_fen},
            actual={"record_count": actual_count, "amount_fen": actual_fen},
        )
