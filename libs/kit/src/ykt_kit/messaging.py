"""Kafka consumers that commit the offset only after the handler's database transaction commits.

Each message is handled in one transaction that also claims its event id in the inbox, so a
redelivered message has no second effect. Messages that can never be processed (unparseable,
failing validation, or failing repeatedly) go to the dead-letter topic and are then acknowledged;
transient infrastructure failures are retried and finally nacked, so the message comes again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import DEAD_LETTER_TOPIC, EVENTS, Envelope

from . import inbox, outbox
from .db import Database
from .metrics import (
    DEAD_LETTERS,
    EVENT_HANDLE_SECONDS,
    EVENTS_CONSUMED,
    ConsumerLagSampler,
    observe_event_delivery,
)
from .telemetry import event_attributes, extract_context

log = logging.getLogger(__name__)
P = TypeVar("P", bound=BaseModel)


class PermanentError(Exception):
    """Raised by a handler for a message that no retry will ever make processable."""


@dataclass
class EventContext(Generic[P]):
    """What a handler gets: its transaction, the envelope and the typed payload."""

    session: AsyncSession
    envelope: Envelope
    payload: P
    service: str
    _emitted: list[int] = field(default_factory=list)

    async def emit(self, *payloads: BaseModel, correlation_id: str | None = None) -> None:
        """Write follow-up events to the outbox, caused by this one, in this transaction."""
        await outbox.add_events(
            self.session,
            list(payloads),
            producer=self.service,
            correlation_id=correlation_id or self.envelope.correlation_id,
            causation_id=self.envelope.event_id,
        )
        self._emitted.append(len(payloads))


Handler = Callable[[EventContext[Any]], Awaitable[None]]


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | TimeoutError)


class EventBus:
    """The service's Kafka side: FastStream subscribers, the outbox relay and the dead-letter path."""

    def __init__(self, *, service: str, bootstrap: str, db: Database, retries: int = 3) -> None:
        self.service = service
        self.db = db
        self.retries = retries
        self.bootstrap = bootstrap
        self.broker = KafkaBroker(bootstrap, client_id=f"ykt-{service}", logger=None)
        self.producer: AIOKafkaProducer = outbox.make_producer(bootstrap)
        self.relay = outbox.OutboxRelay(db, self.producer, service)
        self.tracer = trace.get_tracer(f"ykt.{service}.messaging")
        self._routes: dict[str, list[tuple[type[BaseModel], Handler, str]]] = {}
        self._lag_task: asyncio.Task[None] | None = None

    def subscribe(self, event_type: str, handler: Handler, *, consumer: str | None = None) -> None:
        """Consume `event_type` with `handler` (inbox name `consumer`, default the service name).

        All of a service's topics are read by ONE consumer in group `ykt-<service>`: one group
        join at start-up instead of one per topic, and one member per replica to rebalance.
        """
        spec = EVENTS[event_type]
        self._routes.setdefault(spec.topic, []).append((spec.model, handler, consumer or self.service))

    def _register_subscriber(self) -> None:
        if not self._routes:
            return

        async def _consume(msg: KafkaMessage) -> None:
            topic = msg.raw_message.topic  # type: ignore[union-attr]
            headers = dict(msg.headers or {})
            for model, handler, consumer in self._routes.get(topic, []):
                await self.handle_message(topic, model, msg.body, headers, handler=handler, consumer=consumer)

        _consume.__name__ = f"consume_{self.service.replace('-', '_')}"
        self.broker.subscriber(
            *self._routes,
            group_id=f"ykt-{self.service}",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            max_poll_interval_ms=600_000,
        )(_consume)

    async def handle_message(
        self,
        topic: str,
        model: type[BaseModel],
        body: bytes,
        headers: dict[str, str],
        *,
        handler: Handler,
        consumer: str,
    ) -> str:
        """Handle one raw message; returns the outcome (processed, duplicate, dead_lettered)."""
        parent = extract_context(headers)
        with self.tracer.start_as_current_span(
            f"{topic} process", context=parent, kind=SpanKind.CONSUMER
        ) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", topic)
            span.set_attribute("messaging.consumer.group.name", f"ykt-{self.service}")
            try:
                env = Envelope.model_validate_json(body)
                payload = model.model_validate(env.payload)
            except ValidationError as exc:
                await self.dead_letter(
                    topic, body, headers, consumer, f"invalid message: {exc.error_count()} errors"
                )
                return "dead_lettered"
            span.set_attribute("ykt.batch_id", env.correlation_id)
            span.set_attribute("ykt.event_type", env.type)
            span.set_attribute("ykt.event_id", str(env.event_id))
            span.set_attributes(event_attributes(env, payload))
            observe_event_delivery(self.service, topic, env.occurred_at)
            started = time.perf_counter()
            attempt = 0
            while True:
                attempt += 1
                try:
                    outcome = await self._in_transaction(topic, env, payload, handler, consumer)
                    break
                except PermanentError as exc:
                    await self.dead_letter(topic, body, headers, consumer, f"{type(exc).__name__}: {exc}")
                    return "dead_lettered"
                except Exception as exc:
                    transient = _is_transient(exc)
                    log.warning(
                        "handler failed",
                        extra={
                            "topic": topic,
                            "attempt": attempt,
                            "error": type(exc).__name__,
                            "transient": transient,
                        },
                        exc_info=not transient,
                    )
                    if attempt >= self.retries:
                        if transient:
                            raise  # nack: the message comes again once the infrastructure is back
                        await self.dead_letter(topic, body, headers, consumer, f"{type(exc).__name__}: {exc}")
                        return "dead_lettered"
                    await asyncio.sleep(0.2 * 2**attempt)
            EVENT_HANDLE_SECONDS.labels(self.service, topic).observe(time.perf_counter() - started)
            EVENTS_CONSUMED.labels(self.service, topic, outcome).inc()
            span.set_attribute("ykt.outcome", outcome)
            return outcome

    async def _in_transaction(
        self, topic: str, env: Envelope, payload: BaseModel, handler: Handler, consumer: str
    ) -> str:
        async with self.db.transaction() as session:
            if not await inbox.claim(session, consumer=consumer, event_id=env.event_id, topic=topic):
                return "duplicate"
            ctx: EventContext[Any] = EventContext(
                session=session, envelope=env, payload=payload, service=self.service
            )
            await handler(ctx)
        if ctx._emitted:
            self.relay.notify()
        return "processed"

    async def dead_letter(
        self, topic: str, body: bytes, headers: dict[str, str], consumer: str, reason: str
    ) -> None:
        """Park a message on the dead-letter topic with why and where it came from."""
        dl_headers = {k: v for k, v in headers.items() if isinstance(v, str)}
        dl_headers |= {
            "ykt-dlq-original-topic": topic,
            "ykt-dlq-consumer": f"ykt-{consumer}",
            "ykt-dlq-reason": reason[:500],
            "ykt-dlq-id": str(uuid.uuid4()),
        }
        await self.producer.send_and_wait(
            DEAD_LETTER_TOPIC, body[: 1024 * 1024], headers=[(k, v.encode()) for k, v in dl_headers.items()]
        )
        DEAD_LETTERS.labels(self.service, topic).inc()
        EVENTS_CONSUMED.labels(self.service, topic, "dead_lettered").inc()
        log.error("message dead-lettered", extra={"topic": topic, "reason": reason[:200]})

    async def start(self) -> None:
        self._register_subscriber()
        await self.producer.start()
        self.relay.start()
        await self.broker.start()
        if self._routes:
            sampler = ConsumerLagSampler(self.service, self.broker, self.bootstrap)
            self._lag_task = asyncio.create_task(sampler.run(), name=f"consumer-lag-{self.service}")

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            await asyncio.gather(self._lag_task, return_exceptions=True)
        await self.broker.stop()
        await self.relay.stop()
        await self.producer.stop()

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=3))


def subscription(event_type: str, *, consumer: str | None = None) -> Callable[[Handler], Handler]:
    """Mark a handler function for `event_type`; `ServiceApp` subscribes every marked handler."""

    def mark(fn: Handler) -> Handler:
        fn.__dict__.setdefault("_ykt_subscriptions", []).append((event_type, consumer))
        return fn

    return mark


def subscriptions_of(handlers: list[Handler]) -> list[tuple[str, str | None, Handler]]:
    out = []
    for fn in handlers:
        for event_type, consumer in fn.__dict__.get("_ykt_subscriptions", []):
            out.append((event_type, consumer, fn))
    return out


__all__ = ["EventBus", "EventContext", "PermanentError", "subscription", "subscriptions_of"]
