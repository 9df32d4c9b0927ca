"""Request bodies of the payment API (responses are plain JSON built by the service)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from ykt_contracts.events import MAX_RECORDS_PER_CHUNK

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Ref64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Account = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class RecordReasonIn(BaseModel):
    """Finance's reason for one named record."""

    model_config = ConfigDict(extra="forbid")

    record_id: Ref64
    reason: Text200


class ReturnIn(BaseModel):
    """Return a batch to its unit (原渠道退回): a reason is required."""

    model_config = ConfigDict(extra="forbid")

    reason: Text200 = Field(description="Why the batch is returned (Chinese, shown to the unit).")
    record_reasons: list[RecordReasonIn] = Field(default_factory=list, max_length=MAX_RECORDS_PER_CHUNK)


class FundingIn(BaseModel):
    """Apply to the treasury for the approved batch's funds."""

    model_config = ConfigDict(extra="forbid")

    budget_doc_no: Ref64 = Field(description="指标文号 of the budget the funds come from.")
    payer_account: Account | None = Field(
        default=None, description="Treasury payer account; the configured one if omitted."
    )
