"""The readiness rule of a sent batch, and the settings' special accounts (no I/O)."""

from __future__ import annotations

import pytest
from ykt_payment.config import Settings
from ykt_payment.domain.model import BatchStatus, Sums, readiness

SENT = Sums(10, 1_000)


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (Sums(10, 1_000), BatchStatus.PENDING_REVIEW),
        (Sums(0, 0), BatchStatus.AWAITING_RECORDS),
        (Sums(9, 990), BatchStatus.AWAITING_RECORDS),
        (Sums(9, 1_000), BatchStatus.AWAITING_RECORDS),  # the last record may be 0 fen
        (Sums(9, 1_001), BatchStatus.TOTALS_MISMATCH),  # no later record can bring the sum down
        (Sums(10, 999), BatchStatus.TOTALS_MISMATCH),
        (Sums(11, 1_000), BatchStatus.TOTALS_MISMATCH),
    ],
)
def test_payment_readiness_compares_held_orders_with_sent_totals(held: Sums, expected: BatchStatus) -> None:
    assert readiness(held, SENT) == expected


def test_payment_empty_sent_batch_is_ready_at_once() -> None:
    assert readiness(Sums(), Sums()) == BatchStatus.PENDING_REVIEW


def test_payment_special_accounts_default_per_bank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_SPECIAL_ACCOUNTS", '{"ICBC": "ZH-ICBC-SPECIAL"}')
    monkeypatch.setenv("PAYMENT_TREASURY_URL", "http://treasury:8202")
    settings = Settings()
    assert settings.special_account("ICBC") == "ZH-ICBC-SPECIAL"
    assert settings.special_account("CQRCB") == "ZH-CQRCB-500104"
    assert settings.treasury_url == "http://treasury:8202"
    assert settings.payer_account == "GK-500104-0001"
    assert settings.port == 8103
