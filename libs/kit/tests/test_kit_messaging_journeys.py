"""The kit against the real broker and PostgreSQL: outbox → topic with trace context, inbox
dedupe, commit only after the transaction, retries without partial effects, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from ykt_contracts import DEAD_LETTER_TOPIC, BatchApprovedV1, BatchSentV1, Totals
from ykt_kit.config import KitSettings
from ykt_kit.messaging import EventContext, subscription
from ykt_kit.outbox import add_events
from ykt_kit.service import create_service_app
from ykt_kit.telemetry import add_span_processor
from ykt_kit.testing import EventRecorder, publish, running, topic_partitions

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parent / "kitsvc" / "migrations"
GATES: dict[str, asyncio.Event] = {}
FAILURES: dict[str, int] = {}
SPANS = InMemorySpanExporter()


def sent(batch_id: str) -> BatchSentV1:
    return BatchSentV1(
        batch_id=batch_id,
        unit_code="DEPT-CIVIL",
        program_code="HM10",
        period="2026-11",
        totals=Totals(record_count=1, amount_fen=100),
        sent_by="tester",
    )


@subscription("batch.sent")
async def on_sent(ctx: EventContext[Any]) -> None:
    bid = ctx.payload.batch_id
    await ctx.session.execute(
        sa.text(
            "INSERT INTO effects VALUES (:b, 1) ON CONFLICT (batch_id) DO UPDATE SET times = effects.times + 1"
        ),
        {"b": bid},
    )
    await ctx.emit(BatchApprovedV1(batch_id=bid, totals=ctx.payload.totals, approved_by="kit"))
    if bid in GATES:
        await GATES[bid].wait()
    if FAILURES.get(bid, 0) > 0:
        FAILURES[bid] -= 1
        raise RuntimeError("boom")  # after writing: the whole transaction must roll back


@pytest.fixture(scope="module")
async def app(database_url: str, kafka_bootstrap: str) -> AsyncIterator[FastAPI]:
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", database_url)
    mp.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    add_span_processor(SimpleSpanProcessor(SPANS))
    application = create_service_app(
        name="kittest", schema="kittest", settings=KitSettings(), migrations=MIGRATIONS, handlers=[on_sent]
    )
    async with running(application):
        yield application
    mp.undo()


async def times(app: FastAPI, bid: str) -> int | None:
    async with app.state.db.transaction() as s:
        return (
            await s.execute(sa.text("SELECT times FROM effects WHERE batch_id = :b"), {"b": bid})
        ).scalar()


async def test_event_written_with_state_reaches_its_topic_with_trace_context(
    app: FastAPI, kafka_bootstrap: str
) -> None:
    bid = str(uuid.uuid4())
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("http request") as span:
        async with app.state.db.transaction() as s:
            await add_events(s, [sent(bid)], producer="kittest", correlation_id=bid)
        trace_id = span.get_span_context().trace_id
    app.state.bus.relay.notify()
    async with EventRecorder(kafka_bootstrap, "batch.sent", "batch.approved") as rec:
        await rec.wait_for(lambda r: bool(r.of("batch.approved", bid)), what="the consumer's answer")
        env = rec.of("batch.sent", bid)[0]
    assert env.trace.traceparent is not None
    assert env.trace.traceparent.split("-")[1] == f"{trace_id:032x}"
    consumer_spans = [
        s
        for s in SPANS.get_finished_spans()
        if s.name == "ykt.batch.sent process" and s.attributes.get("ykt.batch_id") == bid
    ]
    assert consumer_spans and consumer_spans[0].context.trace_id == trace_id  # one trace across the hop


async def test_redelivered_event_has_no_second_effect(app: FastAPI, kafka_bootstrap: str) -> None:
    bid, eid = str(uuid.uuid4()), uuid.uuid4()
    async with EventRecorder(kafka_bootstrap, "batch.approved") as rec:
        for _ in range(3):
            await publish(kafka_bootstrap, sent(bid), correlation_id=bid, event_id=eid)
        await rec.wait_for(lambda r: bool(r.of("batch.approved", bid)))
        marker = str(uuid.uuid4())  # a later event on the same partition proves the copies were consumed
        await publish(kafka_bootstrap, sent(marker), correlation_id=bid)
        await rec.wait_for(lambda r: len(r.of("batch.approved", bid)) == 2)
    assert await times(app, bid) == 1
    assert await times(app, marker) == 1


async def test_failed_attempts_leave_nothing_behind_and_the_retry_succeeds(
    app: FastAPI, kafka_bootstrap: str
) -> None:
    bid = str(uuid.uuid4())
    FAILURES[bid] = 2
    async with EventRecorder(kafka_bootstrap, "batch.approved") as rec:
        await publish(kafka_bootstrap, sent(bid), correlation_id=bid)
        await rec.wait_for(lambda r: bool(r.of("batch.approved", bid)))
        await publish(kafka_bootstrap, sent(str(uuid.uuid4())), correlation_id=bid)
        await rec.wait_for(lambda r: len(r.of("batch.approved", bid)) == 2)
        assert len([e for e in rec.of("batch.approved", bid) if e.payload["batch_id"] == bid]) == 1
    assert await times(app, bid) == 1  # two rolled-back attempts wrote nothing


async def test_offset_is_committed_only_after_the_handler_commits(app: FastAPI, kafka_bootstrap: str) -> None:
    bid = str(uuid.uuid4())
    GATES[bid] = asyncio.Event()
    probe = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id="ykt-kittest", enable_auto_commit=False
    )
    await probe.start()
    try:
        parts = await topic_partitions(probe, ["ykt.batch.sent"])
        async with EventRecorder(kafka_bootstrap, "batch.sent") as rec:
            await publish(kafka_bootstrap, sent(bid), correlation_id=bid)
            await rec.wait_for(lambda r: bool(r.of("batch.sent", bid)))
        ends = await probe.end_offsets(parts)
        target = None
        for tp in parts:
            if ends[tp] > 0 and await _holds(kafka_bootstrap, tp, bid):
                target = tp
        assert target is not None
        # the handler is parked inside its transaction: nothing committed, offset not committed
        assert await times(app, bid) is None
        assert (await probe.committed(target) or 0) < ends[target]
        GATES[bid].set()
        async with EventRecorder(kafka_bootstrap, "batch.approved") as rec:
            await rec.wait_for(lambda r: bool(r.of("batch.approved", bid)))
        for _ in range(600):
            if (await probe.committed(target) or 0) >= ends[target]:
                break
            await asyncio.sleep(0.05)
        assert (await probe.committed(target) or 0) >= ends[target]
        assert await times(app, bid) == 1
    finally:
        GATES[bid].set()  # never leave the consumer parked, whatever failed
        GATES.pop(bid, None)
        await probe.stop()


async def _holds(bootstrap: str, tp: TopicPartition, bid: str) -> bool:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    try:
        c.assign([tp])
        await c.seek_to_beginning(tp)
        end = (await c.end_offsets([tp]))[tp]
        while await c.position(tp) < end:
            for msgs in (await c.getmany(tp, timeout_ms=500)).values():
                if any(bid.encode() in m.value for m in msgs):
                    return True
        return False
    finally:
        await c.stop()


async def test_unreadable_message_goes_to_dead_letter_and_the_next_one_is_processed(
    app: FastAPI, kafka_bootstrap: str
) -> None:
    bid = str(uuid.uuid4())
    poison_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            "ykt.batch.sent",
            b'{"not": "an envelope"}',
            key=bid.encode(),
            headers=[("poison-id", poison_id.encode())],
        )
    finally:
        await producer.stop()
    async with EventRecorder(kafka_bootstrap, "batch.approved") as rec:
        await publish(kafka_bootstrap, sent(bid), correlation_id=bid)
        await rec.wait_for(lambda r: bool(r.of("batch.approved", bid)))
    dlq = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await dlq.start()
    try:
        parts = await topic_partitions(dlq, [DEAD_LETTER_TOPIC])
        dlq.assign(parts)
        await dlq.seek_to_beginning(*parts)
        ends = await dlq.end_offsets(parts)
        found = []
        pending = {tp for tp in parts if ends[tp] > 0}
        while pending:
            for msgs in (await dlq.getmany(timeout_ms=500)).values():
                found += [
                    dict(m.headers) for m in msgs if dict(m.headers).get("poison-id") == poison_id.encode()
                ]
            pending = {tp for tp in pending if await dlq.position(tp) < ends[tp]}
    finally:
        await dlq.stop()
    assert len(found) == 1
    assert found[0]["ykt-dlq-original-topic"] == b"ykt.batch.sent"
    assert found[0]["ykt-dlq-consumer"] == b"ykt-kittest"
    assert found[0]["ykt-dlq-reason"].startswith(b"invalid message")
