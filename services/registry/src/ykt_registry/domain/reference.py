"""Reference data of the registry: payment standards, registers, rollout, divisions, banks,
organisations and agency agreements (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from ykt_kit.errors import DomainError, Forbidden, NotFound

from .model import RowError


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONCE = "once"


class Rollout(StrEnum):
    """Whether a program is paid through the platform yet (work plan §五.五: one program first)."""

    LIVE = "live"
    TRIAL = "trial"
    NOT_YET = "not_yet"


class Register(StrEnum):
    """Registers that validation compares beneficiaries against (work plan §四.二)."""

    DISABLED = "disabled"  # 残疾人
    STATE_SUPPORT = "state_support"  # 特困供养
    POVERTY = "poverty"  # 建档立卡 / 脱贫人口
    DECEASED = "deceased"  # 死亡人员
    STATE_SALARIED = "state_salaried"  # 财政供养人员


class BankAdapter(StrEnum):
    """The bank-gateway adapter that speaks a bank's protocol."""

    JSON_API = "json_api"
    BATCH_FILE = "batch_file"  # 代发文件 (|-separated, success and failure files back)
    ISO20022 = "iso20022"


class OrgKind(StrEnum):
    DEPARTMENT = "department"  # 业务主管部门
    TOWN = "town"  # 镇街
    FINANCE = "finance"  # 财政部门
    BANK = "bank"  # 代发银行
    SUPERVISOR = "supervisor"  # 纪检监察 / 审计


#: Division kinds by level: district, township (镇街), village (村/社区).
DISTRICT_KINDS = ("区县",)
TOWNSHIP_KINDS = ("街道", "镇", "乡")
VILLAGE_KINDS = ("社区", "村")
DIVISION_KINDS = DISTRICT_KINDS + TOWNSHIP_KINDS + VILLAGE_KINDS


class _Std(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ceiling_fen: int | None = Field(
        default=None, gt=0, description="每人每期发放上限（分）；为空表示只按标准计算"
    )


class FixedStandard(_Std):
    """A fixed amount per person per period (e.g. 低保 per month)."""

    kind: Literal["fixed"] = "fixed"
    amount_fen: int = Field(gt=0, description="每人每期金额（分）")

    @model_validator(mode="after")
    def _ceiling_covers_amount(self) -> FixedStandard:
        if self.ceiling_fen is not None and self.ceiling_fen < self.amount_fen:
            raise ValueError("上限不能低于标准金额")
        return self


class PerUnitStandard(_Std):
    """An amount per unit times the person's quantity (e.g. yuan per 亩 of farmland)."""

    kind: Literal["per_unit"] = "per_unit"
    unit: str = Field(min_length=1, max_length=8, description="计量单位，如 亩、头、人")
    amount_fen_per_unit: int = Field(gt=0, description="每单位金额（分）")


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = Field(min_length=1, max_length=20, description="类别，如 一级、二级、A类")
    amount_fen: int = Field(gt=0, description="该类别每人每期金额（分）")


class TieredStandard(_Std):
    """An amount per category (e.g. disability grade 一级/二级, hazard class A/B)."""

    kind: Literal["tiered"] = "tiered"
    tiers: list[Tier] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _distinct_categories(self) -> TieredStandard:
        names = [t.category for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("类别不能重复")
        return self


Standard = Annotated[FixedStandard | PerUnitStandard | TieredStandard, Field(discriminator="kind")]
STANDARD = TypeAdapter(Standard)


class ReferenceInvalid(DomainError):
    status = 422
    code = "REFERENCE_INVALID"


class ReferenceNotFound(NotFound):
    code = "REFERENCE_NOT_FOUND"


class ReferenceForbidden(Forbidden):
    code = "OUT_OF_SCOPE"


def check_exclusions(catalogue: Mapping[str, Sequence[str]], rows: Mapping[str, int]) -> list[RowError]:
    """Programs excluded in the same period must exist and exclude each other (symmetric).

    `catalogue` is every program's exclusion list after the write; `rows` maps the written codes
    to their row numbers, so errors name the row the clerk sent."""
    errors: list[RowError] = []
    for code, n in rows.items():
        for other in catalogue[code]:
            if other == code:
                errors.append(
                    RowError(n, "exclusive_with", "PROGRAM_EXCLUDES_ITSELF", f"第{n}行：项目不能与自身互斥")
                )
            elif other not in catalogue:
                errors.append(
                    RowError(
                        n,
                        "exclusive_with",
                        "PROGRAM_EXCLUSION_UNKNOWN",
                        f"第{n}行：互斥项目 {other} 不存在",
                    )
                )
            elif code not in catalogue[other]:
                errors.append(
                    RowError(
                        n,
                        "exclusive_with",
                        "PROGRAM_EXCLUSION_ASYMMETRIC",
                        f"第{n}行：{code} 与 {other} 互斥，但 {other} 未列 {code} 为互斥项目，须双方同时登记",
                    )
                )
    # a program not written now may name one of them: removing the pair on one side only is refused
    for code, excl in catalogue.items():
        if code in rows:
            continue
        for other in excl:
            if other in rows and code not in catalogue[other]:
                n = rows[other]
                errors.append(
                    RowError(
                        n,
                        "exclusive_with",
                        "PROGRAM_EXCLUSION_ASYMMETRIC",
                        f"第{n}行：{code} 仍列 {other} 为互斥项目，{other} 也须列 {code}",
                    )
                )
    return errors


def overlapping_registers(required: Iterable[str], excluded: Iterable[str]) -> set[str]:
    return set(required) & set(excluded)


# ------------------------------------------------------------------ divisions from CSV


def township_code(code: str) -> str:
    """12-digit statistical code of a township; the shared reference CSV uses 9 digits."""
    return code + "000" if len(code) == 9 else code


def division_level(code: str) -> str | None:
    """'district' (6 digits), 'township' (9, or 12 ending 000), 'village' (12), else None."""
    if not code.isdigit():
        return None
    if len(code) == 6:
        return "district"
    if len(code) == 9 or (len(code) == 12 and code.endswith("000")):
        return "township"
    if len(code) == 12:
        return "village"
    return None


def kind_from_name(level: str, name: str) -> str | None:
    kinds = {"district": DISTRICT_KINDS, "township": TOWNSHIP_KINDS, "village": VILLAGE_KINDS}[level]
    if level == "district":
        return "区县"
    return next((k for k in kinds if name.endswith(k)), None)


def kinds_of(level: str) -> tuple[str, ...]:
    return {"district": DISTRICT_KINDS, "township": TOWNSHIP_KINDS, "village": VILLAGE_KINDS}[level]
