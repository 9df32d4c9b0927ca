"""Reading topics whole, republishing them, and waiting for consumer groups to catch up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from ykt_contracts import EVENTS, all_topics
from ykt_kit.testing import topic_partitions


@dataclass
class Message:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


async def read_all(bootstrap: str, topics: list[str] | None = None) -> list[Message]:
    """Every message now on `topics` (default: every platform topic), from the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topics or all_topics())
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: list[Message] = []
        remaining = {tp for tp in parts if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.offset < ends[tp]:
                        out.append(Message(tp.topic, m.key, m.value, list(m.headers)))
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def republish(bootstrap: str, messages: list[Message]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for m in messages:  # singly: see the note in ykt_kit.outbox
            await producer.send_and_wait(m.topic, m.value, key=m.key, headers=m.headers)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, all_topics())
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def wait_consumers_caught_up(bootstrap: str, timeout: float = 300.0) -> None:
    """Until every service's group has committed up to the end of every topic it consumes."""
    groups: dict[str, set[str]] = {}
    for spec in EVENTS.values():
        for service in spec.consumers:
            groups.setdefault(f"ykt-{service}", set()).add(spec.topic)
    # the committed offsets, read through a consumer of each group that never joins it
    probes = {
        g: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=g, enable_auto_commit=False) for g in groups
    }
    for probe in probes.values():
        await probe.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ends = await end_offsets(bootstrap)
            behind = []
            for group, topics in groups.items():
                for tp, end in ends.items():
                    if tp.topic in topics and end > 0:
                        committed = await probes[group].committed(tp) or 0
                        if committed < end:
                            behind.append(f"{group}:{tp.topic}[{tp.partition}] {committed}/{end}")
            if not behind:
                return
            if loop.time() > deadline:
                raise AssertionError(f"consumers still behind: {behind[:10]}")
            await asyncio.sleep(0.5)
    finally:
        for probe in probes.values():
            await probe.stop()
