"""A clerk uploads a batch file through the gateway: the body streams through to the registry
with its content type and query, and the batch's lifecycle and records are read back through
the gateway; roles that may not submit are refused before anything is forwarded."""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from ykt_contracts.reference import TOWNS
from ykt_gateway.config import DEV_DEMO_PASSWORD
from ykt_gateway.config import Settings as GatewaySettings
from ykt_gateway.main import create_app as create_gateway
from ykt_kit import synthetic
from ykt_kit.testing import running
from ykt_registry import seed
from ykt_registry.config import Settings as RegistrySettings
from ykt_registry.main import create_app as create_registry

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(
    platform_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("GATEWAY_REDIS_PREFIX", f"ykt:gwtest:{uuid.uuid4().hex[:8]}:")
    monkeypatch.setenv("GATEWAY_REGISTRY_URL", "http://registry")
    registry = create_registry(RegistrySettings())
    gw = create_gateway(GatewaySettings())
    async with running(registry), running(gw) as client:
        await gw.state.http.aclose()
        gw.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry), timeout=120)
        admin = await login(client, "admin")
        for method, path, kwargs in seed.requests():
            headers = {**admin, **kwargs.pop("headers", {})}
            r = await client.request(method, path, headers=headers, **kwargs)
            assert r.status_code == 200, (path, r.text)
        yield client


async def login(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": DEV_DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def batch_file(path: Path, n: int) -> Path:
    rng = random.Random()
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["身份证号码", "姓名", "账号", "代发银行", "金额（元）", "镇街代码", "村（社区）"])
        for serial in range(1, n + 1):
            p = synthetic.person(
                rng,
                area="500104",
                town_code=TOWNS[0].code,
                village="新山村社区",
                bank_code="CQRCB",
                serial=serial,
            )
            w.writerow([p.id_number, p.name, p.account_no, "CQRCB", "650.00", p.town_code, p.village])
    return path


async def test_a_clerk_uploads_a_file_and_follows_the_batch_through_the_gateway(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = batch_file(tmp_path / "低保.csv", 250)

    async def body() -> AsyncIterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(8192):
                yield chunk

    civil = await login(gateway, "civil")
    params = {
        "unit_batch_no": f"GW-{uuid.uuid4().hex[:8]}",
        "program_code": "HM10",
        "period": "2026-11",
        "declared_count": "250",
        "declared_amount": "162500.00",
        "filename": path.name,
    }
    r = await gateway.post(
        "/api/v1/batches/files", params=params, content=body(), headers={**civil, "content-type": "text/csv"}
    )
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["records_by_status"]["submitted"] == {"record_count": 250, "amount_fen": 250 * 65_000}
    assert b["file"]["name"] == path.name and b["file"]["format"] == "csv"
    again = await gateway.post(
        "/api/v1/batches/files",
        params=params,
        content=path.read_bytes(),
        headers={**civil, "content-type": "text/csv"},
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True

    history = (await gateway.get(f"/api/v1/batches/{b['batch_id']}/history", headers=civil)).json()
    assert [h["status"] for h in history] == ["submitted", "validating"]
    page = await gateway.get(
        f"/api/v1/batches/{b['batch_id']}/records", params={"after_seq": 200, "limit": 100}, headers=civil
    )
    assert [x["seq"] for x in page.json()] == list(range(201, 251))

    for user in ("finance", "audit", "bank-cqrcb"):
        r = await gateway.post(
            "/api/v1/batches/files",
            params=params,
            content=path.read_bytes(),
            headers={**await login(gateway, user), "content-type": "text/csv"},
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "ROLE_FORBIDDEN"
