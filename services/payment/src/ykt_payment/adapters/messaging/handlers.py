"""Subscribers: each validates at the edge (the bus does) and makes one service call."""

from __future__ import annotations

from typing import Any

from ykt_contracts.events import BatchSentV1, BatchValidatedV1, PaymentFailedV1, PaymentSettledV1
from ykt_kit.messaging import EventContext, Handler, subscription

from ...service import PaymentService


def build_handlers(service: PaymentService) -> list[Handler]:
    """The payment service's subscribers, bound to `service`."""

    @subscription("batch.validated")
    async def on_batch_validated(ctx: EventContext[Any]) -> None:
        payload: BatchValidatedV1 = ctx.payload
        await service.record_validated(ctx.session, payload)

    @subscription("batch.sent")
    async def on_batch_sent(ctx: EventContext[Any]) -> None:
        payload: BatchSentV1 = ctx.payload
        await service.record_sent(ctx.session, payload)

    @subscription("payment.settled")
    async def on_payment_settled(ctx: EventContext[Any]) -> None:
        payload: PaymentSettledV1 = ctx.payload
        await service.apply_settled(ctx.session, payload, emit=ctx.emit)

    @subscription("payment.failed")
    async def on_payment_failed(ctx: EventContext[Any]) -> None:
        payload: PaymentFailedV1 = ctx.payload
        await service.apply_failed(ctx.session, payload, emit=ctx.emit)

    return [on_batch_validated, on_batch_sent, on_payment_settled, on_payment_failed]
