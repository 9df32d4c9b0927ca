"""Response bodies of the validation API (no personal data: verdicts name records by id)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VerdictOut(BaseModel):
    """The verdict on one record."""

    record_id: str
    round: int
    seq: int = Field(description="Row number of the record in its submission.")
    outcome: Literal["pass", "reject"]
    code: str
    message: str
    rule_set_version: str


class VerdictsOut(BaseModel):
    """A batch's verdict counts (whole batch) and one page of its verdicts."""

    batch_id: str
    counts: dict[str, int] = Field(description="Verdicts by outcome over the whole batch: pass, reject.")
    by_code: dict[str, int] = Field(description="Verdicts by code over the whole batch (OK for a pass).")
    limit: int
    offset: int
    verdicts: list[VerdictOut]


class RuleOut(BaseModel):
    """One code a rule may answer."""

    rule: str
    scope: Literal["chunk", "record", "ledger"]
    code: str
    description: str


class RuleSetOut(BaseModel):
    """The current rule set."""

    version: str
    rules: list[RuleOut]
