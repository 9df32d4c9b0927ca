"""The gateway app: the one operator-facing API with one OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request
from redis.asyncio import Redis
from ykt_kit.migrations import script_location
from ykt_kit.service import create_service_app

import ykt_gateway

from .adapters.api.routes import router
from .adapters.db import repository as repo
from .config import Settings
from .domain.users import DEMO_USERS, hash_password

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    async def startup(app: FastAPI) -> None:
        app.state.redis = Redis.from_url(settings.redis_url)
        app.state.http = httpx.AsyncClient(timeout=settings.upstream_timeout_seconds)
        if settings.seed_demo_users:
            rows = [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role.value,
                    "org_code": u.org_code,
                    "org_name": u.org_name,
                    "password_hash": hash_password(settings.demo_password),
                }
                for u in DEMO_USERS
            ]
            async with app.state.db.transaction() as s:
                await repo.ensure_users(s, rows)

    app = create_service_app(
        name="gateway",
        schema="gateway",
        settings=settings,
        migrations=script_location(ykt_gateway.__file__),
        routers=[router],
        title="惠民惠农财政补贴资金“一卡通”发放管理信息系统 — 业务接口",
        on_startup=startup,
        messaging=False,
    )
    app.description = (
        "Operator API of the 一卡通 platform. Log in at `POST /api/v1/auth/token`, then send "
        "`Authorization: Bearer <token>`. Every route states the roles it admits."
    )

    @app.middleware("http")
    async def audit(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        response = await call_next(request)
        if request.url.path.startswith("/api/") and request.url.path != "/api/v1/auth/token":
            actor = getattr(request.state, "actor", None)
            row = {
                "username": actor.user_id if actor else None,
                "role": actor.role.value if actor else None,
                "org_code": actor.org_code if actor else None,
                "method": request.method,
                "path": request.url.path[:300],
                "status": response.status_code,
                "outcome": "ok"
                if response.status_code < 400
                else ("denied" if response.status_code in (401, 403) else "error"),
            }
            try:
                async with request.app.state.db.transaction() as s:
                    await repo.audit(s, row)
            except Exception:
                log.exception("audit write failed")
        return response

    return app
