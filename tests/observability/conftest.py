"""One platform (every service as a process, a real broker) exporting its traces to a receiver in
the test, and one disbursement cycle through it; the metrics of every service are scraped before
and after the cycle."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ykt_devstack.demo import run_cycle
from ykt_devstack.stack import Stack

# the helpers live beside the tests; --import-mode=importlib does not put this folder on sys.path
sys.path.insert(0, str(Path(__file__).resolve().parent))

from observed_stack import PEOPLE, SERVICES, Journey, scrape, topic_sizes, wait_consumers_caught_up  # noqa: E402
from otlp_receiver import OtlpReceiver  # noqa: E402


@pytest.fixture(scope="package")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver) -> Iterator[Stack]:
    s = Stack(
        tmp_path_factory.mktemp("observed-stack"),
        extra_env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # export every 0.2 s rather than every 5 s
        },
    )
    try:
        s.start(database=f"ykt_obs_{uuid.uuid4().hex[:8]}", fixed_ports=False)
    except BaseException:
        s.stop()
        for log in sorted(s.log_dir.glob("*.log")):
            print(f"----- {log.name}\n{log.read_text(errors='replace')[-3000:]}")  # noqa: T201
        raise
    yield s
    s.stop()


@pytest.fixture(scope="package")
def journey(stack: Stack) -> Journey:
    before = {name: scrape(stack, name) for name in SERVICES}
    sizes_before = asyncio.run(topic_sizes(stack.bootstrap))
    report = run_cycle(stack.urls["gateway"], stack.urls["bank-sim"], stack.urls["disclosure"], people=PEOPLE)
    asyncio.run(wait_consumers_caught_up(stack.bootstrap))
    messages = asyncio.run(topic_sizes(stack.bootstrap))
    messages.subtract(sizes_before)
    after = {name: scrape(stack, name) for name in SERVICES}
    return Journey(report, before, after, messages)
