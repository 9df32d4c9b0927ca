"""Prometheus metrics shared by the kit; services add their own stage metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
