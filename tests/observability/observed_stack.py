"""What the observability tests share: the /metrics pages scraped, the cycle's journey, and the
broker's view (topic sizes, consumer groups caught up)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families
from ykt_contracts import EVENTS, all_topics
from ykt_devstack.demo import Report
from ykt_devstack.stack import Stack
from ykt_kit.testing import topic_partitions

SERVICES = ("gateway", "registry", "validation", "payment", "bank-gateway", "disclosure")
PEOPLE = 260  # as tests/e2e: 201 submitted, 200 sent, 195 paid first time, 5 failed and re-issued


class Scrape:
    """One /metrics page: samples by name and labels."""

    def __init__(self, text: str) -> None:
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels`."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and want <= ls)

    def series(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(dict(ls), v) for (n, ls), v in self.samples.items() if n == name]


def scrape(stack: Stack, service: str) -> Scrape:
    r = httpx.get(stack.urls[service] + "/metrics", timeout=30)
    r.raise_for_status()
    return Scrape(r.text)


@dataclass
class Journey:
    """What one cycle did, as the operators saw it and as the metrics and the broker saw it."""

    report: Report
    before: dict[str, Scrape]
    after: dict[str, Scrape]
    messages: Counter[str]  # messages the cycle put on each topic

    def delta(self, service: str, name: str, **labels: str) -> float:
        return self.after[service].total(name, **labels) - self.before[service].total(name, **labels)


async def topic_sizes(bootstrap: str) -> Counter[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, all_topics())
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    sizes: Counter[str] = Counter()
    for tp, end in ends.items():
        sizes[tp.topic] += end
    return sizes


async def wait_consumers_caught_up(bootstrap: str, timeout: float = 300.0) -> None:
    """Until every service's group has committed the end of every partition it consumes."""
    groups: dict[str, set[str]] = {}
    for spec in EVENTS.values():
        for service in spec.consumers:
            groups.setdefault(f"ykt-{service}", set()).add(spec.topic)
    probes = {
        g: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=g, enable_auto_commit=False) for g in groups
    }
    for probe in probes.values():
        await probe.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            probe = next(iter(probes.values()))
            parts = await topic_partitions(probe, all_topics())
            ends = await probe.end_offsets(parts)
            behind = []
            for group, topics in groups.items():
                for tp, end in ends.items():
                    if tp.topic in topics and end > 0 and (await probes[group].committed(tp) or 0) < end:
                        behind.append(f"{group}:{tp.topic}[{tp.partition}]")
            if not behind:
                return
            if loop.time() > deadline:
                raise AssertionError(f"consumers still behind: {behind[:10]}")
            await asyncio.sleep(0.5)  # polling the committed offsets, with the deadline above
    finally:
        for probe in probes.values():
            await probe.stop()
