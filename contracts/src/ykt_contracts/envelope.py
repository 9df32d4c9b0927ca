"""The envelope every event travels in, and the chunk/totals blocks that batch events share."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

#: No Kafka message produced by the platform may be larger than this (issue 2, DESIGN §3).
MAX_MESSAGE_BYTES = 256 * 1024

Fen = Annotated[int, Field(ge=0, description="Amount in fen (1/100 yuan); money is never a float.")]


class Contract(BaseModel):
    """Base of every contract model: strict, immutable, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Totals(Contract):
    """Control totals: a record count and an amount, declared and re-checked at every hand-off."""

    record_count: int = Field(ge=0, description="Number of records.")
    amount_fen: Fen


class ChunkInfo(Contract):
    """Position of one chunk within a batch that travels as numbered chunks."""

    index: int = Field(ge=0, description="0-based chunk number.")
    count: int = Field(ge=1, description="How many chunks this batch (or round) has in all.")
    totals: Totals = Field(description="Totals of the records in this chunk alone.")


class TraceContext(Contract):
    """W3C trace context carried inside the envelope as well as in the Kafka headers."""

    traceparent: str | None = None
    tracestate: str | None = None


class Envelope(Contract):
    """Common envelope: identity, type and version, time, correlation and causation, trace."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique id; consumers dedupe on it.")
    type: str = Field(description="Event type, e.g. `batch.submitted`.")
    version: int = Field(ge=1, description="Schema version of the payload.")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = Field(description="Correlation id: the batch id the event belongs to.")
    causation_id: uuid.UUID | None = Field(default=None, description="Event id that caused this one.")
    producer: str = Field(description="Service that produced the event.")
    trace: TraceContext = Field(default_factory=TraceContext)
    payload: Any = Field(description="The typed payload; see the event's own schema.")
