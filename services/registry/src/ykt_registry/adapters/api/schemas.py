"""Request and response bodies of the registry API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from ykt_contracts.events import AccountNo, Code, IdNumber, Name, Period, Village


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TotalsIn(In):
    record_count: int = Field(ge=0, description="申报笔数")
    amount_fen: int = Field(ge=0, description="申报金额（分）")


class RecordIn(In):
    id_number: IdNumber = Field(description="身份证号码")
    name: Name = Field(description="姓名")
    account_no: AccountNo = Field(description="一卡通账号")
    bank_code: Code = Field(description="代发银行代码")
    amount_fen: int = Field(ge=0, description="发放金额（分）")
    town_code: Code = Field(description="镇街代码")
    village: Village = Field(default="", description="村（社区）")


class BatchIn(In):
    unit_batch_no: str = Field(min_length=1, max_length=64, description="发放单位自编批次号")
    program_code: Code
    period: Period
    declared: TotalsIn = Field(description="控制总数：笔数与金额")
    records: list[RecordIn] = Field(min_length=1, max_length=2_000_000)


class CorrectionIn(In):
    id_number: IdNumber | None = None
    name: Name | None = None
    account_no: AccountNo | None = None
    bank_code: Code | None = None
    amount_fen: int | None = Field(default=None, ge=0)
    village: Village | None = None


class ProgramIn(In):
    code: Code
    name: str = Field(min_length=1, max_length=80)
    department_code: Code
    frequency: str = Field(pattern="^(monthly|quarterly|yearly|once)$")
    standard_fen: int | None = Field(default=None, ge=0)
    rollout: str = Field(default="not_yet", pattern="^(live|trial|not_yet)$")


class DivisionIn(In):
    code: Code
    name: str = Field(min_length=1, max_length=40)
    kind: str = Field(min_length=1, max_length=10)
    parent_code: str | None = None


class BankIn(In):
    code: Code
    name: str = Field(min_length=1, max_length=40)
    adapter: str = Field(default="json-api", max_length=20)


class PersonIn(In):
    id_number: IdNumber
    name: Name
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    town_code: Code
    village: Village = ""
    bank_code: Code
    account_no: AccountNo
