"""Application factory of the bank simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import errors
from .api import router
from .config import Settings
from .service import BankSimulator


def create_app(settings: Settings | None = None) -> FastAPI:
    """The bank simulator: one process serving the account books and APIs of several banks."""
    settings = settings or Settings()
    simulator = BankSimulator(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await simulator.close()

    app = FastAPI(title="Bank simulator (一卡通代发银行模拟器)", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.simulator = simulator
    errors.install(app)
    app.include_router(router)
    return app
