"""The registry's own metrics: batches per status, sampled from its table (the kit's stage
counters `ykt_records_total` / `ykt_amount_fen_total` are counted where records move)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit.metrics import run_every, sample_batch_states

from .adapters.db.tables import BATCHES
from .domain.model import BatchStatus

SERVICE = "registry"
#: A disclosed batch has finished its journey: its age in the status means nothing.
FINAL = frozenset({BatchStatus.DISCLOSED.value})
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

    await run_every(SAMPLE_SECONDS, once, what="registry batch states")
