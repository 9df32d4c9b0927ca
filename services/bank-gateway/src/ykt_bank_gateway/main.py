"""The bank-gateway app: consumes payment.instructed, sends instructions to banks through their
adapters, takes signed result callbacks and emits payment.settled / payment.failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_bank_gateway

from .adapters.api.callbacks import router as callback_router
from .adapters.api.routes import router as api_router
from .adapters.api.verifications import router as verification_router
from .adapters.banks import build_verifiers
from .adapters.cache import VerificationCache
from .adapters.messaging.handlers import make_handlers
from .config import Settings
from .dispatcher import Dispatcher
from .verification import AccountVerifications

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
        routers=[api_router, verification_router, callback_router],
        handlers=make_handlers(settings, dispatcher),
        background=[dispatcher.run],
        title="ykt bank-gateway",
    )
    app.state.dispatcher = dispatcher
    app.state.cipher = settings.pii_cipher()
    kit_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with kit_lifespan(app):
            redis = Redis.from_url(settings.redis_url)
            # its own client: verification answers in the caller's request, sends run in the background
            timeout = httpx.Timeout(
                settings.verify_timeout_seconds, connect=min(10.0, settings.verify_timeout_seconds)
            )
            async with httpx.AsyncClient(timeout=timeout) as client:
                app.state.verifications = AccountVerifications(
                    settings,
                    verifiers=build_verifiers(settings, client),
                    cache=VerificationCache(redis, settings.redis_prefix),
                    cipher=app.state.cipher,
                )
                try:
                    yield
                finally:
                    await redis.aclose()

    app.router.lifespan_context = lifespan
    return app
