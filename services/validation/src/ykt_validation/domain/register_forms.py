"""The register files' columns (one form per register kind, read by `ykt_registry.intake.open_table`)
and the row checker (pure: no I/O, no database).

Every form has 姓名 and 身份证号码; each kind adds its own columns (残疾类别/残疾等级, 死亡日期,
工作单位, ...). A checker is fed row by row and returns the normalised row, or None when the row has
errors; each problem becomes a `RowIssue` naming the row and the column in Chinese, with the cell
quoted masked."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ykt_kit import idcard
from ykt_registry.intake import CheckSummary, FormSpec, RowIssue, Severity
from ykt_registry.intake.forms import CONTROL_CHARS as _CONTROL
from ykt_registry.intake.forms import CellError as _Bad
from ykt_registry.intake.forms import (
    FieldSpec,
    Kind,
    SeenIds,
    check_id,
    check_text,
    mask_value,
    normalise_name,
)
from ykt_registry.intake.forms import to_ascii as _ascii

from .registers import REGISTER_NAMES, RegisterKind

_NAME = FieldSpec("name", "姓名", ("姓名", "对象姓名", "人员姓名", "name"), True, Kind.NAME)
_ID = FieldSpec(
    "id_number",
    "身份证号码",
    (
        "身份证号码",
        "身份证号",
        "身份证",
        "公民身份号码",
        "身份证件号码",
        "证件号码",
        "社会保障号码",
        "id_number",
    ),
    True,
    Kind.ID,
)

REGISTER_FORMS: Mapping[RegisterKind, FormSpec] = {
    RegisterKind.DISABLED: FormSpec(
        key="register_disabled",
        title=REGISTER_NAMES[RegisterKind.DISABLED],
        fields=(
            _NAME,
            _ID,
            FieldSpec(
                "disability_category", "残疾类别", ("残疾类别", "残疾类型", "disability_category"), True
            ),
            FieldSpec("disability_grade", "残疾等级", ("残疾等级", "残疾级别", "disability_grade"), True),
        ),
    ),
    RegisterKind.STATE_SUPPORT: FormSpec(
        key="register_state_support",
        title=REGISTER_NAMES[RegisterKind.STATE_SUPPORT],
        fields=(
            _NAME,
            _ID,
            FieldSpec("support_mode", "供养方式", ("供养方式", "供养形式", "support_mode")),
        ),
    ),
    RegisterKind.POVERTY: FormSpec(
        key="register_poverty",
        title=REGISTER_NAMES[RegisterKind.POVERTY],
        fields=(
            _NAME,
            _ID,
            FieldSpec("category", "人员类别", ("人员类别", "人口类别", "户类型", "监测类型", "category")),
            FieldSpec("exit_year", "脱贫年度", ("脱贫年度", "脱贫年份", "exit_year")),
        ),
    ),
    RegisterKind.DECEASED: FormSpec(
        key="register_deceased",
        title=REGISTER_NAMES[RegisterKind.DECEASED],
        fields=(
            _NAME,
            _ID,
            FieldSpec("date_of_death", "死亡日期", ("死亡日期", "死亡时间", "date_of_death"), True),
        ),
    ),
    RegisterKind.STATE_SALARIED: FormSpec(
        key="register_state_salaried",
        title=REGISTER_NAMES[RegisterKind.STATE_SALARIED],
        fields=(
            _NAME,
            _ID,
            FieldSpec(
                "employer", "工作单位", ("工作单位", "单位名称", "所在单位", "供职单位", "employer"), True
            ),
            FieldSpec("staff_category", "人员类别", ("人员类别", "人员身份", "在职状态", "staff_category")),
        ),
    ),
}

#: 残疾类别 (GB/T 26341-2010): the name, a short form, or its code 1-7.
DISABILITY_CATEGORIES = ("视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾")
DISABILITY_GRADES = ("一级", "二级", "三级", "四级")
SUPPORT_MODES = ("集中供养", "分散供养")
NAME_MAX = 40
TEXT_MAX = 60
DEFAULT_MAX_ISSUES = 10_000

_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_GRADE = re.compile(r"([1-4一二三四])级?")


def check_name(raw: str) -> str:
    if _CONTROL.search(raw):
        raise _Bad("NAME_CHARS", "含有控制字符或不可见字符")
    s = normalise_name(raw)
    if any(c.isdigit() for c in s):
        raise _Bad("NAME_CHARS", "不能包含数字")
    if len(s) > NAME_MAX:
        raise _Bad("NAME_TOO_LONG", f"长度不能超过{NAME_MAX}个字（当前{len(s)}个）")
    return s


def parse_date(raw: str) -> date:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305 (a time after it is ignored)."""
    s = _ascii(raw).strip().split(" ")[0].split("T")[0]
    m = _DATE.fullmatch(s) or _COMPACT_DATE.fullmatch(s)
    if m is None:
        raise _Bad("DATE_FORMAT", "日期格式应为 2024-03-05（或 2024/3/5、2024年3月5日）")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _Bad("DATE_INVALID", "日期不存在") from None


def check_category(raw: str) -> str:
    s = _ascii(raw).replace(" ", "")
    if s.isdigit() and 1 <= int(s) <= len(DISABILITY_CATEGORIES):
        return DISABILITY_CATEGORIES[int(s) - 1]
    for name in DISABILITY_CATEGORIES:
        if s in (name, name.removesuffix("残疾")):
            return name
    raise _Bad("DISABILITY_CATEGORY", "应为视力、听力、言语、肢体、智力、精神或多重残疾（或代码1-7）")


def check_grade(raw: str) -> str:
    m = _GRADE.fullmatch(_ascii(raw).replace(" ", ""))
    if m is None:
        raise _Bad("DISABILITY_GRADE", "应为一级、二级、三级或四级（或1-4）")
    return DISABILITY_GRADES["1234一二三四".index(m.group(1)) % 4]


def check_support_mode(raw: str) -> str:
    s = raw.replace(" ", "")
    for mode in SUPPORT_MODES:
        if s in (mode, mode.removesuffix("供养")):
            return mode
    raise _Bad("SUPPORT_MODE", "应为集中供养或分散供养")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One accepted row of a register file: ID upper-case, name normalised, the kind's attributes."""

    row: int
    id_number: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


class RegisterChecker:
    """Checks the rows of one register kind's file; memory stays bounded (issues are capped, the
    duplicate set keeps one compact slot per person)."""

    def __init__(
        self,
        kind: RegisterKind,
        *,
        as_of: date,
        today: date | None = None,
        max_issues: int = DEFAULT_MAX_ISSUES,
    ) -> None:
        self.kind = kind
        self.form = REGISTER_FORMS[kind]
        self.as_of = as_of
        self.today = today or date.today()
        self.max_issues = max_issues
        self.issues: list[RowIssue] = []
        self.summary = CheckSummary()
        self._seen = SeenIds()
        self._row_errors = 0
        self._attributes: Callable[[int, Mapping[str, str], str | None], dict[str, Any]] = {
            RegisterKind.DISABLED: self._disabled,
            RegisterKind.STATE_SUPPORT: self._state_support,
            RegisterKind.POVERTY: self._poverty,
            RegisterKind.DECEASED: self._deceased,
            RegisterKind.STATE_SALARIED: self._state_salaried,
        }[kind]

    def issue(self, row: int, key: str, code: str, text: str, value: str = "") -> None:
        """Record one error of the row (the issue list is capped; the rest are only counted)."""
        self.summary.errors += 1
        self._row_errors += 1
        if len(self.issues) >= self.max_issues:
            self.summary.issues_dropped += 1
            return
        spec = self.form.field(key)
        self.issues.append(
            RowIssue(
                row,
                spec.label,
                code,
                f"第{row}行【{spec.label}】：{text}",
                Severity.ERROR,
                mask_value(spec.kind, value),
            )
        )

    def check(self, row: int, cells: Mapping[str, str]) -> RegisterRow | None:
        """Check one data row (row = its row number in the file); None when it has errors."""
        self.summary.rows += 1
        self._row_errors = 0
        lossy: frozenset[str] = getattr(cells, "lossy", frozenset())
        id_number = self._field(
            row, cells, "id_number", check_id, today=self.today, lossy="id_number" in lossy
        )
        name = self._field(row, cells, "name", check_name)
        if isinstance(id_number, str):
            earlier = self._seen.add(id_number, row)
            if earlier is not None:
                self.issue(
                    row,
                    "id_number",
                    "PERSON_DUPLICATE",
                    f"与第{earlier}行为同一人（身份证号码重复）",
                    id_number,
                )
                id_number = None
        attributes = self._attributes(row, cells, id_number)
        if self._row_errors or not (id_number and name):
            self.summary.rejected += 1
            return None
        self.summary.accepted += 1
        return RegisterRow(row, id_number, name, attributes)

    def _field(
        self, row: int, cells: Mapping[str, str], key: str, rule: Callable[..., Any], **kw: Any
    ) -> Any:
        raw = cells.get(key, "")
        if not raw:
            if self.form.field(key).required:
                self.issue(row, key, "REQUIRED_MISSING", "不能为空")
            return None
        try:
            return rule(raw, **kw)
        except _Bad as bad:
            self.issue(row, key, bad.code, bad.text, raw)
            return None

    def _optional(self, out: dict[str, Any], key: str, value: Any) -> None:
        if value is not None:
            out[key] = value

    # ---------------------------------------------------------------- per kind

    def _disabled(self, row: int, cells: Mapping[str, str], _id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._optional(
            out, "disability_category", self._field(row, cells, "disability_category", check_category)
        )
        self._optional(out, "disability_grade", self._field(row, cells, "disability_grade", check_grade))
        return out

    def _state_support(self, row: int, cells: Mapping[str, str], _id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._optional(out, "support_mode", self._field(row, cells, "support_mode", check_support_mode))
        return out

    def _poverty(self, row: int, cells: Mapping[str, str], _id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._optional(out, "category", self._field(row, cells, "category", check_text, limit=20))
        year = self._field(row, cells, "exit_year", check_text, limit=8)
        if year is not None:
            digits = _ascii(year).removesuffix("年")
            if not (digits.isdigit() and 2013 <= int(digits) <= self.as_of.year):
                self.issue(row, "exit_year", "YEAR_INVALID", f"应为2013至{self.as_of.year}之间的年份", year)
            else:
                out["exit_year"] = int(digits)
        return out

    def _deceased(self, row: int, cells: Mapping[str, str], id_number: str | None) -> dict[str, Any]:
        died = self._field(row, cells, "date_of_death", parse_date)
        if died is None:
            return {}
        if died > self.as_of:
            self.issue(
                row,
                "date_of_death",
                "DATE_AFTER_AS_OF",
                f"死亡日期晚于名册日期（{self.as_of.isoformat()}）",
                died.isoformat(),
            )
            return {}
        if id_number is not None and died < idcard.parse(id_number, today=self.today).birth_date:
            self.issue(
                row,
                "date_of_death",
                "DATE_BEFORE_BIRTH",
                "死亡日期早于身份证号码中的出生日期",
                died.isoformat(),
            )
            return {}
        return {"date_of_death": died.isoformat()}

    def _state_salaried(self, row: int, cells: Mapping[str, str], _id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._optional(out, "employer", self._field(row, cells, "employer", check_text, limit=TEXT_MAX))
        self._optional(out, "staff_category", self._field(row, cells, "staff_category", check_text, limit=20))
        return out


__all__ = [
    "DISABILITY_CATEGORIES",
    "DISABILITY_GRADES",
    "REGISTER_FORMS",
    "RegisterChecker",
    "RegisterRow",
    "parse_date",
]
