"""The disclosure service's app: event consumers feeding the read model, public pages, the JSON
API, printable notices, the personal query and the operator routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

from .adapters.api import operator, pages, routes
from .adapters.cache import Store
from .adapters.messaging.handlers import make_handlers
from .config import Settings

NAME = "disclosure"
SCHEMA = "disclosure"

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the network until it starts."""
    settings = settings or Settings()
    app = create_service_app(
        name=NAME,
        schema=SCHEMA,
        settings=settings,
        migrations=script_location(__file__),  # main.py sits next to migrations/
        routers=[pages.router, routes.router, operator.router],
        handlers=make_handlers(settings),
        title="ykt-disclosure 公开公示",
    )
    app.state.cipher = settings.pii_cipher()
    kit_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with kit_lifespan(app):
            redis = Redis.from_url(settings.redis_url)
            app.state.store = Store(redis, settings.redis_prefix)
            if not settings.cjk_font_path.is_file():
                log.error(
                    "CJK font for the printed notices not found; PDF notices answer 503",
                    extra={"path": str(settings.cjk_font_path)},
                )
            try:
                yield
            finally:
                await redis.aclose()

    app.router.lifespan_context = lifespan
    return app
