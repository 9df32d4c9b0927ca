"""What the gateway tells banks and what banks answer, independent of any bank protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ResultStatus = Literal["processing", "settled", "failed"]
FINAL_STATUSES: tuple[str, ...] = ("settled", "failed")


@dataclass(frozen=True)
class OutgoingInstruction:
    """One credit transfer as a bank receives it (decrypted; lives only for the request)."""

    end_to_end_id: str
    payee_name: str
    payee_account: str
    payee_id_number: str
    amount_fen: int
    memo: str

    def __repr__(self) -> str:  # never show personal data, whoever prints this
        return f"OutgoingInstruction(end_to_end_id={self.end_to_end_id!r}, amount_fen={self.amount_fen})"


@dataclass(frozen=True)
class BankResult:
    """A bank's answer for one instruction, keyed by the end-to-end id it echoes."""

    end_to_end_id: str
    status: ResultStatus
    amount_fen: int | None = None
    reason_code: str | None = None
    reason: str | None = None
    bank_txn_id: str | None = None
    settled_on: date | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class ApplyOutcome:
    """What applying a set of bank results did."""

    accepted: int
    ignored: int
    amount_mismatches: int
    settled: int
    failed: int
    failed_reasons: dict[str, int] = field(default_factory=dict)  # failed records by reason code
