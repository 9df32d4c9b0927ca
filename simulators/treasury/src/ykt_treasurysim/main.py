"""Application factory of the treasury simulator."""

from __future__ import annotations

from fastapi import FastAPI

from . import errors
from .api import router
from .config import Settings
from .service import Treasury


def create_app(settings: Settings | None = None) -> FastAPI:
    """The treasury simulator: pays payment applications and issues vouchers, in memory."""
    settings = settings or Settings()
    app = FastAPI(title="Treasury simulator (国库集中支付模拟器)", version="1")
    app.state.settings = settings
    app.state.treasury = Treasury()
    errors.install(app)
    app.include_router(router)
    return app
