"""Reference registers through the gateway, with validation behind it in-process (on a database of
its own): the administrator uploads a register file that streams through, supervisors look people
up (masked), finance and departments see which version is in force, and roles that may not are
refused before anything is forwarded."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from ykt_devstack import infra
from ykt_gateway.config import DEV_DEMO_PASSWORD
from ykt_gateway.config import Settings as GatewaySettings
from ykt_gateway.main import create_app as create_gateway
from ykt_kit import masking
from ykt_kit.testing import running
from ykt_validation.config import Settings as ValidationSettings
from ykt_validation.main import create_app as create_validation
from ykt_validation.seed import SAMPLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def gw(pg_server: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    with infra.scratch_database(pg_server, prefix="ykt_test_gw_registers") as url:
        mp = pytest.MonkeyPatch()
        for k, v in {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "YKT_ENV": "development",
            "GATEWAY_REDIS_PREFIX": f"ykt:gwregisters:{uuid.uuid4().hex[:8]}:",
        }.items():
            mp.setenv(k, v)
        validation: FastAPI = create_validation(ValidationSettings(), messaging=False)
        gateway: FastAPI = create_gateway(GatewaySettings())
        async with running(validation), running(gateway) as client:
            # the gateway's upstream calls go to the validation app in this process
            await gateway.state.http.aclose()
            gateway.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=validation))
            yield client
        mp.undo()


async def login(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": DEV_DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def test_the_administrator_imports_a_register_through_the_gateway_and_the_supervisor_looks_a_person_up(
    gw: httpx.AsyncClient,
) -> None:
    sample = next(s for s in SAMPLES if s.kind.value == "deceased")
    content = sample.read_bytes()

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(content), 64):
            yield content[i : i + 64]

    params = {
        "kind": sample.kind.value,
        "as_of": sample.as_of.isoformat(),
        "source": sample.source,
        "filename": sample.filename,
    }
    admin = await login(gw, "admin")
    r = await gw.post(
        "/api/v1/registers/imports",
        params=params,
        content=body(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    imported = r.json()
    assert (imported["kind"], imported["entries"], imported["filename"]) == ("deceased", 6, sample.filename)
    again = await gw.post("/api/v1/registers/imports", params=params, content=content, headers=admin)
    assert again.status_code == 200 and again.json()["duplicate"] is True

    first = next(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    audit = await login(gw, "audit")
    found = await gw.post("/api/v1/registers/lookup", json={"id_number": first["身份证号码"]}, headers=audit)
    assert found.status_code == 200, found.text
    assert first["身份证号码"] not in found.text
    [m] = found.json()["current"]
    assert (m["kind"], m["name"], m["attributes"]) == (
        "deceased",
        masking.mask_name(first["姓名"]),
        {"date_of_death": first["死亡日期"]},
    )
    for user in ("finance", "civil"):
        r = await gw.get("/api/v1/registers", headers=await login(gw, user))
        assert r.status_code == 200
        assert (
            next(k for k in r.json() if k["kind"] == "deceased")["current"]["import_id"]
            == imported["import_id"]
        )
    report = await gw.get(imported["report"], headers=audit)
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]


async def test_roles_that_may_not_import_or_read_people_are_refused_at_the_gateway(
    gw: httpx.AsyncClient,
) -> None:
    sample = SAMPLES[0]
    params = {"kind": sample.kind.value, "as_of": sample.as_of.isoformat(), "source": sample.source}
    for user in ("audit", "finance", "civil", "town-xsc", "bank-cqrcb"):
        r = await gw.post(
            "/api/v1/registers/imports",
            params=params,
            content=sample.read_bytes(),
            headers=await login(gw, user),
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "ROLE_FORBIDDEN", user
    for user in ("finance", "civil", "town-xsc", "bank-cqrcb"):
        h = await login(gw, user)
        r = await gw.post("/api/v1/registers/lookup", json={"id_number": "500104194802190019"}, headers=h)
        assert r.status_code == 403, user
    for user in ("town-xsc", "bank-cqrcb"):
        r = await gw.get("/api/v1/registers/imports", headers=await login(gw, user))
        assert r.status_code == 403, user
    assert (await gw.get("/api/v1/registers")).status_code == 401
