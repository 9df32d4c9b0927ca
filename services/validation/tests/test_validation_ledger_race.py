"""Two validators racing on two batches for the same person: the ledger's key lets only one pass.

The second validator's claim is made to wait on the first one's uncommitted claim (observed in
pg_stat_activity, not guessed with a sleep); what the first then does decides the second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import ykt_validation
from pydantic import BaseModel
from ykt_contracts.events import BatchSubmittedV1, BatchValidatedV1
from ykt_kit.db import Database
from ykt_kit.migrations import script_location, upgrade
from ykt_validation import service
from ykt_validation.config import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def db(database_url: str) -> AsyncIterator[Database]:
    settings = Settings(YKT_ENV="development", DATABASE_URL=database_url)
    await asyncio.to_thread(upgrade, database_url, "validation", script_location(ykt_validation.__file__))
    database = Database(settings.sqlalchemy_url, "validation")
    yield database
    await database.dispose()


class Collect:
    """Stands in for `EventContext.emit`: keeps what would go to the outbox."""

    def __init__(self) -> None:
        self.events: list[BaseModel] = []

    async def __call__(self, *payloads: BaseModel, correlation_id: str | None = None) -> None:
        self.events.extend(payloads)


async def _blocked_on_a_lock(db: Database, pid: int) -> None:
    """Return once backend `pid` waits for a lock (each check is a query, so the loop yields)."""
    while True:
        async with db.engine.connect() as conn:
            waiting = (
                await conn.execute(
                    sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
            ).scalar_one_or_none()
        if waiting == "Lock":
            return


async def _race(
    db: Database, a: BatchSubmittedV1, b: BatchSubmittedV1, *, first_commits: bool
) -> BatchValidatedV1:
    """Validate `a` and hold its transaction open; validate `b` until it waits; then end `a`."""
    b_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def second() -> BatchValidatedV1:
        async with db.transaction() as s:
            b_pid.set_result((await s.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
            return await service.validate_chunk(s, submitted=b, emit=Collect())

    class Abort(Exception):
        pass

    try:
        async with db.transaction() as s:
            out_a = await service.validate_chunk(s, submitted=a, emit=Collect())
            assert [v.outcome for v in out_a.verdicts] == ["pass"]
            task = asyncio.create_task(second())
            await asyncio.wait_for(_blocked_on_a_lock(db, await b_pid), 30)
            if not first_commits:
                raise Abort
    except Abort:
        pass
    return await asyncio.wait_for(task, 30)


async def test_the_second_of_two_racing_validators_is_rejected_when_the_first_commits(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    a = factory.submission([factory.record(person)], program_code="HM17", period="2025")
    b = factory.submission([factory.record(person)], program_code="HM17", period="2025")
    out_b = await _race(db, a, b, first_commits=True)
    assert [(v.outcome, v.code) for v in out_b.verdicts] == [("reject", "DUPLICATE_ENJOYMENT")]


async def test_the_second_of_two_racing_validators_claims_when_the_first_rolls_back(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    a = factory.submission([factory.record(person)], program_code="HM17", period="2024")
    b = factory.submission([factory.record(person)], program_code="HM17", period="2024")
    out_b = await _race(db, a, b, first_commits=False)
    assert [(v.outcome, v.code) for v in out_b.verdicts] == [("pass", "OK")]
    async with db.transaction() as s:
        holder = (
            await s.execute(
                sa.text(
                    "SELECT batch_id FROM enjoyment_ledger WHERE person_key = :k AND program_code = 'HM17' AND period = '2024'"
                ),
                {"k": a.records[0].person_key},
            )
        ).scalar_one()
    assert holder == b.batch_id


async def test_two_chunks_claiming_the_same_people_in_opposite_orders_do_not_deadlock(
    db: Database, factory: SimpleNamespace
) -> None:
    people = [factory.id_number() for _ in range(50)]
    a = factory.submission(
        [factory.record(p, seq=n) for n, p in enumerate(people, 1)], program_code="HM18", period="2025"
    )
    b = factory.submission(
        [factory.record(p, seq=n) for n, p in enumerate(reversed(people), 1)],
        program_code="HM18",
        period="2025",
    )

    async def run(submission: BatchSubmittedV1) -> BatchValidatedV1:
        async with db.transaction() as s:
            return await service.validate_chunk(s, submitted=submission, emit=Collect())

    out_a, out_b = await asyncio.gather(run(a), run(b))
    outcomes = [v.outcome for v in out_a.verdicts + out_b.verdicts]
    assert outcomes.count("pass") == 50
    assert outcomes.count("reject") == 50
