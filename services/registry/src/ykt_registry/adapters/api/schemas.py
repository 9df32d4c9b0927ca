"""Request and response bodies of the registry API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ykt_contracts.events import AccountNo, Code, IdNumber, Name, Period, Village

from ...domain.beneficiaries import Carrier, PersonStatus
from ...domain.reference import BankAdapter, Frequency, OrgKind, Register, Rollout, Standard


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
    """A program of the catalogue (Annex 1) with its standard, registers, exclusions and rollout."""

    code: Code
    name: str = Field(min_length=1, max_length=80)
    department_code: Code = Field(description="主管部门（机构代码）")
    frequency: Frequency = Field(description="发放频次：monthly/quarterly/yearly/once")
    standard: Standard | None = Field(default=None, description="补助标准；为空表示尚未录入")
    requires_registers: list[Register] = Field(default_factory=list, description="对象须在的名册")
    excludes_registers: list[Register] = Field(default_factory=list, description="对象不得在的名册")
    exclusive_with: list[Code] = Field(
        default_factory=list, max_length=18, description="同期不得同时享受的项目（双方互列）"
    )
    rollout: Rollout = Field(
        default=Rollout.NOT_YET, description="live 正式运行 / trial 试运行 / not_yet 未上线"
    )


class DivisionIn(In):
    code: str = Field(min_length=6, max_length=12, pattern=r"^\d+$")
    name: str = Field(min_length=1, max_length=40)
    kind: str = Field(description="区县 / 街道 / 镇 / 乡 / 社区 / 村")
    parent_code: str | None = Field(default=None, max_length=12)


class BankIn(In):
    code: Code = Field(description="银行代码（平台内使用，如 CQRCB）")
    name: str = Field(min_length=1, max_length=40)
    institution_code: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{3,20}$", description="金融机构代码（人民银行支付系统行别/行号）"
    )
    adapter: BankAdapter = Field(
        default=BankAdapter.JSON_API, description="接口协议：json_api / batch_file / iso20022"
    )


class OrganisationIn(In):
    code: Code
    name: str = Field(min_length=1, max_length=60)
    kind: OrgKind
    division_code: str | None = Field(default=None, max_length=12, description="镇街：所对应的行政区划")
    bank_code: Code | None = Field(default=None, description="银行：所对应的代发银行代码")

    @model_validator(mode="after")
    def _links(self) -> OrganisationIn:
        if (self.kind == OrgKind.TOWN) != (self.division_code is not None):
            raise ValueError("镇街须且只有镇街填写 division_code")
        if (self.kind == OrgKind.BANK) != (self.bank_code is not None):
            raise ValueError("银行须且只有银行填写 bank_code")
        return self


class AgreementIn(In):
    """An agency agreement (代发协议) between a paying unit and the agent bank it chose (§五.三)."""

    unit_code: Code = Field(description="发放单位（部门或镇街）机构代码")
    bank_code: Code
    agreement_no: str = Field(min_length=1, max_length=64, description="协议编号")
    effective_date: date = Field(description="生效日期")


class PersonIn(In):
    """One row of the collection form (Annex 2): the person and their one-card account."""

    id_number: IdNumber
    name: Name
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    town_code: Code
    village: Village = ""
    household_no: str | None = Field(
        default=None, max_length=32, pattern=r"^[0-9A-Za-z\-]+$", description="户编号"
    )
    carrier: Carrier = Field(default=Carrier.BANK_CARD, description="账户载体：社保卡/银行卡/存折")
    bank_code: Code
    account_no: AccountNo
    holder_name: Name | None = Field(default=None, description="户名（缺省为本人姓名）")


class AccountChangeIn(In):
    """A re-application for a different one-card account (账户变更申请)."""

    carrier: Carrier = Carrier.BANK_CARD
    bank_code: Code
    account_no: AccountNo
    holder_name: Name | None = None
    reason: str = Field(min_length=1, max_length=200, description="变更原因")


class DecisionIn(In):
    note: str = Field(default="", max_length=200, description="审核意见")


class LookupIn(In):
    id_number: IdNumber


class VerificationIn(In):
    purpose: str = Field(min_length=2, max_length=200, description="查看完整信息的事由（记入访问审计）")


class PersonStatusIn(In):
    status: PersonStatus
    reason: str = Field(min_length=1, max_length=200)


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
