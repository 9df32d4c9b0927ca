"""Prometheus metrics of the disclosure service."""

from __future__ import annotations

from prometheus_client import Counter
from ykt_kit.metrics import AMOUNT_FEN, RECORDS

SERVICE = "disclosure"
STAGE = "disclosure"

PUBLICATIONS = Counter("ykt_disclosure_publications_total", "Masked lists published for the public.")


def records_disclosed(count: int, amount_fen: int) -> None:
    """Rows newly held for publication (redelivered rows are not counted again)."""
    if count:
        RECORDS.labels(SERVICE, STAGE, "disclosed").inc(count)
        AMOUNT_FEN.labels(SERVICE, STAGE, "disclosed").inc(amount_fen)


def publication_made() -> None:
    PUBLICATIONS.inc()
