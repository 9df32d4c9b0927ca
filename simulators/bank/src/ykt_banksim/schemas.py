"""Request bodies of the bank simulator's HTTP protocol."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .domain import AccountState

#: Upper bound of instructions in one credit-transfer request (the district's largest file is far smaller).
MAX_INSTRUCTIONS = 100_000
#: Upper bound of items in one account-verification request (answered synchronously).
MAX_VERIFICATION_ITEMS = 1000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class AccountEntry(BaseModel):
    """One account-book entry as loaded by the bank's administrators."""

    model_config = ConfigDict(extra="ignore")

    account_no: Annotated[Text, StringConstraints(max_length=40)]
    holder_name: Annotated[Text, StringConstraints(max_length=100)]
    holder_id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    state: AccountState = AccountState.NORMAL


class AccountFileEntry(AccountEntry):
    """An entry of the accounts file read at start-up: it names its bank."""

    bank_code: Text


class CreditInstruction(BaseModel):
    """One credit to a citizen's one-card account."""

    model_config = ConfigDict(extra="ignore")

    end_to_end_id: Annotated[Text, StringConstraints(max_length=64)]
    payee_name: Annotated[Text, StringConstraints(max_length=100)]
    payee_account: Annotated[Text, StringConstraints(max_length=40)]
    payee_id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    amount_fen: int = Field(strict=True, gt=0)
    memo: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class CreditTransferRequest(BaseModel):
    """A batch of credits, answered asynchronously by signed callbacks to `callback_url`."""

    model_config = ConfigDict(extra="ignore")

    batch_ref: Annotated[Text, StringConstraints(max_length=64)]
    callback_url: Annotated[Text, StringConstraints(max_length=500, pattern=r"^https?://")]
    instructions: list[CreditInstruction] = Field(min_length=1, max_length=MAX_INSTRUCTIONS)


class VerificationItem(BaseModel):
    """One account to verify: does it exist, is it this person's, can it be credited?"""

    model_config = ConfigDict(extra="ignore")

    item_id: Annotated[Text, StringConstraints(max_length=64)]
    account_no: Annotated[Text, StringConstraints(max_length=40)]
    holder_name: Annotated[Text, StringConstraints(max_length=100)]
    holder_id_number: Annotated[Text, StringConstraints(max_length=32)]


class VerificationRequest(BaseModel):
    """A set of accounts to verify, answered in the response (no callback)."""

    model_config = ConfigDict(extra="ignore")

    request_ref: Annotated[Text, StringConstraints(max_length=64)]
    items: list[VerificationItem] = Field(min_length=1, max_length=MAX_VERIFICATION_ITEMS)

    @model_validator(mode="after")
    def _unique_item_ids(self) -> VerificationRequest:
        if len({i.item_id for i in self.items}) != len(self.items):
            raise ValueError("duplicate item_id")
        return self
