"""Subscribers: each validates at the edge (the bus parses the payload) and makes one service call."""

from __future__ import annotations

from ykt_contracts.events import BatchReturnedV1, BatchSubmittedV1, PaymentFailedV1
from ykt_kit.messaging import EventContext, Handler, subscription

from ... import service


@subscription("batch.submitted")
async def on_batch_submitted(ctx: EventContext[BatchSubmittedV1]) -> None:
    """Validate one chunk of a submission round and emit its `batch.validated`."""
    await service.validate_chunk(ctx.session, submitted=ctx.payload, emit=ctx.emit)


@subscription("payment.failed")
async def on_payment_failed(ctx: EventContext[PaymentFailedV1]) -> None:
    """Release the duplicate-enjoyment claims of records the bank could not pay."""
    await service.release_failed_payments(ctx.session, failed=ctx.payload)


@subscription("batch.returned")
async def on_batch_returned(ctx: EventContext[BatchReturnedV1]) -> None:
    """Release the duplicate-enjoyment claims of a batch finance returned."""
    await service.release_returned_batch(ctx.session, returned=ctx.payload)


HANDLERS: list[Handler] = [on_batch_submitted, on_payment_failed, on_batch_returned]
