"""Event contracts of the 一卡通 platform."""

from .envelope import MAX_MESSAGE_BYTES, ChunkInfo, Envelope, Totals, TraceContext
from .events import *  # noqa: F403
from .events import MAX_RECORDS_PER_CHUNK
from .topics import DEAD_LETTER_TOPIC, EVENTS, PARTITIONS_DEFAULT, EventSpec, all_topics, spec_for

__all__ = [
    "DEAD_LETTER_TOPIC",
    "EVENTS",
    "MAX_MESSAGE_BYTES",
    "MAX_RECORDS_PER_CHUNK",
    "ChunkInfo",
    "Envelope",
    "EventSpec",
    "PARTITIONS_DEFAULT",
    "Totals",
    "TraceContext",
    "all_topics",
    "spec_for",
]
