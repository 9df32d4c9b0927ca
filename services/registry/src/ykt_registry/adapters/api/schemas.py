"""Request and response bodies of the registry API."""

from __future__ import annotations

from decimal import Decimal

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
    amount_fen: int | None = Field(
        default=None, ge=0, description="发放金额（分）；不填则按数量×补贴标准计算"
    )
    quantity: Decimal | None = Field(
        default=None, gt=0, max_digits=18, decimal_places=4, description="计算金额的数量（亩、头、月……）"
    )
    town_code: Code = Field(description="镇街代码")
    village: Village = Field(default="", description="村（社区）")


class BatchIn(In):
    unit_batch_no: str = Field(min_length=1, max_length=64, description="发放单位自编批次号")
    program_code: Code
    period: Period
    declared: TotalsIn = Field(description="控制总数：笔数与金额")
    records: list[RecordIn] = Field(min_length=1, max_length=2_000_000)


class BatchMetaIn(In):
    """What a file upload declares besides its records (query parameters of the upload)."""

    unit_batch_no: str = Field(min_length=1, max_length=64, description="发放单位自编批次号")
    program_code: Code = Field(description="补贴项目代码")
    period: Period = Field(description="发放期间：YYYY、YYYY-MM 或 YYYY-Qn")
    declared: TotalsIn = Field(description="控制总数：笔数与金额")


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


UPLOAD_DESCRIPTION = """Upload a batch file as the request body (not multipart): XLSX, CSV (UTF-8 or GB18030),
a JSON array of records (or `{"records": [...]}`, up to 64 MB) or JSON Lines (one record per line).
The batch's own data goes in the query: `unit_batch_no`, `program_code`, `period`, `declared_count`
and `declared_amount_fen` (fen) or `declared_amount` (yuan, e.g. `1300.50`).

The first row names the columns: `id_number`/身份证号码, `name`/姓名, `account_no`/账号,
`bank_code`/代发银行, `town_code`/镇街代码, `village`/村（社区）, and the amount as `amount_fen`/金额（分）,
`amount`/金额（元） or a `quantity`/数量 that the program standard prices.

The batch is accepted whole or not at all: every row error comes back (row, field, code, message),
and declared totals that differ from the file's are refused naming both. 201: new batch;
200 with `duplicate: true`: the same file with the same batch number again; 409 `BATCH_NO_CONFLICT`:
the number is taken by other content; 409 `DUPLICATE_FILE`: this file came already under another number.

`curl --data-binary @batch.csv -H 'content-type: text/csv' '.../api/v1/batches/files?unit_batch_no=MZ-2026-11&program_code=HM10&period=2026-11&declared_count=1000&declared_amount=650000.00'`"""

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}}
            for t in (
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/json",
                "application/x-ndjson",
            )
        },
    }
}
