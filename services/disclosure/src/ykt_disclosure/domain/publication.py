"""When a batch's masked list may be published, and for how long."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ykt_contracts import DisclosurePublishedV1, Totals


class Readiness(StrEnum):
    """Why a batch is (not yet) published."""

    WAITING_FOR_COMPLETION = "waiting_for_completion"  # no batch.completed yet
    NOTHING_SETTLED = "nothing_settled"  # completed with zero settled records: nothing to show
    WAITING_FOR_RECORDS = "waiting_for_records"  # fewer rows than the settled totals so far
    MISMATCH = "mismatch"  # more rows, or the same count with another sum: never published
    READY = "ready"


@dataclass(frozen=True)
class Expected:
    """Settled totals a batch.completed declared for a batch."""

    batch_id: str
    program_code: str
    period: str
    unit_code: str
    settled_count: int
    settled_amount_fen: int


def readiness(expected: Expected | None, *, disclosed_count: int, disclosed_amount_fen: int) -> Readiness:
    """Compare the rows received so far with the declared settled totals."""
    if expected is None:
        return Readiness.WAITING_FOR_COMPLETION
    if expected.settled_count == 0:
        return Readiness.NOTHING_SETTLED
    if disclosed_count < expected.settled_count:
        return Readiness.WAITING_FOR_RECORDS
    if disclosed_count == expected.settled_count and disclosed_amount_fen == expected.settled_amount_fen:
        return Readiness.READY
    return Readiness.MISMATCH


@dataclass(frozen=True)
class Publication:
    """A masked list open to the public for its window."""

    publication_id: uuid.UUID
    batch_id: str
    program_code: str
    period: str
    unit_code: str
    record_count: int
    amount_fen: int
    window_start: datetime
    window_end: datetime
    status: str = "published"

    @classmethod
    def open(cls, expected: Expected, *, now: datetime, window_days: int) -> Publication:
        start = now.replace(microsecond=0)
        return cls(
            publication_id=uuid.uuid4(),
            batch_id=expected.batch_id,
            program_code=expected.program_code,
            period=expected.period,
            unit_code=expected.unit_code,
            record_count=expected.settled_count,
            amount_fen=expected.settled_amount_fen,
            window_start=start,
            window_end=start + timedelta(days=window_days),
        )

    @property
    def path(self) -> str:
        return publication_path(self.publication_id)

    def is_open(self, now: datetime) -> bool:
        return self.window_start <= now < self.window_end

    def event(self) -> DisclosurePublishedV1:
        return DisclosurePublishedV1(
            publication_id=str(self.publication_id),
            batch_id=self.batch_id,
            program_code=self.program_code,
            period=self.period,
            totals=Totals(record_count=self.record_count, amount_fen=self.amount_fen),
            window_start=self.window_start,
            window_end=self.window_end,
            path=self.path,
        )


def publication_path(publication_id: uuid.UUID | str) -> str:
    """Path of a publication's public page."""
    return f"/public/publications/{publication_id}"
