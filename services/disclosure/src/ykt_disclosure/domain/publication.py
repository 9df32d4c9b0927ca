"""When a batch's masked list may be published, and for how long."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
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


#: Publication ids derive from the batch id, so a rebuild from events gives the same ids (and
#: links printed on notices stay valid).
PUBLICATION_NAMESPACE = uuid.UUID("5b0f7f8e-3c1d-5a9e-9a43-6f1f4f0a6d01")


def publication_id_for(batch_id: str) -> uuid.UUID:
    return uuid.uuid5(PUBLICATION_NAMESPACE, batch_id)


class Status(StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class WindowPolicy:
    """Length of the public window: a default and per-program overrides, in days."""

    default_days: int = 7
    program_days: Mapping[str, int] = field(default_factory=dict)

    def days_for(self, program_code: str) -> int:
        return int(self.program_days.get(program_code, self.default_days))


@dataclass(frozen=True)
class KnownWindow:
    """A publication as the service announced it (disclosure.published), reused by a rebuild."""

    publication_id: uuid.UUID
    window_start: datetime
    window_end: datetime


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
    status: str = Status.PUBLISHED.value
    corrected_at: datetime | None = None
    withdrawn_at: datetime | None = None

    @classmethod
    def open(cls, expected: Expected, *, now: datetime, window_days: int) -> Publication:
        start = now.replace(microsecond=0)
        return cls(
            publication_id=publication_id_for(expected.batch_id),
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

    @classmethod
    def reopen(cls, expected: Expected, known: KnownWindow) -> Publication:
        """The publication a rebuild recreates: the id and window the service announced."""
        return cls(
            publication_id=known.publication_id,
            batch_id=expected.batch_id,
            program_code=expected.program_code,
            period=expected.period,
            unit_code=expected.unit_code,
            record_count=expected.settled_count,
            amount_fen=expected.settled_amount_fen,
            window_start=known.window_start,
            window_end=known.window_end,
        )

    def as_row(self) -> dict[str, object]:
        return {
            "publication_id": self.publication_id,
            "batch_id": self.batch_id,
            "program_code": self.program_code,
            "period": self.period,
            "unit_code": self.unit_code,
            "record_count": self.record_count,
            "amount_fen": self.amount_fen,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "status": self.status,
        }

    @property
    def withdrawn(self) -> bool:
        return self.status == Status.WITHDRAWN

    def is_open(self, now: datetime) -> bool:
        return not self.withdrawn and self.window_start <= now < self.window_end

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


class ChangeKind(StrEnum):
    WITHDRAWAL = "withdrawal"
    CORRECTION = "correction"


@dataclass(frozen=True)
class Change:
    """An audited change of a publication: who, when, why, and what the public is told."""

    change_id: int
    publication_id: uuid.UUID
    kind: ChangeKind
    actor_user: str
    actor_role: str
    actor_org: str
    reason: str  # internal, for the audit
    statement: str  # shown on the publication
    window_end_before: datetime
    window_end_after: datetime
    at: datetime


# ID numbers, accounts and phones (long digit runs) may not go into a public statement.
_LONG_DIGITS = re.compile(r"\d{11,}|\d{17}[\dXx]")


def statement_is_clean(text: str) -> bool:
    """A public statement must not carry anything shaped like an ID, account or phone number."""
    return not _LONG_DIGITS.search(re.sub(r"[\s\-]", "", text))
