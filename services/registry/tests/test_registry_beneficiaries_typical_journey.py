"""Beneficiaries (Annex 2): a town registers its people and their one-card accounts, re-registers
without changing anything, reads them masked, verifies one in full (audited), and changes an
account only through a re-application approved by a second operator of the town."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from ykt_kit import synthetic
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers
from ykt_registry.config import Settings

pytestmark = pytest.mark.integration
XSC = "500104001000"


def as_(role: Role, org: str, user: str | None = None) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=user or f"{role}-{org}")


CLERK = as_(Role.TOWN, XSC, "xsc-clerk")
CHECKER = as_(Role.TOWN, XSC, "xsc-checker")


def people(n: int, town: str = XSC, village: str = "红光社区") -> list[synthetic.Person]:
    return synthetic.population(
        n, seed=random.randrange(10**9), area="500104", towns=[(town, village)], bank_codes=["CQRCB"]
    )


def row(p: synthetic.Person, **changes: Any) -> dict[str, Any]:
    return {
        "id_number": p.id_number,
        "name": p.name,
        "phone": p.phone,
        "town_code": p.town_code,
        "village": p.village,
        "household_no": "H" + p.id_number[-6:],
        "carrier": "social_security_card",
        "bank_code": p.bank_code,
        "account_no": p.account_no,
        **changes,
    }


async def test_registering_twice_changes_nothing_and_reads_are_masked(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    pop = people(5)
    body = [row(p) for p in pop]
    r = await c.post("/api/v1/beneficiaries", json=body, headers=CLERK)
    assert r.json() == {"registered": 5, "created": 5, "updated": 0, "unchanged": 0, "accounts_opened": 5}, (
        r.text
    )
    r = await c.post("/api/v1/beneficiaries", json=body, headers=CLERK)
    assert r.json() == {"registered": 5, "created": 0, "updated": 0, "unchanged": 5, "accounts_opened": 0}
    body[0]["phone"] = "13900000000"
    r = await c.post("/api/v1/beneficiaries", json=body, headers=CLERK)
    assert r.json()["updated"] == 1 and r.json()["unchanged"] == 4

    found = (
        await c.post("/api/v1/beneficiaries/lookup", json={"id_number": pop[0].id_number}, headers=CLERK)
    ).json()
    assert len(found) == 1
    p = found[0]
    assert p["id_number"] == pop[0].id_number[0] + "*" * 16 + pop[0].id_number[-1]
    assert p["name"] != pop[0].name and p["name"][0] == pop[0].name[0]
    assert p["phone"] == "139****0000"
    assert p["account"]["account_no"] == "*" * 12 + pop[0].account_no[-4:]
    assert p["village_code"] == "500104001001" and p["status"] == "active"
    assert p["gender"] in ("M", "F") and p["birth_date"][:4] == pop[0].id_number[6:10]
    listed = (await c.get("/api/v1/beneficiaries", params={"limit": 1000}, headers=CLERK)).json()
    assert p["person_key"] in {x["person_key"] for x in listed}
    assert {x["town_code"] for x in listed} == {XSC}
    for reader in (as_(Role.FINANCE, "FIN-500104"), as_(Role.SUPERVISOR, "AUDIT-500104")):
        got = (
            await c.post("/api/v1/beneficiaries/lookup", json={"id_number": pop[0].id_number}, headers=reader)
        ).json()
        assert got == found


async def test_the_town_sees_one_person_in_full_only_through_an_audited_verification(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    p = people(1)[0]
    await c.post("/api/v1/beneficiaries", json=[row(p)], headers=CLERK)
    key = (
        await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=CLERK)
    ).json()[0]["person_key"]
    detail = (await c.get(f"/api/v1/beneficiaries/{key}", headers=CLERK)).json()
    assert p.id_number not in str(detail) and p.account_no not in str(detail)
    r = await c.post(
        f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "核对身份证原件"}, headers=CLERK
    )
    full = r.json()
    assert full["id_number"] == p.id_number and full["account"]["account_no"] == p.account_no
    assert full["phone"] == p.phone and full["name"] == p.name
    log = (
        await c.get(f"/api/v1/beneficiaries/{key}/access-log", headers=as_(Role.SUPERVISOR, "AUDIT-500104"))
    ).json()
    assert [(x["actor"], x["purpose"]) for x in log] == [("xsc-clerk", "核对身份证原件")]
    assert p.id_number not in str(log) and p.account_no not in str(log)


async def test_an_account_changes_only_through_an_approved_reapplication(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    p, other = people(2)
    await c.post("/api/v1/beneficiaries", json=[row(p)], headers=CLERK)
    key = (
        await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=CLERK)
    ).json()[0]["person_key"]
    # registering a different account is refused: the clerk is told to file a change
    r = await c.post("/api/v1/beneficiaries", json=[row(p, account_no=other.account_no)], headers=CLERK)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0]["code"] == "ACCOUNT_CHANGE_REQUIRED"
    assert "账户变更申请" in r.json()["error"]["details"]["errors"][0]["message"]

    new = {
        "carrier": "bank_card",
        "bank_code": "ICBC",
        "account_no": other.account_no,
        "reason": "原社保卡遗失补办",
    }
    r = await c.post(f"/api/v1/beneficiaries/{key}/account-changes", json=new, headers=CLERK)
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "pending" and change["new"]["account_no"].endswith(other.account_no[-4:])
    before = (await c.get(f"/api/v1/beneficiaries/{key}", headers=CLERK)).json()
    assert before["account"]["bank_code"] == "CQRCB"  # nothing changes until approved
    r = await c.post(
        f"/api/v1/account-changes/{change['change_id']}/approval", json={"note": "材料齐全"}, headers=CHECKER
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == "xsc-checker"

    after = (await c.get(f"/api/v1/beneficiaries/{key}", headers=CLERK)).json()
    assert after["account"]["bank_code"] == "ICBC" and after["account"]["carrier"] == "bank_card"
    history = after["accounts"]
    assert [(a["bank_code"], a["status"]) for a in history] == [("CQRCB", "closed"), ("ICBC", "active")]
    assert history[0]["closed_at"] is not None and history[1]["change_id"] == change["change_id"]
    assert after["account_changes"][0]["old_account_id"] == history[0]["account_id"]
    assert after["account_changes"][0]["new_account_id"] == history[1]["account_id"]
    full = (
        await c.post(
            f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "变更后核对"}, headers=CHECKER
        )
    ).json()
    assert full["account"]["account_no"] == other.account_no
    # registering with the new account is now the same data again
    r = await c.post(
        "/api/v1/beneficiaries",
        json=[row(p, account_no=other.account_no, bank_code="ICBC", carrier="bank_card")],
        headers=CLERK,
    )
    assert r.json()["unchanged"] == 1, r.text

    second = {**new, "account_no": p.account_no, "bank_code": "CQRCB", "reason": "改回"}
    cid = (await c.post(f"/api/v1/beneficiaries/{key}/account-changes", json=second, headers=CLERK)).json()[
        "change_id"
    ]
    r = await c.post(f"/api/v1/account-changes/{cid}/rejection", json={"note": "未提供原件"}, headers=CHECKER)
    assert r.json()["status"] == "rejected"
    pending = (await c.get("/api/v1/account-changes", params={"status": "rejected"}, headers=CLERK)).json()
    assert cid in {x["change_id"] for x in pending}
