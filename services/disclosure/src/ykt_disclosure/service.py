"""Use cases of the disclosure service. Nothing here commits: the caller's transaction does."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import BatchCompletedV1, DisclosurePublishedV1, PaymentSettledV1
from ykt_kit.messaging import PermanentError

from . import metrics
from .adapters.db import repository as repo
from .domain.masking import disclose
from .domain.paging import PAGE_SIZE, Page, page_of
from .domain.publication import Expected, Publication, Readiness, readiness

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class InconsistentMessage(PermanentError):
    """A message contradicts itself (its declared totals are not its records'): dead-lettered."""


def _after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Run `fn` once the session's transaction has committed (metrics count only what stuck)."""
    event.listen(session.sync_session, "after_commit", lambda _s: fn(), once=True)


# ------------------------------------------------------------------ ingestion


async def record_settled(
    session: AsyncSession, *, payload: PaymentSettledV1, window_days: int, clock: Clock = utc_now
) -> list[DisclosurePublishedV1]:
    """Hold the masked rows of a payment.settled message, then publish the batch if complete."""
    count = len(payload.records)
    amount = sum(r.amount_fen for r in payload.records)
    if (count, amount) != (payload.totals.record_count, payload.totals.amount_fen):
        raise InconsistentMessage("payment.settled totals differ from its records")
    await repo.lock_batch(session, batch_id=payload.batch_id)
    rows = [disclose(payload.batch_id, r) for r in payload.records]
    inserted, inserted_fen = await repo.insert_rows(session, rows=rows)
    _after_commit(session, lambda: metrics.records_disclosed(inserted, inserted_fen))
    if inserted and await repo.is_published(session, batch_id=payload.batch_id):
        # the publication keeps the totals it was published with; its page lists the rows held
        log.warning(
            "settled rows arrived for a batch already published",
            extra={"batch_id": payload.batch_id, "rows": inserted},
        )
        return []
    return await _publish_if_complete(
        session, batch_id=payload.batch_id, window_days=window_days, clock=clock
    )


async def record_completed(
    session: AsyncSession, *, payload: BatchCompletedV1, window_days: int, clock: Clock = utc_now
) -> list[DisclosurePublishedV1]:
    """Store the batch's settled totals, then publish the batch if its rows are all here."""
    await repo.lock_batch(session, batch_id=payload.batch_id)
    expected = Expected(
        batch_id=payload.batch_id,
        program_code=payload.program_code,
        period=payload.period,
        unit_code=payload.unit_code,
        settled_count=payload.settled.record_count,
        settled_amount_fen=payload.settled.amount_fen,
    )
    if not await repo.insert_expected(session, expected=expected):
        held = await repo.get_expected(session, batch_id=payload.batch_id)
        if held != expected:
            log.warning(
                "batch.completed differs from the totals already held; keeping the first",
                extra={"batch_id": payload.batch_id},
            )
    return await _publish_if_complete(
        session, batch_id=payload.batch_id, window_days=window_days, clock=clock
    )


async def _publish_if_complete(
    session: AsyncSession, *, batch_id: str, window_days: int, clock: Clock
) -> list[DisclosurePublishedV1]:
    """Publish once the held rows match the settled totals; at most once per batch."""
    expected = await repo.get_expected(session, batch_id=batch_id)
    if expected is None or expected.settled_count == 0 or await repo.is_published(session, batch_id=batch_id):
        return []
    count, amount = await repo.tally(session, batch_id=batch_id)
    state = readiness(expected, disclosed_count=count, disclosed_amount_fen=amount)
    if state is Readiness.MISMATCH:
        log.warning(
            "held rows disagree with the settled totals; not publishing",
            extra={"batch_id": batch_id, "held_count": count, "expected_count": expected.settled_count},
        )
    if state is not Readiness.READY:
        return []
    publication = Publication.open(expected, now=clock(), window_days=window_days)
    if not await repo.insert_publication(session, publication=publication):
        return []
    _after_commit(session, metrics.publication_made)
    log.info(
        "publication opened", extra={"batch_id": batch_id, "publication_id": str(publication.publication_id)}
    )
    return [publication.event()]


# ------------------------------------------------------------------ public reads


@dataclass(frozen=True)
class PublicationList:
    """A page of open publications and the choices of the filter form."""

    items: list[Publication]
    page: Page
    periods: list[str]


@dataclass(frozen=True)
class DisclosedLine:
    """One masked row as every public channel shows it."""

    town_code: str
    village: str
    name_masked: str
    id_masked: str
    amount_fen: int
    settled_on: date


@dataclass(frozen=True)
class PublicationPage:
    """A publication, one page of its rows under a filter, and the filter's choices."""

    publication: Publication
    lines: list[DisclosedLine]
    page: Page
    filtered_count: int
    filtered_amount_fen: int
    places: list[tuple[str, str]]


async def current_publications(
    session: AsyncSession,
    *,
    program: str | None,
    town: str | None,
    period: str | None,
    page: int,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> PublicationList:
    """Publications whose window is open, filtered by program, town and period."""
    now = now or utc_now()
    total = await repo.count_current(session, now=now, program=program, town=town, period=period)
    pg = page_of(page, total, page_size)
    items = await repo.list_current(
        session, now=now, program=program, town=town, period=period, limit=pg.size, offset=pg.offset
    )
    return PublicationList(items=items, page=pg, periods=await repo.current_periods(session, now=now))


def parse_publication_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def publication_page(
    session: AsyncSession,
    *,
    publication_id: uuid.UUID,
    town: str | None,
    village: str | None,
    page: int,
    page_size: int = PAGE_SIZE,
) -> PublicationPage | None:
    """A publication with one page of its masked rows; None when there is no such publication.

    A publication stays readable after its window ends (links in notices keep working); the
    list of current publications is what drops it."""
    pub = await repo.get_publication(session, publication_id=publication_id)
    if pub is None:
        return None
    count, amount = await repo.rows_tally(session, batch_id=pub.batch_id, town=town, village=village)
    pg = page_of(page, count, page_size)
    rows = await repo.list_rows(
        session, batch_id=pub.batch_id, town=town, village=village, limit=pg.size, offset=pg.offset
    )
    return PublicationPage(
        publication=pub,
        lines=[DisclosedLine(**r) for r in rows],
        page=pg,
        filtered_count=count,
        filtered_amount_fen=amount,
        places=await repo.places(session, batch_id=pub.batch_id),
    )
