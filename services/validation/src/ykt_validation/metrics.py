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
