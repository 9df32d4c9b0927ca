"""Helpers for tests against the real broker: run an app's lifespan in-process, publish events
as another service would, and wait for the events a service emits (like GHGA's expect_events)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from ykt_contracts import EVENTS, Envelope, spec_for

from .actor import Actor, Role
from .messaging import EventBus
from .outbox import build_envelope


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (migrations, broker, relay) and give an HTTP client to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


def actor_headers(secret: str, role: Role, org: str, user: str = "tester") -> dict[str, str]:
    return Actor(user, role, org).headers(secret)


async def publish(
    bootstrap: str,
    *payloads: BaseModel,
    correlation_id: str,
    producer: str = "test",
    event_id: uuid.UUID | None = None,
) -> list[Envelope]:
    """Publish payloads to their topics, wrapped as the producing service would."""
    prod = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await prod.start()
    out = []
    try:
        for payload in payloads:
            env, headers = build_envelope(payload, producer=producer, correlation_id=correlation_id)
            if event_id is not None:
                env = env.model_copy(update={"event_id": event_id})
            await prod.send_and_wait(
                spec_for(type(payload)).topic,
                env.model_dump_json().encode(),
                key=correlation_id.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            out.append(env)
    finally:
        await prod.stop()
    return out


async def topic_partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Every partition of `topics`, with the consumer's metadata made to track them first.

    A consumer without a subscription tracks no topics, so its metadata may not list them."""
    await consumer._client.set_topics(topics)
    missing = [t for t in topics if not consumer.partitions_for_topic(t)]
    if missing:
        raise RuntimeError(f"topics not in the broker's metadata: {missing}")
    return [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]


class EventRecorder:
    """Reads topics from the beginning in the background; tests wait for what they expect."""

    def __init__(self, bootstrap: str, *event_types: str) -> None:
        self.bootstrap = bootstrap
        self.topics = [EVENTS[t].topic for t in event_types]
        self.events: list[tuple[str, Envelope, int]] = []
        self.unreadable = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> EventRecorder:
        # no consumer group: partitions assigned by hand, so there is no group join to wait for
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self._consumer.start()
        parts = await topic_partitions(self._consumer, self.topics)
        self._consumer.assign(parts)
        await self._consumer.seek_to_beginning(*parts)
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._task:
            self._task.cancel()
            with __import__("contextlib").suppress(asyncio.CancelledError):
                await self._task
        if self._consumer:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        async for msg in self._consumer:
            try:
                env = Envelope.model_validate_json(msg.value)
            except ValidationError:
                self.unreadable += 1  # e.g. a poison message another test put on the topic
                continue
            async with self._changed:
                self.events.append((env.type, env, len(msg.value)))
                self._changed.notify_all()

    def of(self, event_type: str, correlation_id: str | None = None) -> list[Envelope]:
        return [
            e
            for t, e, _ in self.events
            if t == event_type and (correlation_id is None or e.correlation_id == correlation_id)
        ]

    async def wait_for(
        self,
        predicate: Callable[[EventRecorder], bool],
        timeout: float = 60.0,
        what: str = "events",  # noqa: ASYNC109
    ) -> None:
        """Wait until `predicate(self)` holds (re-checked on every new event)."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError as exc:
            seen = sorted({t for t, _, _ in self.events})
            raise AssertionError(
                f"timed out waiting for {what}; saw types {seen}, {len(self.events)} events"
            ) from exc


class HandledEvents:
    """What the service's bus did with each event id (processed, duplicate, dead_lettered),
    recorded after the handler's transaction committed: tests wait on it instead of sleeping."""

    def __init__(self, bus: EventBus) -> None:
        self._handle = bus.handle_message
        self.seen: dict[uuid.UUID, list[str]] = defaultdict(list)
        self._changed = asyncio.Condition()
        bus.handle_message = self._observed  # type: ignore[method-assign]

    async def _observed(
        self, topic: str, model: type[BaseModel], body: bytes, headers: dict[str, str], **kw: Any
    ) -> str:
        outcome = await self._handle(topic, model, body, headers, **kw)
        try:
            event_id = Envelope.model_validate_json(body).event_id
        except ValidationError:
            return outcome
        async with self._changed:
            self.seen[event_id].append(outcome)
            self._changed.notify_all()
        return outcome

    async def wait(self, envelopes: Sequence[Envelope], *, times: int = 1, within: float = 60.0) -> list[str]:
        """Wait until each envelope's event id was handled `times` times; their last outcomes."""
        ids = [e.event_id for e in envelopes]

        def done() -> bool:
            return all(len(self.seen[i]) >= times for i in ids)

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(done)

        try:
            await asyncio.wait_for(_wait(), within)
        except TimeoutError as exc:
            raise AssertionError(f"events not handled: {[str(i) for i in ids if not done()]}") from exc
        return [self.seen[i][-1] for i in ids]
