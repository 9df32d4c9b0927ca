"""The validation service's own metrics, next to the kit's shared stage counters."""

from __future__ import annotations

from prometheus_client import Counter

REJECTIONS = Counter(
    "ykt_validation_rejections_total", "Records rejected by validation, by rule code.", ["code"]
)
LEDGER_RELEASES = Counter(
    "ykt_validation_ledger_releases_total",
    "Duplicate-enjoyment claims released, by cause (payment_failed, batch_returned).",
    ["cause"],
)
WARNINGS_PASSED = Counter(
    "ykt_validation_warnings_passed_total",
    "Records passed despite a warning (e.g. a red flag configured to warn), by code; warnings are"
    " not yet shown to the clerk (issue 4).",
    ["code"],
)
