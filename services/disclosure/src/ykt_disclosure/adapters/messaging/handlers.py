"""Subscribers: each validates nothing itself (the bus did) and makes one service call."""

from __future__ import annotations

from typing import Any

from ykt_contracts import BatchCompletedV1, PaymentSettledV1
from ykt_kit.messaging import EventContext, Handler, subscription

from ... import service
from ...config import Settings


def make_handlers(settings: Settings) -> list[Handler]:
    """The service's subscribers, bound to its settings."""

    @subscription("payment.settled")
    async def on_payment_settled(ctx: EventContext[Any]) -> None:
        payload: PaymentSettledV1 = ctx.payload
        events = await service.record_settled(ctx.session, payload=payload, window_days=settings.window_days)
        if events:
            await ctx.emit(*events, correlation_id=payload.batch_id)

    @subscription("batch.completed")
    async def on_batch_completed(ctx: EventContext[Any]) -> None:
        payload: BatchCompletedV1 = ctx.payload
        events = await service.record_completed(
            ctx.session, payload=payload, window_days=settings.window_days
        )
        if events:
            await ctx.emit(*events, correlation_id=payload.batch_id)

    return [on_payment_settled, on_batch_completed]
