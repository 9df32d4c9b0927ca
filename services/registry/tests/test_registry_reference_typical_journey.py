"""Reference data: Annex 1's catalogue with typed standards, Dadukou's divisions from CSV, banks,
organisations and agency agreements, all written by the admin and audited change by change."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers
from ykt_registry import seed
from ykt_registry.config import Settings

pytestmark = pytest.mark.integration


def as_(role: Role, org: str, user: str | None = None) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=user or f"{role}-{org}")


ADMIN = as_(Role.ADMIN, "FIN-500104", "admin")


async def test_the_catalogue_has_annex_1_with_typed_standards_registers_and_exclusions(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    progs = {
        p["code"]: p for p in (await c.get("/api/v1/programs", headers=as_(Role.TOWN, "500104001000"))).json()
    }
    assert len(progs) == 18
    assert progs["HM10"]["standard"] == {"kind": "fixed", "amount_fen": 65_000, "ceiling_fen": 65_000}
    assert progs["HM01"]["standard"]["kind"] == "per_unit" and progs["HM01"]["standard"]["unit"] == "亩"
    assert [t["category"] for t in progs["HM14"]["standard"]["tiers"]] == ["一级", "二级"]
    assert progs["HM11"]["requires_registers"] == ["state_support"]
    assert "deceased" in progs["HM10"]["excludes_registers"]
    assert progs["HM10"]["exclusive_with"] == ["HM11"] and "HM10" in progs["HM11"]["exclusive_with"]
    assert [c for c, p in progs.items() if p["rollout"] == "trial"] == ["HM10"]


async def test_divisions_come_from_csv_down_to_villages(registry: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = registry
    towns = (await c.get("/api/v1/divisions", params={"parent_code": "500104"}, headers=ADMIN)).json()
    assert {t["code"] for t in towns} >= {"500104001000", "500104101000", "500104103000"}
    assert {t["kind"] for t in towns} == {"街道", "镇"}
    villages = (
        await c.get("/api/v1/divisions", params={"parent_code": "500104101000"}, headers=ADMIN)
    ).json()
    assert {v["name"] for v in villages} >= {"团结村", "八桥社区"}
    # another district loads its own file: the shared reference's 9-digit rows plus village rows
    other = (
        "code,name,area_code,province_code,city_code,kind,parent_code\n"
        '500101,"万州区",500101,50,5001,,\n'
        '500101001,"高笋塘街道",500101,50,5001,,\n'
        '500101001001,"白岩社区",500101,50,5001,,500101001\n'
    )
    r = await c.post(
        "/api/v1/divisions/import", content=other.encode(), headers={**ADMIN, "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3
    again = await c.post(
        "/api/v1/divisions/import", content=other.encode(), headers={**ADMIN, "content-type": "text/csv"}
    )
    assert again.json() == {"upserted": 3, "created": 0, "updated": 0, "unchanged": 3}
    rows = (await c.get("/api/v1/divisions", params={"parent_code": "500101001000"}, headers=ADMIN)).json()
    assert rows == [
        {"code": "500101001001", "name": "白岩社区", "kind": "社区", "parent_code": "500101001000"}
    ]


async def test_changes_are_audited_with_old_and_new_values_and_the_audit_is_append_only(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, c = registry
    prog = next(p for p in seed.programs() if p["code"] == "HM15")
    changed = {**prog, "standard": {"kind": "fixed", "amount_fen": 9_000}}
    r = await c.put("/api/v1/programs", json=[changed], headers=ADMIN)
    assert r.json() == {"upserted": 1, "created": 0, "updated": 1, "unchanged": 0}
    same = await c.put("/api/v1/programs", json=[changed], headers=ADMIN)
    assert same.json()["unchanged"] == 1  # nothing new, nothing audited
    sup = as_(Role.SUPERVISOR, "AUDIT-500104")
    log = (
        await c.get("/api/v1/reference-changes", params={"entity": "program", "key": "HM15"}, headers=sup)
    ).json()
    assert log[0]["actor"] == "admin" and log[0]["role"] == "admin"
    assert log[0]["old"]["standard"] == {"kind": "fixed", "amount_fen": 8_000}
    assert log[0]["new"]["standard"] == {"kind": "fixed", "amount_fen": 9_000}
    assert log[1]["new"] == log[0]["old"]  # each change starts where the one before ended
    await c.put("/api/v1/programs", json=[prog], headers=ADMIN)
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            await s.execute(sa.text("UPDATE reference_changes SET actor = 'someone'"))


async def test_a_new_agreement_ends_the_units_active_one(registry: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = registry
    unit, n = f"DEPT-T{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
    assert (
        await c.put(
            "/api/v1/organisations",
            json=[{"code": unit, "name": "测试局", "kind": "department"}],
            headers=ADMIN,
        )
    ).status_code == 200
    for no, bank, day in ((f"A-{n}", "CCB", "2022-04-15"), (f"B-{n}", "ICBC", "2026-01-01")):
        body = [{"unit_code": unit, "bank_code": bank, "agreement_no": no, "effective_date": day}]
        r = await c.put("/api/v1/agency-agreements", json=body, headers=ADMIN)
        assert r.status_code == 200, r.text
    mine = (await c.get("/api/v1/agency-agreements", headers=as_(Role.DEPARTMENT, unit))).json()
    assert [(a["bank_code"], a["status"], a["ended_on"]) for a in mine] == [
        ("CCB", "ended", "2026-01-01"),
        ("ICBC", "active", None),
    ]  # and a unit sees only its own
    civil = (await c.get("/api/v1/agency-agreements", headers=as_(Role.DEPARTMENT, "DEPT-CIVIL"))).json()
    assert {a["unit_code"] for a in civil} == {"DEPT-CIVIL"}
    bank = (await c.get("/api/v1/agency-agreements", headers=as_(Role.BANK, "BANK-BOC"))).json()
    assert bank and {a["bank_code"] for a in bank} == {"BOC"}
    log = (
        await c.get(
            "/api/v1/reference-changes", params={"entity": "agency_agreement", "key": unit}, headers=ADMIN
        )
    ).json()
    assert log[0]["old"]["bank_code"] == "CCB" and log[0]["new"]["bank_code"] == "ICBC"


async def test_organisations_link_towns_to_divisions_and_banks_to_bank_codes(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    orgs = {o["code"]: o for o in (await c.get("/api/v1/organisations", headers=ADMIN)).json()}
    assert orgs["500104101000"]["kind"] == "town" and orgs["500104101000"]["division_code"] == "500104101000"
    assert orgs["BANK-CQRCB"]["bank_code"] == "CQRCB"
    assert {o["kind"] for o in orgs.values()} == {"department", "town", "finance", "bank", "supervisor"}
    banks = {b["code"]: b for b in (await c.get("/api/v1/banks", headers=ADMIN)).json()}
    assert banks["ICBC"]["institution_code"] == "102100099996" and banks["ICBC"]["adapter"] == "json_api"
