"""The validation service's app: rules, the duplicate-enjoyment ledger and verdicts (step 2 验证数据)."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_validation

from .adapters.api.routes import router
from .adapters.messaging.handlers import HANDLERS
from .config import Settings

SERVICE = "validation"
SCHEMA = "validation"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the network until its lifespan starts."""
    return create_service_app(
        name=SERVICE,
        schema=SCHEMA,
        settings=settings or Settings(),
        migrations=script_location(ykt_validation.__file__),
        routers=[router],
        handlers=HANDLERS,
        title="ykt-validation 验证数据",
    )
