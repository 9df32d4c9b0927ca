"""Subscribers: validate at the edge, one service call each."""

from __future__ import annotations

import logging

from sqlalchemy import event
from ykt_contracts.events import PaymentInstructedV1
from ykt_kit.messaging import EventContext, Handler, PermanentError, subscription
from ykt_kit.metrics import RECORDS

from ... import service
from ...config import Settings
from ...dispatcher import Dispatcher
from ...domain.rules import InstructionsRejected

log = logging.getLogger(__name__)


def make_handlers(settings: Settings, dispatcher: Dispatcher) -> list[Handler]:
    """The service's subscribers, bound to its settings and dispatcher."""
    cipher = settings.pii_cipher()
    routable = set(settings.bank_adapters())

    @subscription("payment.instructed")
    async def on_payment_instructed(ctx: EventContext[PaymentInstructedV1]) -> None:
        payload = ctx.payload
        try:
            outcome = await service.record_instructed(ctx.session, payload, cipher=cipher)
        except InstructionsRejected as exc:
            raise PermanentError(str(exc)) from exc

        def committed(_session: object) -> None:
            RECORDS.labels(service.SERVICE, "instructed", "in").inc(outcome.inserted)
            if outcome.batch_complete:
                dispatcher.notify()

        # wake the dispatcher only once the rows are visible to its own transactions
        event.listen(ctx.session.sync_session, "after_commit", committed, once=True)
        if payload.bank_code not in routable:
            log.warning(
                "instructions stored for a bank no adapter serves; configure it to send them",
                extra={"bank": payload.bank_code, "batch_id": payload.batch_id},
            )

    return [on_payment_instructed]
