"""The validation service's app: rules, the duplicate-enjoyment ledger, verdicts and the reference
registers (step 2 验证数据)."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_validation

from .adapters.api.register_routes import router as register_router
from .adapters.api.routes import router
from .adapters.messaging.handlers import HANDLERS
from .config import Settings

SERVICE = "validation"
SCHEMA = "validation"


def create_app(settings: Settings | None = None, *, messaging: bool = True) -> FastAPI:
    """Build the app; nothing touches the network until its lifespan starts. `messaging=False`
    serves HTTP only (no consumer: verdicts are not made, registers and reads work)."""
    settings = settings or Settings()
    app = create_service_app(
        name=SERVICE,
        schema=SCHEMA,
        settings=settings,
        migrations=script_location(ykt_validation.__file__),
        routers=[router, register_router],
        handlers=HANDLERS if messaging else [],
        title="ykt-validation 验证数据",
        messaging=messaging,
    )
    app.state.cipher = settings.pii_cipher()
    return app
