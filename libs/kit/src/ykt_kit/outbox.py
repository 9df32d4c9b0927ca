"""Transactional outbox: events are rows written in the same transaction as the state change;
the relay publishes pending rows to Kafka and marks them, so nothing is lost or half-sent."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import MAX_MESSAGE_BYTES, Envelope, TraceContext, spec_for

from .db import Database
from .metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from .telemetry import inject_headers

log = logging.getLogger(__name__)

_meta = sa.MetaData()
OUTBOX = sa.Table(
    "outbox",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.Uuid),
    sa.Column("topic", sa.Text),
    sa.Column("key", sa.Text),
    sa.Column("payload", sa.LargeBinary),
    sa.Column("headers", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)


class MessageTooLarge(Exception):
    """An event would exceed MAX_MESSAGE_BYTES; the caller must chunk it."""


def build_envelope(
    payload: BaseModel, *, producer: str, correlation_id: str, causation_id: uuid.UUID | None = None
) -> tuple[Envelope, dict[str, str]]:
    """Wrap `payload` in an envelope with the current trace context; return it and its headers."""
    spec = spec_for(type(payload))
    headers = inject_headers()
    env = Envelope(
        type=spec.type,
        version=spec.version,
        correlation_id=correlation_id,
        causation_id=causation_id,
        producer=producer,
        trace=TraceContext(traceparent=headers.get("traceparent"), tracestate=headers.get("tracestate")),
        payload=payload,
    )
    headers |= {
        "ykt-event-type": spec.type,
        "ykt-event-version": str(spec.version),
        "ykt-event-id": str(env.event_id),
    }
    return env, headers


async def add_events(
    session: AsyncSession,
    payloads: Sequence[BaseModel],
    *,
    producer: str,
    correlation_id: str,
    causation_id: uuid.UUID | None = None,
    key: str | None = None,
) -> list[uuid.UUID]:
    """Write events to the outbox in the caller's transaction (one multi-row insert)."""
    rows = outbox_rows(
        payloads, producer=producer, correlation_id=correlation_id, causation_id=causation_id, key=key
    )
    if rows:
        await session.execute(sa.insert(OUTBOX), rows)
    return [r["event_id"] for r in rows]


def outbox_rows(
    payloads: Sequence[BaseModel],
    *,
    producer: str,
    correlation_id: str,
    causation_id: uuid.UUID | None = None,
    key: str | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of `payloads` (envelope built, size checked), ready to insert; no I/O, so
    a caller with many events can build them in a worker thread and insert them in groups."""
    rows: list[dict[str, Any]] = []
    for payload in payloads:
        env, headers = build_envelope(
            payload, producer=producer, correlation_id=correlation_id, causation_id=causation_id
        )
        body = env.model_dump_json().encode()
        if len(body) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(f"{env.type} is {len(body)} bytes")
        rows.append(
            {
                "event_id": env.event_id,
                "topic": spec_for(type(payload)).topic,
                "key": key or correlation_id,
                "payload": body,
                "headers": headers,
            }
        )
    return rows


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_request_size=MAX_MESSAGE_BYTES * 4,
        request_timeout_ms=30000,
    )


class OutboxRelay:
    """Publishes pending outbox rows in id order; wakes on `notify()` or every `interval` s."""

    def __init__(
        self, db: Database, producer: AIOKafkaProducer, service: str, *, interval: float = 0.2
    ) -> None:
        self.db = db
        self.producer = producer
        self.service = service
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        self._wake.set()

    async def publish_pending(self, limit: int = 500) -> int:
        """One pass: publish up to `limit` rows and mark them; returns how many."""
        async with self.db.transaction() as s:
            rows = (
                await s.execute(
                    sa.select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.payload, OUTBOX.c.headers)
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # One record per produce request, in id order. The embedded broker (Tansu) reports
            # offsets of multi-record batches wrongly and can lose records when a fetch starts
            # inside one; chunked events are few and large, so sending them singly costs little.
            for row in rows:
                headers = [(k, str(v).encode()) for k, v in (row.headers or {}).items()]
                await self.producer.send_and_wait(
                    row.topic, row.payload, key=(row.key or "").encode() or None, headers=headers
                )
            await s.execute(
                sa.update(OUTBOX)
                .where(OUTBOX.c.id.in_([r.id for r in rows]))
                .values(published_at=sa.func.now())
            )
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row.topic).inc()
        return len(rows)

    async def backlog(self) -> int:
        async with self.db.transaction() as s:
            n = (
                await s.execute(sa.select(sa.func.count()).where(OUTBOX.c.published_at.is_(None)))
            ).scalar_one()
        OUTBOX_BACKLOG.labels(self.service).set(n)
        return int(n)

    async def run(self) -> None:
        while True:
            try:
                n = await self.publish_pending()
                if n:
                    continue
                await self.backlog()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def pending_count(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(sa.select(sa.func.count()).where(OUTBOX.c.published_at.is_(None)))
        ).scalar_one()
    )


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)
