"""Which topic carries which event, who produces it and who consumes it: the catalogue the
AsyncAPI document is generated from and the services subscribe by."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel

from . import events as ev

DEAD_LETTER_TOPIC = "ykt.dead-letter"
PARTITIONS = 6
PARTITIONS_DEFAULT = PARTITIONS


@dataclass(frozen=True)
class EventSpec:
    """One event type: its payload model, version, topic, producer and consumers."""

    type: str
    version: int
    model: builtins.type[BaseModel]
    producer: str
    consumers: tuple[str, ...]
    summary: str

    @property
    def topic(self) -> str:
        return f"ykt.{self.type}"


EVENTS: dict[str, EventSpec] = {
    spec.type: spec
    for spec in (
        EventSpec(
            "batch.submitted",
            1,
            ev.BatchSubmittedV1,
            "registry",
            ("validation",),
            "A submission round of a batch, in chunks (step 1 提交数据).",
        ),
        EventSpec(
            "batch.validated",
            1,
            ev.BatchValidatedV1,
            "validation",
            ("registry", "payment"),
            "Per-record verdicts of a round, in chunks (step 2 验证数据).",
        ),
        EventSpec(
            "batch.sent",
            1,
            ev.BatchSentV1,
            "registry",
            ("payment",),
            "The unit sends its validated batch to finance and the bank (step 3 发送数据).",
        ),
        EventSpec(
            "batch.approved",
            1,
            ev.BatchApprovedV1,
            "payment",
            ("registry",),
            "Finance approved the batch (step 3 复核).",
        ),
        EventSpec(
            "batch.returned",
            1,
            ev.BatchReturnedV1,
            "payment",
            ("registry", "validation"),
            "Finance returned the batch with reasons (原渠道退回).",
        ),
        EventSpec(
            "batch.funded",
            1,
            ev.BatchFundedV1,
            "payment",
            ("registry",),
            "The treasury funded the agent banks' special accounts (step 4 发放资金).",
        ),
        EventSpec(
            "payment.instructed",
            1,
            ev.PaymentInstructedV1,
            "payment",
            ("bank-gateway",),
            "Credit instructions per agent bank, in chunks (step 4).",
        ),
        EventSpec(
            "payment.settled",
            1,
            ev.PaymentSettledV1,
            "bank-gateway",
            ("payment", "registry", "disclosure"),
            "Per-record successes reported by the bank (step 5 反馈信息).",
        ),
        EventSpec(
            "payment.failed",
            1,
            ev.PaymentFailedV1,
            "bank-gateway",
            ("payment", "registry", "validation", "disclosure"),
            "Per-record failures with the bank's reason (step 5).",
        ),
        EventSpec(
            "batch.completed",
            1,
            ev.BatchCompletedV1,
            "payment",
            ("registry", "disclosure"),
            "Every instructed record of the batch has a final result.",
        ),
        EventSpec(
            "disclosure.published",
            1,
            ev.DisclosurePublishedV1,
            "disclosure",
            ("registry",),
            "A masked list was published (step 6 公开公示).",
        ),
    )
}


def spec_for(model: type[BaseModel]) -> EventSpec:
    """The spec whose payload model is `model`."""
    for spec in EVENTS.values():
        if spec.model is model:
            return spec
    raise KeyError(model.__name__)


def all_topics() -> list[str]:
    """Every topic the platform uses, dead-letter included."""
    return [spec.topic for spec in EVENTS.values()] + [DEAD_LETTER_TOPIC]
