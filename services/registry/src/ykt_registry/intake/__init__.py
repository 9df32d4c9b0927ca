"""File intake for the registry (pure: no database, no HTTP).

with open_table(upload, "名册.xlsx") as table:          # sniffs XLSX/CSV, finds the header
    checker = checker_for(table.form, towns=towns, banks=banks)
    for row_number, cells in table:                     # lazily, in bounded memory
        record = checker.check(row_number, cells)        # normalised row, or None
write_issue_report(checker.issues, path, summary=checker.summary)
"""

from __future__ import annotations

from .errors import FILE_CODES, FileRejected
from .forms import (
    BENEFICIARY_FORM,
    PAYMENT_FORM,
    AccountCarrier,
    BeneficiaryChecker,
    BeneficiaryRow,
    CheckSummary,
    FormSpec,
    PaymentChecker,
    PaymentRow,
    RowIssue,
    Severity,
    checker_for,
)
from .readers import DEFAULT_MAX_ROWS, Cells, Table, open_table
from .report import safe_cell, write_issue_report

__all__ = [
    "BENEFICIARY_FORM",
    "DEFAULT_MAX_ROWS",
    "FILE_CODES",
    "PAYMENT_FORM",
    "AccountCarrier",
    "BeneficiaryChecker",
    "BeneficiaryRow",
    "Cells",
    "CheckSummary",
    "FileRejected",
    "FormSpec",
    "PaymentChecker",
    "PaymentRow",
    "RowIssue",
    "Severity",
    "Table",
    "checker_for",
    "open_table",
    "safe_cell",
    "write_issue_report",
]
