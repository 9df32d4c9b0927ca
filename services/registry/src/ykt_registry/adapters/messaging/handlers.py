"""Thin subscribers: validate (done by the bus), make one service call."""

from __future__ import annotations

from typing import Any

from ykt_kit.messaging import EventContext, subscription

from ... import service
from ...domain.model import BatchStatus


@subscription("batch.validated")
async def on_validated(ctx: EventContext[Any]) -> None:
    await service.apply_verdicts(ctx.session, ctx.payload)


@subscription("batch.approved")
async def on_approved(ctx: EventContext[Any]) -> None:
    await service.mark_batch(
        ctx.session, ctx.payload.batch_id, BatchStatus.APPROVED, only_from=[BatchStatus.SENT]
    )


@subscription("batch.returned")
async def on_returned(ctx: EventContext[Any]) -> None:
    await service.apply_returned(ctx.session, ctx.payload)


@subscription("batch.funded")
async def on_funded(ctx: EventContext[Any]) -> None:
    await service.mark_batch(
        ctx.session, ctx.payload.batch_id, BatchStatus.FUNDED, only_from=[BatchStatus.APPROVED]
    )


@subscription("payment.settled")
async def on_settled(ctx: EventContext[Any]) -> None:
    await service.apply_settled(ctx.session, ctx.payload)


@subscription("payment.failed")
async def on_failed(ctx: EventContext[Any]) -> None:
    await service.apply_failed(ctx.session, ctx.payload)


@subscription("batch.completed")
async def on_completed(ctx: EventContext[Any]) -> None:
    await service.apply_completed(ctx.session, ctx.payload)


@subscription("disclosure.published")
async def on_published(ctx: EventContext[Any]) -> None:
    await service.apply_published(ctx.session, ctx.payload)


HANDLERS = [
    on_validated,
    on_approved,
    on_returned,
    on_funded,
    on_settled,
    on_failed,
    on_completed,
    on_published,
]
