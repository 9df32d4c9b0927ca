"""A registry app per test module, running against the session's database and broker, with
Dadukou's reference data loaded through the API as an administrator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers, running
from ykt_registry import seed
from ykt_registry.config import Settings
from ykt_registry.main import create_app


async def seed_reference(c: httpx.AsyncClient) -> None:
    """The whole Dadukou reference set, in dependency order, as the demo loads it."""
    admin = actor_headers(Settings().service_secret, Role.ADMIN, "FIN-500104", user="admin")
    r = await c.post(
        "/api/v1/divisions/import",
        content=seed.divisions_csv().encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    for path, body in (
        ("/api/v1/banks", seed.banks()),
        ("/api/v1/organisations", seed.organisations()),
        ("/api/v1/programs", seed.programs()),
        ("/api/v1/agency-agreements", seed.agreements()),
    ):
        r = await c.put(path, json=body, headers=admin)
        assert r.status_code == 200, (path, r.text)


@pytest.fixture(scope="module")
async def registry(
    database_url: str, redis_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    mp = pytest.MonkeyPatch()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "YKT_ENV": "development",
    }
    for k, v in env.items():
        mp.setenv(k, v)
    app = create_app(Settings())
    async with running(app) as c:
        await seed_reference(c)
        yield app, c
    mp.undo()
