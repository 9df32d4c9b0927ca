"""Prometheus metrics of the bank side."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Counter, Histogram

BANK_REQUESTS = Counter(
    "ykt_bank_requests_total",
    "Requests to banks, by bank and outcome (ok, error, timeout, rejected).",
    ["bank", "outcome"],
)
BANK_REQUEST_SECONDS = Histogram(
    "ykt_bank_request_seconds",
    "Duration of one request to a bank.",
    ["bank"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BANK_CALLBACKS = Counter(
    "ykt_bank_callbacks_total",
    "Result callbacks received from banks, by bank and outcome (processed, bad_signature, invalid).",
    ["bank", "outcome"],
)
BANK_RESULTS = Counter(
    "ykt_bank_results_total",
    "Results received from banks, by bank and outcome (settled, failed, ignored).",
    ["bank", "outcome"],
)
RESULT_AMOUNT_MISMATCHES = Counter(
    "ykt_bank_result_amount_mismatches_total",
    "Bank results whose amount differs from the instruction's; they are ignored.",
    ["bank"],
)
BANK_FAILURES = Counter(
    "ykt_bank_failures_total",
    "Records a bank reported as failed, by bank and the bank's reason code (ACCOUNT_CLOSED, ...).",
    ["bank", "reason"],
)


def count_failures(bank: str, reasons: Mapping[str, int]) -> None:
    """Count failed records by reason code (after the transaction that applied them committed)."""
    for reason, n in reasons.items():
        if n:
            BANK_FAILURES.labels(bank, reason[:40] or "UNKNOWN").inc(n)


VERIFICATION_REQUESTS = Counter(
    "ykt_bank_verification_requests_total",
    "Account-verification requests to banks, by bank and outcome (ok, error, timeout, rejected).",
    ["bank", "outcome"],
)
VERIFICATION_REQUEST_SECONDS = Histogram(
    "ykt_bank_verification_request_seconds",
    "Duration of one account-verification request to a bank.",
    ["bank"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
VERIFICATION_ITEMS = Counter(
    "ykt_bank_verification_items_total",
    "Accounts answered, by bank, status (verified, rejected, pending, unsupported) and source (bank, cache, none).",
    ["bank", "status", "source"],
)
VERIFICATION_REJECTIONS = Counter(
    "ykt_bank_verification_rejections_total",
    "Accounts a bank did not verify, by bank and the bank's reason code (ACCOUNT_FROZEN, NAME_MISMATCH, ...).",
    ["bank", "reason"],
)
