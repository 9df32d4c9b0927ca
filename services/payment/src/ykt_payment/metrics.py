"""Payment's metrics: records and amounts by outcome (kit counters), batch transitions."""

from __future__ import annotations

from prometheus_client import Counter
from ykt_kit.metrics import AMOUNT_FEN, RECORDS

from .domain.model import Sums

SERVICE = "payment"
STAGE = "payment"

BATCH_TRANSITIONS = Counter(
    "ykt_payment_batch_transitions_total", "Batches entering a status in the payment service.", ["status"]
)


def records(outcome: str, sums: Sums) -> None:
    """Count records and fen reaching `outcome` (instructed, settled, failed, blocked)."""
    if sums.record_count:
        RECORDS.labels(SERVICE, STAGE, outcome).inc(sums.record_count)
        AMOUNT_FEN.labels(SERVICE, STAGE, outcome).inc(sums.amount_fen)


def transition(status: str) -> None:
    BATCH_TRANSITIONS.labels(status).inc()
