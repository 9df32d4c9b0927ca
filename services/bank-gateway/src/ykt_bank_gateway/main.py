"""The bank-gateway app: consumes payment.instructed, sends instructions to banks through their
adapters, takes signed result callbacks and emits payment.settled / payment.failed."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_bank_gateway

from .adapters.api.callbacks import router as callback_router
from .adapters.api.routes import router as api_router
from .adapters.messaging.handlers import make_handlers
from .config import Settings
from .dispatcher import Dispatcher

NAME = "bank-gateway"
SCHEMA = "bank_gateway"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the network until it starts."""
    settings = settings or Settings()
    dispatcher = Dispatcher(settings)
    app = create_service_app(
        name=NAME,
        schema=SCHEMA,
        settings=settings,
        migrations=script_location(ykt_bank_gateway.__file__),
        routers=[api_router, callback_router],
        handlers=make_handlers(settings, dispatcher),
        background=[dispatcher.run],
        title="ykt bank-gateway",
    )
    app.state.dispatcher = dispatcher
    app.state.cipher = settings.pii_cipher()
    return app
