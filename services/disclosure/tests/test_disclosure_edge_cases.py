"""Events in any order, redelivered, inconsistent or empty: still at most one publication."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import sqlalchemy as sa
from ykt_contracts import DisclosurePublishedV1, PaymentSettledV1, Totals
from ykt_disclosure import service
from ykt_kit.config import DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY
from ykt_kit.crypto import PiiCipher
from ykt_kit.testing import EventRecorder

INGEST = service.Ingest(cipher=PiiCipher.from_hex(DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY))


async def test_completed_before_settled_still_publishes_once(
    disclosure, batch_of: Callable, kafka_bootstrap: str
) -> None:
    batch = batch_of(12)
    async with EventRecorder(kafka_bootstrap, "disclosure.published") as rec:
        await disclosure.handled(batch.completed(), batch_id=batch.batch_id)
        assert await disclosure.published_count(batch.batch_id) == 0
        first, second = batch.settled(size=7)
        await disclosure.handled(first, batch_id=batch.batch_id)
        assert await disclosure.published_count(batch.batch_id) == 0  # 7 of 12 rows: not yet
        await disclosure.handled(second, batch_id=batch.batch_id)
        await rec.wait_for(
            lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
        )
    [env] = rec.of("disclosure.published", batch.batch_id)
    assert env.payload["totals"] == {"record_count": 12, "amount_fen": batch.amount_fen}
    assert await disclosure.published_count(batch.batch_id) == 1


async def test_redelivered_and_reissued_events_publish_once(
    disclosure, batch_of: Callable, kafka_bootstrap: str
) -> None:
    batch = batch_of(5)
    async with EventRecorder(kafka_bootstrap, "disclosure.published") as rec:
        payloads = [*batch.settled(), batch.completed()]
        originals = await disclosure.handled(*payloads, batch_id=batch.batch_id)
        await rec.wait_for(
            lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
        )

        # the same messages again (a producer crashed between publishing and marking its outbox)
        for payload, env in zip(payloads, originals, strict=True):
            [again] = await disclosure.publish(payload, batch_id=batch.batch_id, event_id=env.event_id)
            await disclosure.outcomes.wait([again], times=2)
            assert disclosure.outcomes.last(again) == "duplicate"

        # the same content under new event ids (an upstream re-emitted it): business keys hold
        await disclosure.handled(*batch.settled(), batch.completed(), batch_id=batch.batch_id)

    assert await disclosure.published_count(batch.batch_id) == 1
    assert len(rec.of("disclosure.published", batch.batch_id)) == 1
    assert (
        await disclosure.scalar(
            "SELECT count(*) FROM disclosed_records WHERE batch_id = :b", b=batch.batch_id
        )
        == 5
    )
    assert (
        await disclosure.scalar("SELECT count(*) FROM publications WHERE batch_id = :b", b=batch.batch_id)
        == 1
    )


async def test_batch_with_nothing_settled_publishes_nothing(disclosure, batch_of: Callable) -> None:
    batch = batch_of(0)
    [env] = await disclosure.handled(
        batch.completed(settled=Totals(record_count=0, amount_fen=0)), batch_id=batch.batch_id
    )
    assert disclosure.outcomes.last(env) == "processed"
    assert await disclosure.scalar("SELECT count(*) FROM expected WHERE batch_id = :b", b=batch.batch_id) == 1
    assert (
        await disclosure.scalar("SELECT count(*) FROM publications WHERE batch_id = :b", b=batch.batch_id)
        == 0
    )
    assert await disclosure.published_count(batch.batch_id) == 0


async def test_rows_that_disagree_with_the_settled_totals_are_not_published(
    disclosure, batch_of: Callable
) -> None:
    batch = batch_of(3)
    declared = Totals(record_count=3, amount_fen=batch.amount_fen + 1)
    await disclosure.handled(*batch.settled(), batch.completed(settled=declared), batch_id=batch.batch_id)
    assert (
        await disclosure.scalar(
            "SELECT count(*) FROM disclosed_records WHERE batch_id = :b", b=batch.batch_id
        )
        == 3
    )
    assert await disclosure.published_count(batch.batch_id) == 0


async def test_settled_message_whose_totals_contradict_its_records_is_dead_lettered(
    disclosure, batch_of: Callable
) -> None:
    batch = batch_of(2)
    [good] = batch.settled()
    bad = PaymentSettledV1(
        batch_id=batch.batch_id,
        bank_code="B001",
        totals=Totals(record_count=2, amount_fen=good.totals.amount_fen - 1),
        records=good.records,
    )
    [env] = await disclosure.handled(bad, batch_id=batch.batch_id)
    assert disclosure.outcomes.last(env) == "dead_lettered"
    assert (
        await disclosure.scalar(
            "SELECT count(*) FROM disclosed_records WHERE batch_id = :b", b=batch.batch_id
        )
        == 0
    )


async def test_unknown_publication_is_404_on_page_and_api(disclosure) -> None:
    for path in (
        "/public/publications/not-a-uuid",
        "/public/publications/00000000-0000-4000-8000-000000000000",
    ):
        r = await disclosure.client.get(path)
        assert r.status_code == 404
        assert "未找到该公示" in r.text
        assert 'lang="zh-CN"' in r.text
    r = await disclosure.client.get(
        "/api/public/v1/publications/00000000-0000-4000-8000-000000000000/records"
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "PUBLICATION_NOT_FOUND"


async def test_settled_and_completed_handled_at_the_same_moment_publish_once(
    disclosure, batch_of: Callable
) -> None:
    """The last rows and the totals are committed by two transactions at once: the second waits for
    the first's batch lock and then sees its rows, so the batch is not left unpublished."""
    batch = batch_of(3)
    [settled] = batch.settled()
    db = disclosure.app.state.db

    async def complete() -> list[DisclosurePublishedV1]:
        async with db.transaction() as s:
            return await service.record_completed(s, payload=batch.completed(), ingest=INGEST)

    async def completion_waits_for_the_lock() -> None:
        query = sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(:k, 0)"
        )
        params = {"k": "ykt-disclosure:" + batch.batch_id}
        async with db.engine.connect() as conn:
            # polls an observable condition (a waiter on this batch's lock); no timing is assumed
            while not (await conn.execute(query, params)).scalar_one():  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async with db.transaction() as s:
        assert await service.record_settled(s, payload=settled, ingest=INGEST) == []
        completion = asyncio.create_task(complete())
        await asyncio.wait_for(completion_waits_for_the_lock(), 30)
        assert not completion.done()
    [event] = await asyncio.wait_for(completion, 30)
    assert event.totals == Totals(record_count=3, amount_fen=batch.amount_fen)
    assert (
        await disclosure.scalar("SELECT count(*) FROM publications WHERE batch_id = :b", b=batch.batch_id)
        == 1
    )


async def test_rows_arriving_after_publication_do_not_republish(
    disclosure, batch_of: Callable, kafka_bootstrap: str
) -> None:
    batch = batch_of(4)
    late = batch_of(1)
    async with EventRecorder(kafka_bootstrap, "disclosure.published") as rec:
        await disclosure.publish(*batch.settled(), batch.completed(), batch_id=batch.batch_id)
        await rec.wait_for(
            lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
        )
    stray = late.settled()[0].model_copy(update={"batch_id": batch.batch_id})
    [env] = await disclosure.handled(stray, batch_id=batch.batch_id)
    assert disclosure.outcomes.last(env) == "processed"
    assert await disclosure.published_count(batch.batch_id) == 1
    assert (
        await disclosure.scalar("SELECT record_count FROM publications WHERE batch_id = :b", b=batch.batch_id)
        == 4
    )
