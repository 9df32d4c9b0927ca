"""Subscribers: each validates nothing itself (the bus did) and makes one service call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ykt_contracts import BatchCompletedV1, PaymentFailedV1, PaymentSettledV1
from ykt_kit.messaging import EventContext, Handler, subscription

from ... import service
from ...config import Settings
from ...domain.publication import KnownWindow

#: The topics the read model is fed from (a rebuild replays exactly these).
CONSUMED = ("payment.settled", "payment.failed", "batch.completed")


def make_handlers(settings: Settings, *, known: Mapping[str, KnownWindow] | None = None) -> list[Handler]:
    """The service's subscribers, bound to its settings. `known`: for a rebuild, the publications
    the service already announced (their ids and windows are reused, not decided anew)."""
    ingest = service.Ingest(cipher=settings.pii_cipher(), policy=settings.window_policy(), known=known)

    @subscription("payment.settled")
    async def on_payment_settled(ctx: EventContext[Any]) -> None:
        payload: PaymentSettledV1 = ctx.payload
        events = await service.record_settled(ctx.session, payload=payload, ingest=ingest)
        if events:
            await ctx.emit(*events, correlation_id=payload.batch_id)

    @subscription("payment.failed")
    async def on_payment_failed(ctx: EventContext[Any]) -> None:
        payload: PaymentFailedV1 = ctx.payload
        await service.record_failed(ctx.session, payload=payload, occurred_at=ctx.envelope.occurred_at)

    @subscription("batch.completed")
    async def on_batch_completed(ctx: EventContext[Any]) -> None:
        payload: BatchCompletedV1 = ctx.payload
        events = await service.record_completed(ctx.session, payload=payload, ingest=ingest)
        if events:
            await ctx.emit(*events, correlation_id=payload.batch_id)

    return [on_payment_settled, on_payment_failed, on_batch_completed]
