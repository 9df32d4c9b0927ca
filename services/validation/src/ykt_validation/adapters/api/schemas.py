"""Request and response bodies of the validation API (verdicts name records by id; register
answers carry personal data only masked)."""

from __future__ import annotations

from typing import Any, Literal

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


# ---------------------------------------------------------------- reference registers


class RegisterImportOut(BaseModel):
    """One import of a register (no personal data)."""

    import_id: str
    kind: str = Field(description="disabled, state_support, poverty, deceased, state_salaried")
    kind_name: str
    source: str = Field(description="名册来源（提供单位）")
    as_of: str = Field(description="名册日期：名册所反映的日期 (YYYY-MM-DD)")
    filename: str
    status: Literal["current", "superseded", "rejected"]
    rows: int
    entries: int = Field(description="名册人数")
    refused_rows: int
    errors: int
    joined: int = Field(description="较上一版新增人数")
    departed: int = Field(description="较上一版移出人数")
    replaces: str | None = Field(description="被本次导入替换的导入")
    imported_by: str
    imported_org: str
    imported_at: str
    superseded_at: str | None
    report: str = Field(description="错误报告下载地址（XLSX）")
    duplicate: bool | None = Field(default=None, description="同一文件再次导入：返回首次导入，不作任何变更")


class RegisterInForceOut(BaseModel):
    """A register kind and its import in force (None: never imported)."""

    kind: str
    kind_name: str
    current: RegisterImportOut | None


class RegisterLookupIn(BaseModel):
    """An ID number to look up (in the body: paths and queries are logged)."""

    id_number: str = Field(min_length=15, max_length=32, description="身份证号码")


class RegisterMembershipOut(BaseModel):
    """A person's entry in one register import (masked)."""

    kind: str
    kind_name: str
    import_id: str
    as_of: str
    source: str
    status: Literal["current", "superseded"]
    row: int
    name: str = Field(description="姓名（脱敏）")
    id_number: str = Field(description="身份证号码（脱敏）")
    attributes: dict[str, Any]


class RegisterLookupOut(BaseModel):
    """The registers a person is in now, and earlier imports that listed them."""

    person_key: str
    id_number: str
    current: list[RegisterMembershipOut]
    history: list[RegisterMembershipOut]
