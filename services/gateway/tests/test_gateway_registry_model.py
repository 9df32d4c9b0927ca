"""Reference data and beneficiaries through the gateway, with the registry behind it in-process:
the gateway refuses roles a route does not admit, the registry refuses data outside the actor's
scope, and the answers come back unchanged."""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from ykt_gateway.config import DEV_DEMO_PASSWORD
from ykt_gateway.config import Settings as GatewaySettings
from ykt_gateway.main import create_app as create_gateway
from ykt_kit import synthetic
from ykt_kit.testing import running
from ykt_registry import seed
from ykt_registry.config import Settings as RegistrySettings
from ykt_registry.intake.fixtures import BENEFICIARY_HEADER, write_xlsx
from ykt_registry.main import create_app as create_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def gw(database_url: str, redis_url: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    mp = pytest.MonkeyPatch()
    for k, v in {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "YKT_ENV": "development",
        "GATEWAY_REDIS_PREFIX": f"ykt:gwreg:{uuid.uuid4().hex[:8]}:",
    }.items():
        mp.setenv(k, v)
    registry: FastAPI = create_registry(RegistrySettings())
    gateway: FastAPI = create_gateway(GatewaySettings())
    async with running(registry), running(gateway) as client:
        # the gateway's upstream calls go to the registry app in this process
        await gateway.state.http.aclose()
        gateway.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry))
        yield client
    mp.undo()


async def login(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": DEV_DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def test_the_admin_seeds_reference_data_through_the_gateway_and_the_supervisor_reads_its_audit(
    gw: httpx.AsyncClient,
) -> None:
    admin = await login(gw, "admin")
    for method, path, kwargs in seed.requests():
        headers = {**admin, **kwargs.pop("headers", {})}
        r = await gw.request(method, path, headers=headers, **kwargs)
        assert r.status_code == 200, (path, r.text)
    civil = await login(gw, "civil")
    progs = (await gw.get("/api/v1/programs", headers=civil)).json()
    assert len(progs) == 18 and next(p for p in progs if p["code"] == "HM10")["rollout"] == "trial"
    r = await gw.put("/api/v1/programs", json=seed.programs()[:1], headers=civil)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ROLE_FORBIDDEN"
    audit = await login(gw, "audit")
    changes = (await gw.get("/api/v1/reference-changes", params={"entity": "program"}, headers=audit)).json()
    assert changes and changes[0]["actor"] == "admin"
    assert (await gw.get("/api/v1/reference-changes", headers=civil)).status_code == 403
    assert (
        await gw.put("/api/v1/agency-agreements", json=seed.agreements()[:1], headers=audit)
    ).status_code == 403


async def test_a_town_cannot_read_another_towns_person_through_the_gateway(gw: httpx.AsyncClient) -> None:
    xsc, bq = await login(gw, "town-xsc"), await login(gw, "town-bq")
    p, q = synthetic.population(
        2,
        seed=random.randrange(10**9),
        area="500104",
        towns=[("500104001000", "红光社区")],
        bank_codes=["CQRCB"],
    )
    body = [
        {
            "id_number": p.id_number,
            "name": p.name,
            "phone": p.phone,
            "town_code": p.town_code,
            "village": p.village,
            "bank_code": "CQRCB",
            "account_no": p.account_no,
        }
    ]
    r = await gw.post("/api/v1/beneficiaries", json=body, headers=xsc)
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    key = (
        await gw.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=xsc)
    ).json()[0]["person_key"]
    r = await gw.get(f"/api/v1/beneficiaries/{key}", headers=bq)
    assert r.status_code == 404 and r.json()["error"]["code"] == "PERSON_NOT_FOUND"
    r = await gw.post(f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "核对"}, headers=bq)
    assert r.status_code == 404
    change = await gw.post(
        f"/api/v1/beneficiaries/{key}/account-changes",
        json={"bank_code": "ICBC", "account_no": q.account_no, "reason": "换卡"},
        headers=xsc,
    )
    assert change.status_code == 201, change.text
    cid = change.json()["change_id"]
    assert (await gw.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=bq)).status_code == 404
    finance = await login(gw, "finance")
    r = await gw.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=finance)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ROLE_FORBIDDEN"
    assert (await gw.get(f"/api/v1/beneficiaries/{key}", headers=finance)).status_code == 200
    civil = await login(gw, "civil")
    assert (await gw.get("/api/v1/beneficiaries", headers=civil)).status_code == 403
    # the town's own operator sees the full values, and the access is on record
    full = await gw.post(
        f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "核对原件"}, headers=xsc
    )
    assert full.json()["id_number"] == p.id_number
    log = (await gw.get(f"/api/v1/beneficiaries/{key}/access-log", headers=await login(gw, "audit"))).json()
    assert [x["purpose"] for x in log] == ["核对原件"]


async def test_a_town_imports_its_collection_form_through_the_gateway_and_downloads_the_report(
    gw: httpx.AsyncClient, tmp_path: Path
) -> None:
    xsc, civil = await login(gw, "town-xsc"), await login(gw, "civil")
    pop = synthetic.population(
        3,
        seed=random.randrange(10**9),
        area="500104",
        towns=[("500104001000", "红光社区")],
        bank_codes=["CQRCB"],
    )
    rows = [
        [
            str(i),
            p.name,
            p.id_number,
            p.phone,
            "新山村街道",
            p.village,
            "",
            "社保卡",
            "CQRCB",
            p.account_no,
            p.name,
        ]
        for i, p in enumerate(pop, start=1)
    ]
    rows[2][2] = rows[2][2][:17] + ("1" if rows[2][2][17] != "1" else "2")  # wrong check character
    path = write_xlsx(tmp_path / "收集表.xlsx", BENEFICIARY_HEADER, rows)
    content = path.read_bytes()  # noqa: ASYNC240 - a small test file
    params = {"filename": path.name, "policy": "accept_valid"}
    r = await gw.post("/api/v1/beneficiaries/imports", content=content, params=params, headers=civil)
    assert r.status_code == 403
    r = await gw.post("/api/v1/beneficiaries/imports", content=content, params=params, headers=xsc)
    assert r.status_code == 200, r.text
    assert (r.json()["registered"], r.json()["refused_rows"]) == (2, 1)
    report = await gw.get(r.json()["report"], headers=xsc)
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(report.content)).worksheets[0]
    assert [(line[0].value, line[2].value) for line in ws.iter_rows(min_row=2)] == [(4, "ID_CHECKSUM")]
