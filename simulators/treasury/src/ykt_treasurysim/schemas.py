"""Request body of the treasury simulator's payment-application protocol."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


def _text(max_length: int) -> object:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


class PaymentApplication(BaseModel):
    """A 支付申请: pay `amount_fen` from the finance account to an agent bank's special account."""

    model_config = ConfigDict(extra="ignore")

    application_ref: Annotated[str, _text(64)] = Field(
        description="The applicant's unique reference (idempotency key)."
    )
    budget_doc_no: Annotated[str, _text(64)] = Field(description="指标文号 the payment draws on.")
    payer_account: Annotated[str, _text(40)] = Field(description="The paying finance account.")
    payee_bank_code: Annotated[str, _text(32)] = Field(description="Agent bank receiving the funds.")
    payee_account: Annotated[str, _text(40)] = Field(description="That bank's special account for subsidies.")
    amount_fen: int = Field(strict=True, gt=0, description="Amount in fen.")
