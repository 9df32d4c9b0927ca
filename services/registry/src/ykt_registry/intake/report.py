"""The row-level error report (XLSX, streamed) and `safe_cell`, the guard for every exported cell.

A clerk opens the report in Excel or WPS; a cell that starts with `=`, `+`, `-`, `@`, TAB or CR
(or their full-width forms) could run as a formula there (CSV/formula injection, CWE-1236). Every
text cell therefore goes through `safe_cell`, which prefixes such text with `'`, and is stored as
an explicit string cell, never a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from ykt_kit import masking

from .forms import CheckSummary, RowIssue, Severity

REPORT_HEADERS = ("行号", "列", "错误代码", "说明", "级别", "原值（已脱敏）")
SEVERITY_ZH = {Severity.ERROR: "错误", Severity.WARNING: "警告"}
_FORMULA_START = frozenset("=+-@\t\r\n＝＋－＠﹦﹢﹣﹫")
_LONG_NUMBER = re.compile(r"\d{15,}[\dXx]?")


def safe_cell(value: Any) -> Any:
    """Text that can never be read as a formula: `=1+2` → `'=1+2`; characters XML cannot hold
    become U+FFFD. Numbers, dates and None pass unchanged."""
    if not isinstance(value, str):
        return value
    s = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if s and (s[0] in _FORMULA_START or s.lstrip(" \u3000")[:1] in _FORMULA_START):
        return "'" + s
    return s


def text_cell(ws: Any, value: Any, *, font: Font | None = None, fill: PatternFill | None = None) -> Any:
    """A write-only cell holding `safe_cell(value)`, typed explicitly as a string when text."""
    cell = WriteOnlyCell(ws, value=safe_cell(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _redact(text: str) -> str:
    """Defence in depth: no full ID or account number leaves in a report, whoever made the issue."""
    return _LONG_NUMBER.sub(lambda m: masking.mask_id(m.group()), text)


def write_issue_report(
    issues: Iterable[RowIssue],
    destination: Path | BinaryIO,
    *,
    summary: CheckSummary | None = None,
    filename: str | None = None,
) -> int:
    """Write the issues (any number, streamed) as an XLSX report; return how many rows it holds."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    ws = wb.create_sheet("错误明细")
    for letter, width in zip("ABCDEF", (8, 16, 26, 60, 8, 24), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.append([text_cell(ws, h, font=bold, fill=head_fill) for h in REPORT_HEADERS])
    n = 0
    for issue in issues:
        ws.append(
            [
                issue.row,
                text_cell(ws, issue.column),
                text_cell(ws, issue.code),
                text_cell(ws, _redact(issue.message)),
                text_cell(ws, SEVERITY_ZH.get(issue.severity, str(issue.severity))),
                text_cell(ws, _redact(issue.value)),
            ]
        )
        n += 1
    if summary is not None:
        totals = wb.create_sheet("汇总")
        totals.column_dimensions["A"].width = 28
        totals.column_dimensions["B"].width = 20
        lines: list[tuple[str, Any]] = [
            ("文件", filename or ""),
            ("数据行数", summary.rows),
            ("通过行数", summary.accepted),
            ("未通过行数", summary.rejected),
            ("错误数", summary.errors),
            ("警告数", summary.warnings),
            ("通过行金额合计（元）", f"{summary.amount_fen // 100}.{summary.amount_fen % 100:02d}"),
        ]
        if summary.issues_dropped:
            lines.append(("未列出的问题数（明细仅列前若干条）", summary.issues_dropped))
        for label, value in lines:
            totals.append([text_cell(totals, label, font=bold), text_cell(totals, value)])
    wb.save(destination)
    return n


__all__ = ["REPORT_HEADERS", "safe_cell", "text_cell", "write_issue_report"]
