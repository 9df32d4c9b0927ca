"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

InstructionStatus = Literal["new", "sent", "settled", "failed"]


class CallbackResult(BaseModel):
    """One result in a bank's callback."""

    model_config = ConfigDict(extra="ignore")

    end_to_end_id: str = Field(min_length=1, max_length=64)
    status: Literal["settled", "failed"]
    reason_code: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=1000)
    bank_txn_id: str | None = Field(default=None, max_length=64)
    settled_on: date | None = None
    amount_fen: int = Field(ge=0)

    @model_validator(mode="after")
    def _settled_has_proof(self) -> CallbackResult:
        if self.status == "settled" and (not self.settled_on or not self.bank_txn_id):
            raise ValueError("a settled result needs settled_on and bank_txn_id")
        return self


class CallbackBody(BaseModel):
    """A bank's result callback; results of one batch may come in several callbacks."""

    model_config = ConfigDict(extra="ignore")

    bank_code: str = Field(min_length=1, max_length=32)
    batch_ref: str | None = Field(default=None, max_length=64)
    results: list[CallbackResult] = Field(max_length=10_000)


class CallbackAnswer(BaseModel):
    accepted: int = Field(description="Results that changed an instruction now.")
    ignored: int = Field(description="Results that changed nothing (repeated, unknown, amount mismatch).")


class InstructionView(BaseModel):
    """An instruction as operators see it: name and account masked."""

    end_to_end_id: str
    record_id: str
    batch_id: str
    bank_code: str
    unit_code: str
    program_code: str
    period: str
    name: str
    account_no: str
    amount_fen: int
    town_code: str
    village: str
    status: InstructionStatus
    reason_code: str | None
    reason: str | None
    bank_txn_id: str | None
    settled_on: date | None
    attempts: int
    sent_at: datetime | None
    result_at: datetime | None


class InstructionPage(BaseModel):
    items: list[InstructionView]
    total: int
    page: int
    page_size: int


class BankView(BaseModel):
    bank_code: str
    adapter: str


class BankList(BaseModel):
    banks: list[BankView]
