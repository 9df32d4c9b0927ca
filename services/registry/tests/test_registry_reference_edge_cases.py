"""Reference data refuses what would make the catalogue inconsistent, names the row and field,
saves nothing of a refused request, and lets only the admin write."""

from __future__ import annotations

from typing import Any

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


def program(code: str, **changes: Any) -> dict[str, Any]:
    return {**next(p for p in seed.programs() if p["code"] == code), **changes}


def errors(r: httpx.Response) -> list[tuple[int, str, str]]:
    assert r.status_code == 422, r.text
    return [(e["row"], e["field"], e["code"]) for e in r.json()["error"]["details"]["errors"]]


async def test_exclusions_must_be_known_and_mutual(registry: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = registry
    r = await c.put("/api/v1/programs", json=[program("HM13", exclusive_with=["HM14"])], headers=ADMIN)
    assert errors(r) == [(1, "exclusive_with", "PROGRAM_EXCLUSION_ASYMMETRIC")]
    r = await c.put("/api/v1/programs", json=[program("HM13", exclusive_with=["HM99"])], headers=ADMIN)
    assert errors(r) == [(1, "exclusive_with", "PROGRAM_EXCLUSION_UNKNOWN")]
    r = await c.put("/api/v1/programs", json=[program("HM13", exclusive_with=["HM13"])], headers=ADMIN)
    assert errors(r) == [(1, "exclusive_with", "PROGRAM_EXCLUDES_ITSELF")]
    # dropping the pair on one side only is refused too; on both sides in one request it is fine
    r = await c.put("/api/v1/programs", json=[program("HM10", exclusive_with=[])], headers=ADMIN)
    assert errors(r) == [(1, "exclusive_with", "PROGRAM_EXCLUSION_ASYMMETRIC")]
    both = [program("HM13", exclusive_with=["HM14"]), program("HM14", exclusive_with=["HM13"])]
    assert (await c.put("/api/v1/programs", json=both, headers=ADMIN)).status_code == 200
    r = await c.put("/api/v1/programs", json=[program("HM13"), program("HM14")], headers=ADMIN)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("standard", "where"),
    [
        ({"kind": "fixed", "amount_fen": 1000, "ceiling_fen": 999}, "ceiling"),
        (
            {
                "kind": "tiered",
                "tiers": [{"category": "一级", "amount_fen": 1}, {"category": "一级", "amount_fen": 2}],
            },
            "tiers",
        ),
        ({"kind": "per_unit", "amount_fen_per_unit": 100}, "unit"),
        ({"kind": "fixed", "amount_fen": 0}, "amount_fen"),
        ({"kind": "monthly_pension", "amount_fen": 1000}, "kind"),
        ({"kind": "fixed", "amount_fen": 1000, "yuan": 10}, "yuan"),
    ],
)
async def test_standards_are_typed_and_validated(
    registry: tuple[FastAPI, httpx.AsyncClient], standard: dict[str, Any], where: str
) -> None:
    _, c = registry
    r = await c.put("/api/v1/programs", json=[program("HM12", standard=standard)], headers=ADMIN)
    assert r.status_code == 422 and where in r.text


async def test_registers_trial_and_department_rules(registry: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, c = registry
    r = await c.put(
        "/api/v1/programs",
        json=[
            program("HM14"),
            program("HM15", requires_registers=["disabled"], excludes_registers=["disabled"]),
        ],
        headers=ADMIN,
    )
    assert errors(r) == [(2, "excludes_registers", "PROGRAM_REGISTERS_CONFLICT")]
    r = await c.put("/api/v1/programs", json=[program("HM01", rollout="trial")], headers=ADMIN)
    assert errors(r) == [(1, "rollout", "PROGRAM_TRIAL_ONLY_ONE")]
    r = await c.put("/api/v1/programs", json=[program("HM01", department_code="DEPT-NOPE")], headers=ADMIN)
    assert errors(r) == [(1, "department_code", "PROGRAM_DEPARTMENT_UNKNOWN")]
    assert (
        await c.put("/api/v1/programs", json=[program("HM01", frequency="weekly")], headers=ADMIN)
    ).status_code == 422


async def test_only_the_admin_writes_reference_data_and_only_admin_and_supervisors_read_its_audit(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    writers = [
        as_(Role.DEPARTMENT, "DEPT-CIVIL"),
        as_(Role.SUPERVISOR, "AUDIT-500104"),
        as_(Role.FINANCE, "FIN-500104"),
        as_(Role.TOWN, "500104001000"),
        as_(Role.BANK, "BANK-CQRCB"),
    ]
    writes = [
        ("PUT", "/api/v1/programs", [program("HM10")]),
        ("PUT", "/api/v1/divisions", [{"code": "500104", "name": "大渡口区", "kind": "区县"}]),
        ("PUT", "/api/v1/banks", seed.banks()[:1]),
        ("PUT", "/api/v1/organisations", seed.organisations()[:1]),
        ("PUT", "/api/v1/agency-agreements", seed.agreements()[:1]),
    ]
    for h in writers:
        for method, path, body in writes:
            r = await c.request(method, path, json=body, headers=h)
            assert r.status_code == 403 and r.json()["error"]["code"] == "ROLE_FORBIDDEN", (h, path)
        r = await c.post(
            "/api/v1/divisions/import", content=b"code,name\n", headers={**h, "content-type": "text/csv"}
        )
        assert r.status_code == 403
    for h in writers[:1] + writers[2:]:
        assert (await c.get("/api/v1/reference-changes", headers=h)).status_code == 403


async def test_a_csv_with_errors_names_row_and_field_and_loads_nothing(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    text = (
        "code,name,area_code,province_code,city_code,kind,parent_code\n"
        '500105001,"某某街道",500105,50,5001,,\n'  # its district is not loaded: kept top-level
        '500105001001,"某某社区",500105,50,5001,,\n'
        "50010500100X,坏代码,500105,50,5001,,\n"
        '500105009001,"无主村",500105,50,5001,,500105009\n'
        '500105001002,"叫不出类别",500105,50,5001,,\n'
        '500105001003,"某村",500105,50,5001,镇,\n'
    )
    r = await c.post(
        "/api/v1/divisions/import", content=text.encode(), headers={**ADMIN, "content-type": "text/csv"}
    )
    assert errors(r) == [(4, "code", "DIVISION_CODE_FORMAT"), (6, "kind", "DIVISION_KIND_UNKNOWN")]
    text = text.replace("50010500100X,坏代码,500105,50,5001,,\n", "").replace(
        '500105001002,"叫不出类别",500105,50,5001,,\n', ""
    )
    r = await c.post(
        "/api/v1/divisions/import", content=text.encode(), headers={**ADMIN, "content-type": "text/csv"}
    )
    assert errors(r) == [(4, "parent_code", "DIVISION_PARENT_UNKNOWN"), (5, "kind", "DIVISION_KIND")]
    got = (await c.get("/api/v1/divisions", params={"parent_code": "500105001000"}, headers=ADMIN)).json()
    assert got == []


async def test_agreements_one_active_per_unit_and_numbers_never_reused(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, c = registry
    first = seed.agreements()[0]
    assert (await c.put("/api/v1/agency-agreements", json=[first], headers=ADMIN)).json()["unchanged"] == 1
    r = await c.put("/api/v1/agency-agreements", json=[{**first, "bank_code": "BOC"}], headers=ADMIN)
    assert errors(r) == [(1, "agreement_no", "AGREEMENT_NO_TAKEN")]
    r = await c.put(
        "/api/v1/agency-agreements",
        json=[
            {**first, "agreement_no": "X-1", "effective_date": "2020-01-01"},
            {**first, "unit_code": "BANK-BOC", "agreement_no": "X-2"},
        ],
        headers=ADMIN,
    )
    assert errors(r) == [
        (1, "effective_date", "AGREEMENT_DATE_BEFORE_CURRENT"),
        (2, "unit_code", "AGREEMENT_UNIT_KIND"),
    ]
    async with app.state.db.transaction() as s:
        with pytest.raises(sa.exc.IntegrityError, match="agency_agreements_one_active"):
            await s.execute(
                sa.text(
                    "INSERT INTO agency_agreements (unit_code, bank_code, agreement_no, effective_date, created_by)"
                    " VALUES (:u, 'BOC', 'X-3', '2030-01-01', 't')"
                ),
                {"u": first["unit_code"]},
            )


async def test_organisations_and_banks_are_linked_consistently(
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, c = registry
    r = await c.put(
        "/api/v1/organisations",
        json=[
            {"code": "TOWN-X", "name": "某镇", "kind": "town", "division_code": "500104101000"},
            {"code": "500104999000", "name": "无此镇", "kind": "town", "division_code": "500104999000"},
            {"code": "BANK-X", "name": "某行", "kind": "bank", "bank_code": "NOPE"},
        ],
        headers=ADMIN,
    )
    assert errors(r) == [
        (1, "code", "ORG_TOWN_CODE"),
        (2, "division_code", "ORG_DIVISION_UNKNOWN"),
        (3, "bank_code", "BANK_UNKNOWN"),
    ]
    r = await c.put("/api/v1/organisations", json=[{"code": "X", "name": "x", "kind": "town"}], headers=ADMIN)
    assert r.status_code == 422
    r = await c.put("/api/v1/banks", json=[{**seed.banks()[0], "code": "CQRCB2"}], headers=ADMIN)
    assert errors(r) == [(1, "institution_code", "BANK_INSTITUTION_TAKEN")]
    r = await c.put("/api/v1/banks", json=[{**seed.banks()[0], "adapter": "json-api"}], headers=ADMIN)
    assert r.status_code == 422
