"""Beneficiary deny paths and invariants: each town sees and changes only its own people, read
roles change nothing, departments do not read the registry; bulk registration is all-or-nothing
with row-and-field errors; the database keeps one active account per person and never lets an
account be edited in place."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from ykt_kit import idcard, synthetic
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers
from ykt_registry.config import Settings

pytestmark = pytest.mark.integration
XSC, BQ = "500104001000", "500104101000"


def as_(role: Role, org: str, user: str | None = None) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=user or f"{role}-{org}")


CLERK, CHECKER, OTHER_TOWN = (
    as_(Role.TOWN, XSC, "xsc-clerk"),
    as_(Role.TOWN, XSC, "xsc-checker"),
    as_(Role.TOWN, BQ),
)
FINANCE, SUPERVISOR = as_(Role.FINANCE, "FIN-500104"), as_(Role.SUPERVISOR, "AUDIT-500104")
DEPARTMENT, BANK, ADMIN = (
    as_(Role.DEPARTMENT, "DEPT-CIVIL"),
    as_(Role.BANK, "BANK-CQRCB"),
    as_(Role.ADMIN, "FIN-500104"),
)


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
        "bank_code": p.bank_code,
        "account_no": p.account_no,
        **changes,
    }


def codes(r: httpx.Response) -> list[tuple[int, str, str]]:
    assert r.status_code == 422, r.text
    return [(e["row"], e["field"], e["code"]) for e in r.json()["error"]["details"]["errors"]]


async def registered(c: httpx.AsyncClient, p: synthetic.Person) -> str:
    r = await c.post("/api/v1/beneficiaries", json=[row(p)], headers=CLERK)
    assert r.status_code == 200, r.text
    return str(
        (await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=CLERK)).json()[
            0
        ]["person_key"]
    )


async def test_a_town_neither_reads_nor_changes_another_towns_people(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    p, q = people(2)
    key = await registered(c, p)
    cid = (
        await c.post(
            f"/api/v1/beneficiaries/{key}/account-changes",
            json={"bank_code": "ICBC", "account_no": q.account_no, "reason": "换卡"},
            headers=CLERK,
        )
    ).json()["change_id"]

    r = await c.get(f"/api/v1/beneficiaries/{key}", headers=OTHER_TOWN)
    assert r.status_code == 404 and r.json()["error"]["code"] == "PERSON_NOT_FOUND"
    assert (
        await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=OTHER_TOWN)
    ).json() == []
    listed = (await c.get("/api/v1/beneficiaries", params={"limit": 1000}, headers=OTHER_TOWN)).json()
    assert key not in {x["person_key"] for x in listed}
    assert (
        await c.post(
            f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "看看"}, headers=OTHER_TOWN
        )
    ).status_code == 404
    assert (await c.get(f"/api/v1/beneficiaries/{key}/access-log", headers=OTHER_TOWN)).status_code == 404
    r = await c.put(
        f"/api/v1/beneficiaries/{key}/status", json={"status": "deceased", "reason": "x"}, headers=OTHER_TOWN
    )
    assert r.status_code == 404
    r = await c.post(
        f"/api/v1/beneficiaries/{key}/account-changes",
        json={"bank_code": "ICBC", "account_no": "6222000011112222", "reason": "x"},
        headers=OTHER_TOWN,
    )
    assert r.status_code == 404
    r = await c.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=OTHER_TOWN)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ACCOUNT_CHANGE_NOT_FOUND"
    assert (
        await c.post(f"/api/v1/account-changes/{cid}/rejection", json={}, headers=OTHER_TOWN)
    ).status_code == 404
    assert cid not in {
        x["change_id"] for x in (await c.get("/api/v1/account-changes", headers=OTHER_TOWN)).json()
    }
    # registering the person: as one's own (refused) or into the other town (refused)
    r = await c.post("/api/v1/beneficiaries", json=[row(p)], headers=OTHER_TOWN)
    assert codes(r) == [(1, "town_code", "TOWN_NOT_YOURS")]
    r = await c.post(
        "/api/v1/beneficiaries", json=[row(p, town_code=BQ, village="团结村")], headers=OTHER_TOWN
    )
    assert codes(r) == [(1, "town_code", "PERSON_IN_OTHER_TOWN")]
    # nothing happened to the person or the change
    d = (await c.get(f"/api/v1/beneficiaries/{key}", headers=CLERK)).json()
    assert (
        d["status"] == "active" and d["town_code"] == XSC and d["account_changes"][0]["status"] == "pending"
    )
    assert (
        await c.post(f"/api/v1/account-changes/{cid}/rejection", json={}, headers=CHECKER)
    ).status_code == 200


async def test_read_roles_change_nothing_and_departments_do_not_read_the_registry(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    p, q = people(2)
    key = await registered(c, p)
    cid = (
        await c.post(
            f"/api/v1/beneficiaries/{key}/account-changes",
            json={"bank_code": "ICBC", "account_no": q.account_no, "reason": "换卡"},
            headers=CLERK,
        )
    ).json()["change_id"]
    for h in (FINANCE, SUPERVISOR, DEPARTMENT, BANK, ADMIN):
        r = await c.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=h)
        assert r.status_code == 403, (h["x-ykt-role"], r.text)
        r = await c.put(
            f"/api/v1/beneficiaries/{key}/status", json={"status": "inactive", "reason": "x"}, headers=h
        )
        assert r.status_code == 403
        r = await c.post(
            f"/api/v1/beneficiaries/{key}/account-changes",
            json={"bank_code": "ICBC", "account_no": "6222000011113333", "reason": "x"},
            headers=h,
        )
        assert r.status_code == 403
        r = await c.post(f"/api/v1/beneficiaries/{key}/verification", json={"purpose": "看看"}, headers=h)
        assert r.status_code == 403
    for h in (FINANCE, SUPERVISOR, DEPARTMENT, BANK):
        assert (await c.post("/api/v1/beneficiaries", json=[row(people(1)[0])], headers=h)).status_code == 403
    for h in (DEPARTMENT, BANK):
        for method, path in (
            ("GET", "/api/v1/beneficiaries"),
            ("GET", f"/api/v1/beneficiaries/{key}"),
            ("GET", "/api/v1/account-changes"),
        ):
            r = await c.request(method, path, headers=h)
            assert r.status_code == 403 and r.json()["error"]["code"] == "OUT_OF_SCOPE", path
        r = await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=h)
        assert r.status_code == 403
    assert (await c.get(f"/api/v1/beneficiaries/{key}", headers=FINANCE)).status_code == 200
    r = await c.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=CLERK)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_CHANGE_SELF_APPROVAL"
    assert (
        await c.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=CHECKER)
    ).status_code == 200
    r = await c.post(f"/api/v1/account-changes/{cid}/approval", json={}, headers=CHECKER)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ACCOUNT_CHANGE_STATE"


async def test_bulk_registration_names_rows_and_fields_and_saves_nothing(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    known, taken_by = people(2)
    await registered(c, known)
    await registered(c, taken_by)
    fresh = people(6)
    bad_id = fresh[1].id_number[:17] + next(
        x for x in "0123456789X" if x != idcard.check_char(fresh[1].id_number[:17])
    )
    body = [
        row(fresh[0]),
        row(fresh[1], id_number=bad_id),
        row(fresh[2], village="没有这个社区"),
        row(fresh[3], bank_code="NOPE"),
        row(fresh[0], account_no=fresh[4].account_no),  # the same person twice
        row(fresh[5], account_no=fresh[0].account_no),  # another person with row 1's account
        row(known, account_no=fresh[4].account_no),  # a different account for a registered person
        row(fresh[4], account_no=taken_by.account_no),  # someone else's active account
    ]
    r = await c.post("/api/v1/beneficiaries", json=body, headers=CLERK)
    assert codes(r) == [
        (2, "id_number", "ID_CHECKSUM"),
        (3, "village", "VILLAGE_UNKNOWN"),
        (4, "bank_code", "BANK_UNKNOWN"),
        (5, "id_number", "PERSON_DUPLICATE"),
        (6, "account_no", "ACCOUNT_DUPLICATE"),
        (7, "account_no", "ACCOUNT_CHANGE_REQUIRED"),
        (8, "account_no", "ACCOUNT_TAKEN"),
    ]
    assert all(m["message"].startswith(f"第{m['row']}行") for m in r.json()["error"]["details"]["errors"])
    assert (
        await c.post("/api/v1/beneficiaries/lookup", json={"id_number": fresh[0].id_number}, headers=CLERK)
    ).json() == []


async def test_the_database_keeps_one_active_account_and_never_edits_one(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, c = registry
    p, q = people(2)
    key = await registered(c, p)
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.DBAPIError, match="immutable"):
            await s.execute(
                sa.text("UPDATE accounts SET bank_code = 'ICBC' WHERE person_key = :k"), {"k": key}
            )
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.DBAPIError, match="never deleted"):
            await s.execute(sa.text("DELETE FROM accounts WHERE person_key = :k"), {"k": key})
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.IntegrityError, match="accounts_one_active_per_person"):
            await s.execute(
                sa.text(
                    "INSERT INTO accounts (person_key, carrier, bank_code, account_no_enc, account_key, account_tail,"
                    " holder_name) VALUES (:k, 'bank_card', 'ICBC', '\\x00', 'k2', '0000', 'x')"
                ),
                {"k": key},
            )
    async with app.state.db.transaction() as s:
        await s.execute(
            sa.text("UPDATE accounts SET status = 'closed', closed_at = now() WHERE person_key = :k"),
            {"k": key},
        )
        with pytest.raises(sa.exc.DBAPIError, match="stays closed"):
            await s.execute(
                sa.text("UPDATE accounts SET status = 'active', closed_at = NULL WHERE person_key = :k"),
                {"k": key},
            )
    new = {"bank_code": "ICBC", "account_no": q.account_no, "reason": "换卡"}
    assert (
        await c.post(f"/api/v1/beneficiaries/{key}/account-changes", json=new, headers=CLERK)
    ).status_code == 201
    r = await c.post(
        f"/api/v1/beneficiaries/{key}/account-changes",
        json={**new, "account_no": "6222000044445555"},
        headers=CLERK,
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "ACCOUNT_CHANGE_PENDING"
    r = await c.post(
        f"/api/v1/beneficiaries/{key}/account-changes",
        json={**new, "account_no": p.account_no, "bank_code": "CQRCB", "carrier": "bank_card"},
        headers=CHECKER,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "ACCOUNT_CHANGE_SAME"


async def test_a_deceased_person_is_not_paid_a_new_account_nor_registered_again(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    p, q = people(2)
    key = await registered(c, p)
    r = await c.put(
        f"/api/v1/beneficiaries/{key}/status",
        json={"status": "deceased", "reason": "死亡证明"},
        headers=CLERK,
    )
    assert r.status_code == 200
    assert (
        await c.get("/api/v1/beneficiaries", params={"status": "deceased", "limit": 1000}, headers=CLERK)
    ).status_code == 200
    r = await c.post(
        f"/api/v1/beneficiaries/{key}/account-changes",
        json={"bank_code": "ICBC", "account_no": q.account_no, "reason": "x"},
        headers=CLERK,
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "PERSON_DECEASED"
    assert codes(await c.post("/api/v1/beneficiaries", json=[row(p)], headers=CLERK)) == [
        (1, "id_number", "PERSON_DECEASED")
    ]
    r = await c.put(
        f"/api/v1/beneficiaries/{key}/status", json={"status": "active", "reason": "误报"}, headers=CLERK
    )
    assert r.status_code == 409
