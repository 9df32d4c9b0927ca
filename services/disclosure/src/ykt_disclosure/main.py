"""The disclosure service's app: event consumers feeding the read model, public pages and API."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

from .adapters.api import pages, routes
from .adapters.messaging.handlers import make_handlers
from .config import Settings

NAME = "disclosure"
SCHEMA = "disclosure"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the network until it starts."""
    settings = settings or Settings()
    return create_service_app(
        name=NAME,
        schema=SCHEMA,
        settings=settings,
        migrations=script_location(__file__),  # main.py sits next to migrations/
        routers=[pages.router, routes.router],
        handlers=make_handlers(settings),
        title="ykt-disclosure 公开公示",
    )
