"""Rebuild the read model from the event stream: `python -m ykt_disclosure rebuild`.

The tables fed by events (rows, failures, expected totals, publications and the inbox) are
recreated empty in a scratch schema, every message of the consumed topics is replayed into them
from the beginning through the same handlers as the live consumer (emitting nothing), and the
operator records that events do not carry (withdrawals and corrections) are re-applied from the
live audit table. Publication ids and windows are the ones the service announced in
`disclosure.published` (read from that topic, and from the outbox for any not relayed yet), so
links on printed notices stay valid.

Then the rebuilt published lists are compared with the live ones (exit 1 on any difference);
with `--replace`, the rebuilt tables take the live ones' place in one transaction: the live
tables are locked (the running consumer waits), the messages that arrived meanwhile are
replayed, the tables are swapped, and the consumer carries on against the new tables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from ykt_contracts import EVENTS, DisclosurePublishedV1, Envelope
from ykt_kit import inbox, outbox
from ykt_kit.db import Database
from ykt_kit.messaging import EventContext, PermanentError, subscriptions_of
from ykt_kit.migrations import script_location, upgrade

from . import main as app_module
from .adapters.db import repository as repo
from .adapters.db.tables import EVENT_FED
from .adapters.messaging.handlers import CONSUMED, make_handlers
from .config import Settings
from .domain.publication import ChangeKind, KnownWindow
from .main import NAME, SCHEMA

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass
class RebuildContext(EventContext[Any]):
    """A handler's context during a rebuild: what it would emit is collected, not sent."""

    collected: list[BaseModel] = field(default_factory=list)

    async def emit(self, *payloads: BaseModel, correlation_id: str | None = None) -> None:
        self.collected.extend(payloads)


@dataclass
class Report:
    """What a rebuild did and found."""

    messages: int = 0
    processed: int = 0
    duplicates: int = 0
    skipped: int = 0  # unparseable or contradictory: the live consumer dead-lettered them
    publications: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)
    replaced: bool = False
    announced_late: int = 0

    def lines(self) -> list[str]:
        out = [
            f"messages replayed: {self.messages} (processed {self.processed}, duplicates "
            f"{self.duplicates}, skipped {self.skipped})",
            f"rebuilt: {self.publications} publications, {self.rows} rows",
            f"differences from the live lists: {len(self.differences)}",
        ]
        out += [f"  {d}" for d in self.differences[:50]]
        if self.replaced:
            out.append("live tables replaced by the rebuilt ones")
        return out


# ------------------------------------------------------------------ reading the topics


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    await consumer._client.set_topics(list(topics))  # a consumer without a subscription tracks none
    out = []
    for t in topics:
        parts = consumer.partitions_for_topic(t)
        if not parts:
            raise RuntimeError(f"topic {t} is not in the broker's metadata")
        out += [TopicPartition(t, p) for p in sorted(parts)]
    return out


class TopicReader:
    """Reads topics from the beginning up to an end offset per partition, no consumer group."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.consumer: AIOKafkaConsumer | None = None
        self.parts: list[TopicPartition] = []
        self.position: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> TopicReader:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await self.consumer.start()
        self.parts = await _partitions(self.consumer, self.topics)
        self.consumer.assign(self.parts)
        begin = await self.consumer.beginning_offsets(self.parts)
        self.position = {tp: int(begin[tp]) for tp in self.parts}
        for tp in self.parts:
            self.consumer.seek(tp, self.position[tp])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def end_offsets(self) -> dict[TopicPartition, int]:
        assert self.consumer is not None
        return {tp: int(o) for tp, o in (await self.consumer.end_offsets(self.parts)).items()}

    async def read_to(self, end: dict[TopicPartition, int]) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
        """Every message from the current position up to (not including) `end`."""
        assert self.consumer is not None
        while True:
            behind = [tp for tp in self.parts if self.position[tp] < end[tp]]
            if not behind:
                return
            fetched = await self.consumer.getmany(*behind, timeout_ms=1000, max_records=500)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= end[tp]:
                        break
                    self.position[tp] = record.offset + 1
                    yield record
            for tp in behind:
                # compacted or transaction-marker gaps: trust the consumer's position
                self.position[tp] = max(self.position[tp], min(end[tp], await self.consumer.position(tp)))


async def announced(settings: Settings, live: Database) -> dict[str, KnownWindow]:
    """Ids and windows of every publication the service announced: disclosure.published on its
    topic, then (for any the relay has not sent yet) in the outbox. The first one per batch wins."""
    known: dict[str, KnownWindow] = {}

    def take(body: bytes) -> None:
        try:
            payload = DisclosurePublishedV1.model_validate(Envelope.model_validate_json(body).payload)
        except ValidationError:
            return
        known.setdefault(
            payload.batch_id,
            KnownWindow(uuid.UUID(payload.publication_id), payload.window_start, payload.window_end),
        )

    async with TopicReader(settings.kafka_bootstrap, [EVENTS["disclosure.published"].topic]) as reader:
        async for record in reader.read_to(await reader.end_offsets()):
            if record.value:
                take(record.value)
    async with live.transaction() as s:
        rows = await s.execute(
            sa.select(outbox.OUTBOX.c.payload)
            .where(outbox.OUTBOX.c.topic == EVENTS["disclosure.published"].topic)
            .order_by(outbox.OUTBOX.c.id)
        )
        for (body,) in rows.all():
            take(bytes(body))
    return known


# ------------------------------------------------------------------ replaying


class Replayer:
    """Feeds raw messages to the service's handlers against the scratch schema."""

    def __init__(
        self, settings: Settings, db: Database, known: dict[str, KnownWindow], report: Report
    ) -> None:
        self.db = db
        self.report = report
        self.emitted: list[BaseModel] = []
        self.routes: dict[str, list[tuple[type[BaseModel], Any]]] = {}
        for event_type, _consumer, fn in subscriptions_of(make_handlers(settings, known=known)):
            spec = EVENTS[event_type]
            self.routes.setdefault(spec.topic, []).append((spec.model, fn))

    async def handle(self, topic: str, body: bytes | None) -> None:
        self.report.messages += 1
        try:
            env = Envelope.model_validate_json(body or b"")
        except ValidationError:
            self.report.skipped += 1
            return
        for model, fn in self.routes.get(topic, []):
            try:
                payload = model.model_validate(env.payload)
            except ValidationError:
                self.report.skipped += 1
                continue
            try:
                async with self.db.transaction() as session:
                    if not await inbox.claim(session, consumer=NAME, event_id=env.event_id, topic=topic):
                        self.report.duplicates += 1
                        continue
                    ctx = RebuildContext(session=session, envelope=env, payload=payload, service=NAME)
                    await fn(ctx)
            except PermanentError:
                self.report.skipped += 1
                continue
            self.emitted.extend(ctx.collected)
            self.report.processed += 1


async def _prepare(conn: AsyncConnection, scratch: str) -> None:
    """A scratch schema with empty copies of the event-fed tables (columns, defaults, checks,
    indexes) and of the public version counter the handlers bump."""
    await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE'))
    await conn.execute(sa.text(f'CREATE SCHEMA "{scratch}"'))
    for table in (*EVENT_FED, "public_version"):
        await conn.execute(
            sa.text(f'CREATE TABLE "{scratch}".{table} (LIKE "{SCHEMA}".{table} INCLUDING ALL)')
        )
    await conn.execute(
        sa.text(f'INSERT INTO "{scratch}".public_version SELECT * FROM "{SCHEMA}".public_version')
    )


async def _reapply_changes(live: Database, rebuilt: Database) -> None:
    """Withdrawals and corrections are operator records, not events: apply them again, in order."""
    async with live.transaction() as s:
        changes = await repo.all_changes(s)
    async with rebuilt.transaction() as s:
        for c in changes:
            if c.kind is ChangeKind.WITHDRAWAL:
                await repo.apply_withdrawal(s, publication_id=c.publication_id, at=c.at)
            else:
                await repo.apply_correction(
                    s, publication_id=c.publication_id, at=c.at, window_end=c.window_end_after
                )


# ------------------------------------------------------------------ comparing


_PUB_COLUMNS = (
    "publication_id, batch_id, program_code, period, unit_code, record_count, amount_fen, "
    "window_start, window_end, status, corrected_at, withdrawn_at"
)
_ROW_COLUMNS = (
    "record_id, town_code, village, name_masked, id_masked, amount_fen, settled_on, person_key, name_key"
)
_FAILED_COLUMNS = (
    "record_id, batch_id, person_key, program_code, period, amount_fen, reason_code, reason, failed_on"
)


async def published_lists(
    conn: AsyncConnection, schema: str, batch_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """Every publication of `schema` with its ordered rows, and every failed record (what the
    public channels and the personal query read)."""
    where = "WHERE batch_id = ANY(:b)" if batch_ids is not None else ""
    params = {"b": list(batch_ids)} if batch_ids is not None else {}
    pubs = (
        await conn.execute(
            sa.text(f'SELECT {_PUB_COLUMNS} FROM "{schema}".publications {where} ORDER BY batch_id'), params
        )
    ).all()
    out: dict[str, Any] = {"publications": {}, "failed": []}
    for p in pubs:
        rows = (
            await conn.execute(
                sa.text(
                    f'SELECT {_ROW_COLUMNS} FROM "{schema}".disclosed_records WHERE batch_id = :b '
                    "ORDER BY town_code, village, record_id"
                ),
                {"b": p.batch_id},
            )
        ).all()
        out["publications"][p.batch_id] = {"publication": tuple(p), "rows": [tuple(r) for r in rows]}
    out["failed"] = [
        tuple(r)
        for r in (
            await conn.execute(
                sa.text(
                    f'SELECT {_FAILED_COLUMNS} FROM "{schema}".failed_records {where} ORDER BY record_id'
                ),
                params,
            )
        ).all()
    ]
    return out


def differences(live: dict[str, Any], rebuilt: dict[str, Any]) -> list[str]:
    """Human-readable differences between two `published_lists` (no personal data in them)."""
    out = []
    lp, rp = live["publications"], rebuilt["publications"]
    for batch in sorted(set(lp) | set(rp)):
        if batch not in rp:
            out.append(f"batch {batch}: published live, not in the rebuild")
        elif batch not in lp:
            out.append(f"batch {batch}: in the rebuild, not published live")
        else:
            if lp[batch]["publication"] != rp[batch]["publication"]:
                out.append(f"batch {batch}: publication differs")
            if lp[batch]["rows"] != rp[batch]["rows"]:
                out.append(
                    f"batch {batch}: rows differ ({len(lp[batch]['rows'])} live, {len(rp[batch]['rows'])} rebuilt)"
                )
    if live["failed"] != rebuilt["failed"]:
        out.append(f"failed records differ ({len(live['failed'])} live, {len(rebuilt['failed'])} rebuilt)")
    return out


# ------------------------------------------------------------------ the command


async def run(
    settings: Settings,
    *,
    scratch: str = "disclosure_rebuild",
    replace: bool = False,
    batch_ids: Sequence[str] | None = None,
    keep: bool = False,
) -> Report:
    """Rebuild into `scratch`, compare with the live lists (only `batch_ids` when given) and,
    with `replace`, swap the rebuilt tables in. The scratch schema is dropped unless `keep`."""
    if not _IDENT.match(scratch) or scratch == SCHEMA:
        raise ValueError(f"invalid scratch schema name: {scratch!r}")
    await asyncio.to_thread(upgrade, settings.database_url, SCHEMA, script_location(app_module.__file__))
    live = Database(settings.sqlalchemy_url, SCHEMA, pool_size=2)
    rebuilt = Database(settings.sqlalchemy_url, scratch, pool_size=2)
    report = Report()
    try:
        async with live.engine.begin() as conn:
            await _prepare(conn, scratch)
        known = await announced(settings, live)
        replayer = Replayer(settings, rebuilt, known, report)
        topics = [EVENTS[t].topic for t in CONSUMED]
        async with TopicReader(settings.kafka_bootstrap, topics) as reader:
            async for record in reader.read_to(await reader.end_offsets()):
                await replayer.handle(record.topic, record.value)
            if replace:
                await _replace(live, rebuilt, scratch, reader, replayer, report)
            else:
                await _reapply_changes(live, rebuilt)
        async with live.engine.connect() as conn:
            target = SCHEMA if report.replaced else scratch
            mine = await published_lists(conn, target, batch_ids)
            report.publications = len(mine["publications"])
            report.rows = sum(len(p["rows"]) for p in mine["publications"].values())
            if not report.replaced:
                report.differences = differences(await published_lists(conn, SCHEMA, batch_ids), mine)
        return report
    finally:
        if not keep:
            async with live.engine.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE'))
        await rebuilt.dispose()
        await live.dispose()


async def _replace(
    live: Database, rebuilt: Database, scratch: str, reader: TopicReader, replayer: Replayer, report: Report
) -> None:
    """Swap the rebuilt tables in, in one transaction that first locks the live ones (the live
    consumer waits on them) and replays what arrived since the first pass."""
    async with live.transaction() as s:
        await s.execute(sa.text("LOCK TABLE " + ", ".join(EVENT_FED) + " IN ACCESS EXCLUSIVE MODE"))
        async for record in reader.read_to(await reader.end_offsets()):
            await replayer.handle(record.topic, record.value)
        await _reapply_changes(live, rebuilt)
        # announce publications the live service never made (their last message came while it
        # waited on the lock, and is now a duplicate for it)
        live_batches = set((await s.execute(sa.text("SELECT batch_id FROM publications"))).scalars().all())
        late = [
            e
            for e in replayer.emitted
            if isinstance(e, DisclosurePublishedV1) and e.batch_id not in live_batches
        ]
        for event in late:
            await outbox.add_events(s, [event], producer=NAME, correlation_id=event.batch_id)
        report.announced_late = len(late)
        for table in EVENT_FED:
            await s.execute(sa.text(f'DROP TABLE "{SCHEMA}".{table}'))
            await s.execute(sa.text(f'ALTER TABLE "{scratch}".{table} SET SCHEMA "{SCHEMA}"'))
        await repo.bump_public_version(s)
    report.replaced = True


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ykt_disclosure rebuild",
        description="Replay the consumed topics from the beginning into fresh tables and compare "
        "the rebuilt published lists with the live ones (exit 1 on a difference).",
    )
    parser.add_argument("--replace", action="store_true", help="swap the rebuilt tables in")
    parser.add_argument("--batch", action="append", dest="batches", help="compare only these batch ids")
    parser.add_argument("--schema", default="disclosure_rebuild", help="scratch schema (dropped afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema for inspection")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run(
        run(Settings(), scratch=args.schema, replace=args.replace, batch_ids=args.batches, keep=args.keep)
    )
    for line in report.lines():
        print(line)  # noqa: T201 - a command's report
    return 1 if report.differences else 0
