"""The payment service's app: routes, subscribers, migrations, outbox relay."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_payment

from . import metrics
from .adapters.api.routes import router
from .adapters.messaging.handlers import build_handlers
from .adapters.treasury import HttpTreasury, Treasury
from .config import Settings
from .service import SERVICE, PaymentService


def create_app(settings: Settings | None = None, *, treasury: Treasury | None = None) -> FastAPI:
    """Build the app; `treasury` replaces the HTTP treasury client (e.g. in tests)."""
    settings = settings or Settings()
    service = PaymentService(
        settings=settings,
        cipher=settings.pii_cipher(),
        treasury=treasury or HttpTreasury(settings.treasury_url, timeout_s=settings.treasury_timeout_s),
    )
    app = create_service_app(
        name=SERVICE,
        schema="payment",
        settings=settings,
        migrations=script_location(ykt_payment.__file__),
        routers=[router],
        handlers=build_handlers(service),
        background=[metrics.batch_states_job],
        title="ykt-payment",
    )
    app.state.payment = service
    return app
