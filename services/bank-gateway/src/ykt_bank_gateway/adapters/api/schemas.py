"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ykt_contracts.events import AccountNo, Code, Id, IdNumber, Name

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
    verification: str = Field(description="Who verifies its accounts: an adapter name, or `unsupported`.")


class BankList(BaseModel):
    banks: list[BankView]


# ------------------------------------------------------------------ account verification

#: Items in one POST /api/v1/account-verifications (split per bank into requests of at most
#: `verify_batch_size` items).
MAX_VERIFICATION_ITEMS = 5000


class VerificationItemIn(BaseModel):
    """One account to verify with its bank."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Id = Field(description="Caller's id of the item (e.g. the record id); echoed in the answer.")
    bank_code: Code = Field(description="The agent bank holding the account, e.g. CQRCB.")
    account_no: AccountNo
    holder_name: Name = Field(description="The beneficiary's name as registered.")
    id_number: IdNumber = Field(description="The beneficiary's citizen ID / residence permit number.")


class VerificationRequestIn(BaseModel):
    """A set of accounts to verify; items of several banks may be mixed."""

    model_config = ConfigDict(extra="forbid")

    items: list[VerificationItemIn] = Field(min_length=1, max_length=MAX_VERIFICATION_ITEMS)
    refresh: bool = Field(default=False, description="Ask the banks even where a cached answer is fresh.")

    @model_validator(mode="after")
    def _unique_ids(self) -> VerificationRequestIn:
        if len({i.id for i in self.items}) != len(self.items):
            raise ValueError("item ids must be unique within a request")
        return self


class VerificationResultOut(BaseModel):
    """The answer for one item."""

    id: str
    bank_code: str
    status: Literal["verified", "rejected", "pending", "unsupported"]
    reason_code: str | None = Field(
        description="Rejected: the bank's reason (ACCOUNT_FROZEN, NAME_MISMATCH, ID_MISMATCH …); "
        "pending/unsupported: why (BANK_TIMEOUT …); verified: null."
    )
    reason: str | None = Field(description="Chinese wording for the clerk; null when verified.")
    checked_at: datetime | None = Field(description="When the bank answered; null when it did not.")
    cached: bool = Field(description="Answered from the cache of an earlier bank answer.")
    retry_after_seconds: int | None = Field(description="Pending: when to ask again.")


class VerificationSummary(BaseModel):
    verified: int
    rejected: int
    pending: int
    unsupported: int


class VerificationResponseOut(BaseModel):
    results: list[VerificationResultOut]
    summary: VerificationSummary
