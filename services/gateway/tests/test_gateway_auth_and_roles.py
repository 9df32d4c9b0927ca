"""The gateway authenticates bearer tokens, checks every route's roles, and audits every call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute
from ykt_gateway.config import DEV_DEMO_PASSWORD, Settings
from ykt_gateway.main import create_app
from ykt_kit.actor import Role
from ykt_kit.testing import running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def gw(database_url: str, redis_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", database_url)
    mp.setenv("REDIS_URL", redis_url)
    mp.setenv("GATEWAY_REDIS_PREFIX", f"ykt:gwtest:{uuid.uuid4().hex[:8]}:")  # no state from earlier runs
    # upstream services are not running here: allowed calls end in 503, denied ones never leave
    mp.setenv("GATEWAY_REGISTRY_URL", "http://127.0.0.1:9")
    mp.setenv("GATEWAY_PAYMENT_URL", "http://127.0.0.1:9")
    app = create_app(Settings())
    async with running(app) as client:
        yield app, client
    mp.undo()


async def login(client: httpx.AsyncClient, user: str, password: str = DEV_DEMO_PASSWORD) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def test_demo_users_of_every_role_can_log_in(gw: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = gw
    for user, role in [
        ("admin", "admin"),
        ("finance", "finance"),
        ("civil", "department"),
        ("town-xsc", "town"),
        ("bank-cqrcb", "bank"),
        ("audit", "supervisor"),
    ]:
        h = await login(client, user)
        me = (await client.get("/api/v1/me", headers=h)).json()
        assert me["role"] == role


async def test_no_token_bad_token_and_logged_out_token_are_refused(
    gw: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = gw
    assert (await client.get("/api/v1/me")).json()["error"]["code"] == "TOKEN_MISSING"
    r = await client.get("/api/v1/me", headers={"authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_INVALID"
    h = await login(client, "civil")
    assert (await client.post("/api/v1/auth/logout", headers=h)).status_code == 204
    assert (await client.get("/api/v1/me", headers=h)).status_code == 401


async def test_repeated_wrong_passwords_lock_the_account(gw: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = gw
    for _ in range(5):
        r = await client.post("/api/v1/auth/token", json={"username": "agri", "password": "wrong"})
        assert r.status_code == 401 and r.json()["error"]["message"] == "用户名或密码错误"
    r = await client.post("/api/v1/auth/token", json={"username": "agri", "password": DEV_DEMO_PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "ACCOUNT_LOCKED"


@pytest.mark.parametrize(
    ("user", "method", "path"),
    [
        ("finance", "POST", "/api/v1/batches"),
        ("finance", "POST", "/api/v1/batches/b/records/r/correction"),
        ("finance", "POST", "/api/v1/batches/b/funding"),
        ("finance", "POST", "/api/v1/batches/b/sending"),
        ("finance", "POST", "/api/v1/batches/b/reissue"),
        ("finance", "PUT", "/api/v1/programs"),
        ("civil", "POST", "/api/v1/reviews/b/approve"),
        ("town-xsc", "POST", "/api/v1/reviews/b/return"),
        ("audit", "POST", "/api/v1/reviews/b/approve"),
        ("audit", "POST", "/api/v1/batches"),
        ("audit", "PUT", "/api/v1/divisions"),
        ("bank-cqrcb", "GET", "/api/v1/batches"),
        ("bank-cqrcb", "GET", "/api/v1/beneficiaries"),
        ("civil", "GET", "/api/v1/audit"),
        ("civil", "POST", "/api/v1/beneficiaries"),
        ("civil", "GET", "/api/v1/beneficiaries"),
        ("civil", "PUT", "/api/v1/organisations"),
        ("civil", "PUT", "/api/v1/agency-agreements"),
        ("audit", "POST", "/api/v1/divisions/import"),
        ("audit", "POST", "/api/v1/beneficiaries/k/account-changes"),
        ("finance", "POST", "/api/v1/account-changes/c/approval"),
        ("finance", "POST", "/api/v1/beneficiaries/k/verification"),
        ("admin", "POST", "/api/v1/beneficiaries/k/verification"),
        ("town-xsc", "GET", "/api/v1/reference-changes"),
    ],
)
async def test_each_route_refuses_roles_it_does_not_admit(
    gw: tuple[FastAPI, httpx.AsyncClient], user: str, method: str, path: str
) -> None:
    _, client = gw
    h = await login(client, user)
    r = await client.request(method, path, headers=h, json={})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "ROLE_FORBIDDEN"


def test_finance_has_no_route_that_changes_payment_data() -> None:
    from ykt_gateway.adapters.api.routes import router

    admitted_writes = []
    for route in router.routes:
        if (
            not isinstance(route, APIRoute)
            or not route.path.startswith("/api/v1/")
            or route.path.startswith("/api/v1/auth")
        ):
            continue
        roles_doc = " ".join((d.call.__doc__ or "") for d in route.dependant.dependencies)
        if Role.FINANCE.value in roles_doc and route.methods - {"GET"}:
            admitted_writes.append((sorted(route.methods), route.path))
    assert admitted_writes == [
        (["POST"], "/api/v1/reviews/{batch_id}/approve"),
        (["POST"], "/api/v1/reviews/{batch_id}/return"),
    ]


async def test_every_api_call_is_audited_and_the_audit_log_cannot_be_changed(
    gw: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = gw
    h = await login(client, "finance")
    await client.post("/api/v1/batches", headers=h, json={})
    audit = await login(client, "audit")
    entries = (await client.get("/api/v1/audit", headers=audit)).json()
    denied = [e for e in entries if e["path"] == "/api/v1/batches" and e["username"] == "finance"]
    assert denied and denied[0]["outcome"] == "denied" and denied[0]["status"] == 403
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            await s.execute(sa.text("UPDATE audit_log SET outcome = 'ok'"))


async def test_openapi_document_lists_the_operator_routes(gw: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = gw
    doc = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/batches",
        "/api/v1/reviews/{batch_id}/approve",
        "/api/v1/batches/{batch_id}/funding",
        "/api/v1/auth/token",
    ):
        assert path in doc["paths"]
