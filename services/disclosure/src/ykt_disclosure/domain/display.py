"""How figures, periods, dates and codes read on the public pages (pure functions)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from ykt_contracts.reference import DEPARTMENT_NAMES, PROGRAMS, TOWN_NAMES

#: China Standard Time; China keeps no daylight saving, so a fixed offset is exact.
CST = timezone(timedelta(hours=8), "CST")

_DEPARTMENT_OF = {p.code: p.department_code for p in PROGRAMS}
_PROGRAM_NAMES = {p.code: p.name for p in PROGRAMS}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 123456 → 1,234.56."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_plain(fen: int) -> str:
    """Fen as yuan with two decimals, no separators (for JSON): 123456 → 1234.56."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def period_label(period: str) -> str:
    """2025-03 → 2025年3月; 2025-Q2 → 2025年第2季度; 2025 → 2025年度."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        return f"{m[1]}年{int(m[2])}月"
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", period):
        return f"{m[1]}年第{m[2]}季度"
    if re.fullmatch(r"\d{4}", period):
        return f"{period}年度"
    return period


def program_name(code: str) -> str:
    return _PROGRAM_NAMES.get(code, code)


def department_name(program_code: str) -> str:
    """The competent department of a program (业务主管部门)."""
    dept = _DEPARTMENT_OF.get(program_code)
    return DEPARTMENT_NAMES.get(dept, "") if dept else ""


def unit_name(unit_code: str, program_code: str) -> str:
    """Name of the paying unit: a department or a town when the code is one, else the program's
    department (the unit answers to it), else the code itself."""
    return (
        DEPARTMENT_NAMES.get(unit_code)
        or TOWN_NAMES.get(unit_code)
        or department_name(program_code)
        or unit_code
    )


def town_name(code: str) -> str:
    return TOWN_NAMES.get(code, code)


def local_date(value: datetime | date) -> str:
    """A date, or a moment shown as its date in China: 2025-03-01."""
    if isinstance(value, datetime):
        value = value.astimezone(CST).date()
    return value.isoformat()


def china_date(value: datetime) -> date:
    """The date in China at a moment."""
    return value.astimezone(CST).date()


def local_minute(value: datetime) -> str:
    """A moment in China time to the minute: 2025-03-01 09:30."""
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")
