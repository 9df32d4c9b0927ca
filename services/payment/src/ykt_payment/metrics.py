"""Payment's metrics: records and amounts by outcome (kit counters), batch transitions, batches
per status (sampled from the table). The helpers also note counts and statuses on the current span."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit.metrics import AMOUNT_FEN, RECORDS, run_every, sample_batch_states
from ykt_kit.telemetry import annotate

from .adapters.db.tables import BATCHES
from .domain.model import BatchStatus, Sums

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
        annotate(**{f"records.{outcome}": sums.record_count})


def transition(status: str) -> None:
    BATCH_TRANSITIONS.labels(status).inc()
    annotate(batch_status=str(status))


#: A completed batch has every bank result: its age in the status means nothing.
FINAL = frozenset({BatchStatus.COMPLETED.value})
SAMPLE_SECONDS = 15.0


async def sample(session: AsyncSession) -> dict[str, tuple[int, float]]:
    """Count batches per status (one GROUP BY) into ykt_batches / ykt_batch_oldest_seconds."""
    return await sample_batch_states(
        session, BATCHES, service=SERVICE, statuses=[s.value for s in BatchStatus], final=FINAL
    )


async def batch_states_job(app: FastAPI) -> None:
    """Background job for `create_service_app(background=...)`: sample every SAMPLE_SECONDS."""

    async def once() -> None:
        async with app.state.db.transaction() as session:
            await sample(session)

    await run_every(SAMPLE_SECONDS, once, what="payment batch states")
