"""Collection-form imports at the edges: files that are not tables, empty files, other units'
imports, roles that may not import."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers
from ykt_registry.config import Settings

pytestmark = pytest.mark.integration

TIAODENG = "500104103000"
IMPORTS = "/api/v1/beneficiaries/imports"


def as_(role: Role, org: str) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=f"{role}-{org}")


CLERK = as_(Role.TOWN, TIAODENG)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "FILE_EMPTY"), (PNG, "FILE_NOT_TABLE"), (b"PK\x03\x04 not really a zip", "FILE_NOT_TABLE")],
)
async def test_what_is_not_a_collection_form_is_refused_with_its_code(
    registry: tuple[FastAPI, httpx.AsyncClient], content: bytes, code: str
) -> None:
    _, c = registry
    r = await c.post(IMPORTS, content=content, params={"filename": "名册.xlsx"}, headers=CLERK)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


async def test_a_csv_without_the_required_columns_names_them(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    r = await c.post(
        IMPORTS,
        content="姓名,联系电话\n张三,13800000000\n".encode(),
        params={"filename": "x.csv"},
        headers=CLERK,
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "FILE_HEADER_MISSING"
    assert "身份证号码" in r.json()["error"]["message"]


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.FINANCE, Role.SUPERVISOR, Role.BANK])
async def test_only_towns_and_the_admin_import_people(
    registry: tuple[FastAPI, httpx.AsyncClient], role: Role
) -> None:
    _, c = registry
    r = await c.post(IMPORTS, content=b"a,b\n", params={"filename": "x.csv"}, headers=as_(role, "X-1"))
    assert r.status_code == 403, r.text


async def test_another_towns_import_and_report_are_not_found(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    r = await c.post(
        IMPORTS,
        content="姓名,身份证号码,镇街,村（社区）,代发银行,账号/卡号\n".encode(),
        params={"filename": "空表.csv", "policy": "accept_valid"},
        headers=CLERK,
    )
    assert r.status_code == 200, r.text
    import_id = r.json()["import_id"]
    other = as_(Role.TOWN, "500104102000")
    assert (await c.get(f"{IMPORTS}/{import_id}", headers=other)).status_code == 404
    assert (await c.get(f"{IMPORTS}/{import_id}/report", headers=other)).status_code == 404
    assert (await c.get(f"{IMPORTS}/{import_id}", headers=as_(Role.DEPARTMENT, "DEPT-MZ"))).status_code == 404
    assert (await c.get(f"{IMPORTS}/{import_id}", headers=as_(Role.SUPERVISOR, "AUDIT"))).status_code == 200
