"""Registry service app: reference data, beneficiaries, batch intake and per-record status."""

from __future__ import annotations

from fastapi import FastAPI
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_registry

from . import metrics
from .adapters.api.beneficiary_routes import router as beneficiary_router
from .adapters.api.reference_routes import router as reference_router
from .adapters.api.routes import router
from .adapters.messaging.handlers import HANDLERS
from .config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        name="registry",
        schema="registry",
        settings=settings,
        migrations=script_location(ykt_registry.__file__),
        routers=[reference_router, beneficiary_router, router],
        handlers=HANDLERS,
        background=[metrics.batch_states_job],
        title="一卡通 registry",
    )
    app.state.cipher = settings.pii_cipher()
    return app
