"""Prometheus metrics shared by the kit; services add their own stage metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

EVENTS_CONSUMED = Counter(
    "ykt_events_consumed_total",
    "Events taken from Kafka, by topic and outcome (processed, duplicate, dead_lettered).",
    ["service", "topic", "outcome"],
)
EVENT_HANDLE_SECONDS = Histogram(
    "ykt_event_handle_seconds", "Time to handle one event, commit included.", ["service", "topic"]
)
EVENTS_PUBLISHED = Counter(
    "ykt_events_published_total", "Events the outbox relay published, by topic.", ["service", "topic"]
)
OUTBOX_BACKLOG = Gauge("ykt_outbox_backlog", "Outbox rows not yet published.", ["service"])
DEAD_LETTERS = Counter(
    "ykt_dead_letters_total", "Messages sent to the dead-letter topic, by source topic.", ["service", "topic"]
)
RECORDS = Counter(
    "ykt_records_total",
    "Records passing a stage, by stage and outcome (in, passed, rejected, settled, failed ...).",
    ["service", "stage", "outcome"],
)
AMOUNT_FEN = Counter(
    "ykt_amount_fen_total",
    "Amounts in fen passing a stage, by stage and outcome.",
    ["service", "stage", "outcome"],
)

# --- gauges sampled in the background (see the samplers below) ----------------------------------

CONSUMER_LAG = Gauge(
    "ykt_consumer_lag",
    "Messages of a partition after the service's consumer position (end offset minus position), "
    "per partition assigned to this replica.",
    ["service", "topic", "partition"],
)
BATCHES = Gauge(
    "ykt_batches",
    "Batches in each status, counted by the service that owns the status.",
    ["service", "status"],
)
BATCH_OLDEST_SECONDS = Gauge(
    "ykt_batch_oldest_seconds",
    "Seconds since the least recently changed batch in a status last changed (0 when none is in it); "
    "not reported for final statuses.",
    ["service", "status"],
)
EVENT_DELIVERY_SECONDS = Histogram(
    "ykt_event_delivery_seconds",
    "From an event's creation (its outbox write) to the start of its handling here: outbox, relay, "
    "broker and consumer queue.",
    ["service", "topic"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


def observe_event_delivery(service: str, topic: str, occurred_at: datetime) -> None:
    """Count one event's delivery time (clock skew between hosts can make it slightly off)."""
    seconds = (datetime.now(UTC) - occurred_at).total_seconds()
    EVENT_DELIVERY_SECONDS.labels(service, topic).observe(max(0.0, seconds))


class ConsumerLagSampler:
    """Sets `ykt_consumer_lag` for the partitions assigned to the service's own consumers.

    Positions are read from the consumers' local state only (no request, no await on them), and
    the end offsets come from one ListOffsets request of the sampler's OWN group-less consumer, so
    sampling never touches the connections, fetcher or coordinator of the consumers that do the
    work. Partitions without a known position yet are left out until they have one; partitions
    moved to another replica drop their series."""

    def __init__(self, service: str, broker: Any, bootstrap: str | None = None) -> None:
        self.service = service
        self.broker = broker  # a FastStream broker: its subscribers' aiokafka consumers are read
        self.bootstrap = bootstrap
        self._probe: AIOKafkaConsumer | None = None
        self._reported: set[tuple[str, str]] = set()

    def _consumers(self) -> list[AIOKafkaConsumer]:
        found = []
        for sub in getattr(self.broker, "subscribers", []):
            consumer = getattr(sub, "consumer", None)
            if isinstance(consumer, AIOKafkaConsumer):
                found.append(consumer)
        return found

    @staticmethod
    def _positions(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        """Known positions of the consumer's assigned partitions, read without any I/O."""
        out: dict[TopicPartition, int] = {}
        subscription = getattr(consumer._subscription, "subscription", None)  # noqa: SLF001
        assignment = getattr(subscription, "assignment", None)
        if assignment is None:
            return out
        for tp in list(assignment.tps):
            state = assignment.state_value(tp)
            if state is not None and state.has_valid_position:
                out[tp] = int(state.position)
        return out

    async def _end_offsets(
        self, parts: list[TopicPartition], fallback: AIOKafkaConsumer
    ) -> dict[TopicPartition, int]:
        if self.bootstrap is None:  # tests hand in a consumer of their own: ask it
            return dict(await fallback.end_offsets(parts))
        if self._probe is None:
            probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
            await probe.start()
            self._probe = probe
        return dict(await asyncio.wait_for(self._probe.end_offsets(parts), timeout=10))

    async def sample(self) -> dict[TopicPartition, int]:
        """One sample: lag per assigned partition with a known position (also set on the gauge)."""
        lag: dict[TopicPartition, int] = {}
        for consumer in self._consumers():
            positions = self._positions(consumer)
            if not positions:
                continue
            ends = await self._end_offsets(sorted(positions), consumer)
            for tp, position in positions.items():
                if tp in ends:
                    lag[tp] = max(0, ends[tp] - position)
        seen = set()
        for tp, n in lag.items():
            key = (tp.topic, str(tp.partition))
            CONSUMER_LAG.labels(self.service, *key).set(n)
            seen.add(key)
        for key in self._reported - seen:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.service, *key)
        self._reported = seen
        return lag

    async def close(self) -> None:
        if self._probe is not None:
            probe, self._probe = self._probe, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(probe.stop(), timeout=10)

    async def run(self, every: float = 10.0) -> None:
        """Sample every `every` seconds until cancelled."""
        try:
            await run_every(every, self.sample, what="consumer lag")
        finally:
            await self.close()


async def sample_batch_states(
    session: AsyncSession,
    table: sa.Table,
    *,
    service: str,
    statuses: Iterable[str],
    final: Iterable[str] = (),
) -> dict[str, tuple[int, float]]:
    """One GROUP BY over the service's batches: (count, seconds since the oldest last change) per
    status, set on `ykt_batches` and `ykt_batch_oldest_seconds`. Statuses without batches read 0."""
    age = sa.func.extract("epoch", sa.func.now() - sa.func.min(table.c.updated_at))
    rows = (
        await session.execute(sa.select(table.c.status, sa.func.count(), age).group_by(table.c.status))
    ).all()
    found = {str(status): (int(count), float(seconds or 0)) for status, count, seconds in rows}
    known = list(statuses)
    final_set = set(final)
    out = {}
    for status in [*known, *(s for s in found if s not in known)]:
        count, seconds = found.get(status, (0, 0.0))
        out[status] = (count, seconds)
        BATCHES.labels(service, status).set(count)
        if status not in final_set:
            BATCH_OLDEST_SECONDS.labels(service, status).set(seconds)
    return out


async def run_every(every: float, sample: Callable[[], Awaitable[Any]], *, what: str) -> None:
    """Call `sample` every `every` seconds until cancelled; a failed sample is logged and retried."""
    while True:
        try:
            await sample()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("metrics sample failed", extra={"what": what, "error": type(exc).__name__})
        await asyncio.sleep(every)  # the sampling period, not a wait for anything


# --- HTTP (observed by the kit's request middleware; /metrics and /health are not counted) -------

HTTP_REQUESTS = Counter(
    "ykt_http_requests_total",
    "HTTP requests served, by route template (never the raw path) and status code.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "ykt_http_request_seconds",
    "Time to serve one HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def observe_http(service: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count one served request under its route template ("unmatched" when no route took it)."""
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(service, method, route).observe(seconds)
