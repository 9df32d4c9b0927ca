"""Batch intake: a unit submits, the batch travels to validation as chunks with totals, verdicts
come back and the batch can be corrected, resubmitted and sent."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ykt_contracts import (
    MAX_RECORDS_PER_CHUNK,
    BatchSubmittedV1,
    BatchValidatedV1,
    ChunkInfo,
    RecordVerdict,
    Totals,
)
from ykt_contracts.reference import DEPARTMENTS, PROGRAMS, TOWNS
from ykt_kit import synthetic
from ykt_kit.actor import Role
from ykt_kit.testing import EventRecorder, HandledEvents, actor_headers, publish, running
from ykt_registry import seed
from ykt_registry.config import Settings
from ykt_registry.main import create_app

pytestmark = pytest.mark.integration
TOWN = TOWNS[0].code
DEPT = "DEPT-CIVIL"


@pytest.fixture
async def client(platform_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings()
    async with running(create_app(settings)) as c:
        c.headers.update(actor_headers(settings.service_secret, Role.ADMIN, "FIN-500104"))
        await c.put(
            "/api/v1/organisations",
            json=[{"code": d.code, "name": d.name, "kind": "department"} for d in DEPARTMENTS],
        )
        await c.put(
            "/api/v1/programs",
            json=[
                {
                    "code": p.code,
                    "name": p.name,
                    "department_code": p.department_code,
                    "frequency": p.frequency,
                }
                for p in PROGRAMS
            ],
        )
        await c.put(
            "/api/v1/divisions", json=[{"code": t.code, "name": t.name, "kind": t.kind} for t in TOWNS]
        )
        await c.put("/api/v1/banks", json=[{"code": "CQRCB", "name": "重庆农村商业银行"}])
        yield c


def as_unit(c: httpx.AsyncClient, role: Role, org: str) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=f"{role}-{org}")


def batch_body(n: int, *, seed: int, amount: int = 50_000, no: str | None = None) -> dict[str, Any]:
    people = synthetic.population(
        n, seed=seed, area="500104", towns=[(TOWN, "新山村社区")], bank_codes=["CQRCB"]
    )
    records = [
        {
            "id_number": p.id_number,
            "name": p.name,
            "account_no": p.account_no,
            "bank_code": "CQRCB",
            "amount_fen": amount,
            "town_code": TOWN,
            "village": p.village,
        }
        for p in people
    ]
    return {
        "unit_batch_no": no or f"MZ-{uuid.uuid4().hex[:8]}",
        "program_code": "HM10",
        "period": "2026-11",
        "declared": {"record_count": n, "amount_fen": n * amount},
        "records": records,
    }


async def test_submitted_batch_travels_as_chunks_with_declared_totals(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    body = batch_body(450, seed=random.randrange(10**6))
    r = await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.DEPARTMENT, DEPT))
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["status"] == "validating"
    assert batch["records_by_status"]["submitted"] == {"record_count": 450, "amount_fen": 450 * 50_000}
    async with EventRecorder(kafka_bootstrap, "batch.submitted") as rec:
        await rec.wait_for(lambda x: len(x.of("batch.submitted", batch["batch_id"])) == 5, what="5 chunks")
        chunks = [e.payload for e in rec.of("batch.submitted", batch["batch_id"])]
    assert sorted(c["chunk"]["index"] for c in chunks) == [0, 1, 2, 3, 4]
    assert max(len(c["records"]) for c in chunks) == MAX_RECORDS_PER_CHUNK
    assert sum(c["chunk"]["totals"]["record_count"] for c in chunks) == 450
    assert sum(c["chunk"]["totals"]["amount_fen"] for c in chunks) == 450 * 50_000
    assert all(c["round_totals"] == {"record_count": 450, "amount_fen": 450 * 50_000} for c in chunks)


async def test_submitted_chunks_carry_the_programs_rules_from_the_catalogue(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    catalogue = seed.programs()  # with standards, registers and exclusions
    assert (await client.put("/api/v1/programs", json=catalogue)).status_code == 200
    body = batch_body(3, seed=random.randrange(10**6))
    r = await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.DEPARTMENT, DEPT))
    assert r.status_code == 201, r.text
    bid = r.json()["batch_id"]
    async with EventRecorder(kafka_bootstrap, "batch.submitted") as rec:
        await rec.wait_for(lambda x: len(x.of("batch.submitted", bid)) == 1)
        sub = BatchSubmittedV1.model_validate(rec.of("batch.submitted", bid)[0].payload)
    [hm10] = [p for p in catalogue if p["code"] == "HM10"]
    assert sub.program is not None
    assert sub.program.code == "HM10" and sub.program.frequency == hm10["frequency"]
    assert sub.program.standard is not None
    assert sub.program.standard.model_dump(exclude_none=True) == hm10["standard"]
    assert set(sub.program.requires_registers) == set(hm10["requires_registers"])
    assert set(sub.program.excludes_registers) == set(hm10["excludes_registers"])
    assert sub.program.exclusive_with == hm10["exclusive_with"] == ["HM11"]


async def test_same_submission_twice_is_one_batch_and_same_number_other_content_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = batch_body(3, seed=random.randrange(10**6))
    h = as_unit(client, Role.DEPARTMENT, DEPT)
    first = (await client.post("/api/v1/batches", json=body, headers=h)).json()
    again = await client.post("/api/v1/batches", json=body, headers=h)
    assert again.json()["batch_id"] == first["batch_id"] and again.json()["duplicate"] is True
    other = {**body, "records": body["records"][:2], "declared": {"record_count": 2, "amount_fen": 100_000}}
    r = await client.post("/api/v1/batches", json=other, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "BATCH_NO_CONFLICT"


async def test_control_totals_off_by_one_fen_rejects_the_batch_naming_both_figures(
    client: httpx.AsyncClient,
) -> None:
    body = batch_body(4, seed=random.randrange(10**6))
    body["declared"]["amount_fen"] += 1
    r = await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.DEPARTMENT, DEPT))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "CONTROL_TOTALS_MISMATCH"
    assert "2000.01" in err["message"] and "2000.00" in err["message"]
    listed = (await client.get("/api/v1/batches", headers=as_unit(client, Role.DEPARTMENT, DEPT))).json()
    assert body["unit_batch_no"] not in {b["unit_batch_no"] for b in listed}


async def test_scopes_deny_other_units_and_other_departments_programs(client: httpx.AsyncClient) -> None:
    body = batch_body(2, seed=random.randrange(10**6))
    created = (
        await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.DEPARTMENT, DEPT))
    ).json()
    other_town = as_unit(client, Role.TOWN, TOWNS[1].code)
    assert (await client.get(f"/api/v1/batches/{created['batch_id']}", headers=other_town)).status_code == 404
    agri = as_unit(client, Role.DEPARTMENT, "DEPT-AGRI")
    r = await client.post("/api/v1/batches", json=batch_body(2, seed=5), headers=agri)
    assert r.status_code == 403 and r.json()["error"]["code"] == "OUT_OF_SCOPE"
    town = as_unit(client, Role.TOWN, TOWNS[1].code)  # records belong to TOWNS[0]
    r = await client.post(
        "/api/v1/batches", json={**batch_body(2, seed=6), "program_code": "HM10"}, headers=town
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["errors"][0]["code"] == "TOWN_NOT_YOURS"
    bank = as_unit(client, Role.BANK, "BANK-CQRCB")
    assert (await client.get("/api/v1/batches", headers=bank)).status_code == 403
    assert (
        await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.FINANCE, "FIN"))
    ).status_code == 403
    assert (
        await client.post("/api/v1/batches", json=body, headers=as_unit(client, Role.SUPERVISOR, "AUD"))
    ).status_code == 403
    assert (await client.get("/api/v1/batches")).status_code != 401  # admin headers from fixture are valid
    unsigned = {"x-ykt-actor": "x", "x-ykt-role": "admin", "x-ykt-org": "x", "x-ykt-actor-sig": "forged"}
    assert (await client.get("/api/v1/batches", headers=unsigned)).status_code == 401


async def test_rejected_records_are_corrected_and_only_they_are_resubmitted(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    body = batch_body(3, seed=random.randrange(10**6))
    h = as_unit(client, Role.DEPARTMENT, DEPT)
    b = (await client.post("/api/v1/batches", json=body, headers=h)).json()
    bid = b["batch_id"]
    async with EventRecorder(kafka_bootstrap, "batch.submitted", "batch.sent") as rec:
        await rec.wait_for(lambda x: len(x.of("batch.submitted", bid)) == 1)
        sub = rec.of("batch.submitted", bid)[0].payload
        recs = sub["records"]
        verdicts = [
            RecordVerdict(
                record_id=recs[0]["record_id"],
                outcome="reject",
                code="ID_CHECKSUM",
                message="身份证号码校验位错误",
            ),
            *[
                RecordVerdict(record_id=r["record_id"], outcome="pass", code="OK", message="校验通过")
                for r in recs[1:]
            ],
        ]
        await publish(
            kafka_bootstrap,
            BatchValidatedV1(
                batch_id=bid,
                unit_code=DEPT,
                program_code="HM10",
                period="2026-11",
                round=1,
                rule_set_version="v1",
                round_totals=Totals(**sub["round_totals"]),
                chunk=ChunkInfo(index=0, count=1, totals=Totals(**sub["round_totals"])),
                verdicts=verdicts,
            ),
            correlation_id=bid,
        )
        view = await _until(client, bid, h, "needs_correction")
        assert view["records_by_status"]["rejected"]["record_count"] == 1
        assert (await client.post(f"/api/v1/batches/{bid}/sending", headers=h)).status_code == 409
        fixed = synthetic.population(
            1, seed=999_999, area="500104", towns=[(TOWN, "x")], bank_codes=["CQRCB"]
        )[0]
        r = await client.post(
            f"/api/v1/batches/{bid}/records/{recs[0]['record_id']}/correction",
            json={"id_number": fixed.id_number},
            headers=h,
        )
        assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/batches/{bid}/resubmission", headers=h)
        assert r.status_code == 200 and r.json()["round"] == 2
        await rec.wait_for(lambda x: len(x.of("batch.submitted", bid)) == 2)
        second = rec.of("batch.submitted", bid)[1].payload
        assert [x["record_id"] for x in second["records"]] == [recs[0]["record_id"]]
        assert second["records"][0]["id_number"] == fixed.id_number


async def _until(client: httpx.AsyncClient, bid: str, h: dict[str, str], status: str) -> dict[str, Any]:
    """Poll the batch until it reaches `status` (the change comes from an event)."""
    import asyncio

    for _ in range(300):
        v = (await client.get(f"/api/v1/batches/{bid}", headers=h)).json()
        if v["status"] == status:
            return dict(v)
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch stayed {v['status']}, expected {status}")


async def test_batch_completes_only_once_registry_holds_every_bank_result(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    """batch.completed and disclosure.published may overtake the results on their own topics."""
    from datetime import date

    from ykt_contracts import (
        BatchApprovedV1,
        BatchCompletedV1,
        DisclosurePublishedV1,
        PaymentSettledV1,
        SettledRecord,
    )

    h = as_unit(client, Role.DEPARTMENT, DEPT)
    bid = (
        await client.post("/api/v1/batches", json=batch_body(3, seed=random.randrange(10**6)), headers=h)
    ).json()["batch_id"]
    async with EventRecorder(kafka_bootstrap, "batch.submitted") as rec:
        await rec.wait_for(lambda x: len(x.of("batch.submitted", bid)) == 1)
        sub = rec.of("batch.submitted", bid)[0].payload
    recs, totals = sub["records"], Totals(**sub["round_totals"])
    common = {"program_code": "HM10", "period": "2026-11"}
    await publish(
        kafka_bootstrap,
        BatchValidatedV1(
            batch_id=bid,
            unit_code=DEPT,
            round=1,
            rule_set_version="v1",
            round_totals=totals,
            chunk=ChunkInfo(index=0, count=1, totals=totals),
            **common,
            verdicts=[
                RecordVerdict(record_id=r["record_id"], outcome="pass", code="OK", message="校验通过")
                for r in recs
            ],
        ),
        correlation_id=bid,
    )
    await _until(client, bid, h, "validated")
    await client.post(f"/api/v1/batches/{bid}/sending", headers=h)
    await publish(
        kafka_bootstrap,
        BatchApprovedV1(batch_id=bid, totals=totals, approved_by="finance"),
        correlation_id=bid,
    )
    await _until(client, bid, h, "approved")
    none = Totals(record_count=0, amount_fen=0)
    handled = HandledEvents(client._transport.app.state.bus)  # type: ignore[attr-defined]
    reports = await publish(
        kafka_bootstrap,
        BatchCompletedV1(
            batch_id=bid, unit_code=DEPT, instructed=totals, settled=totals, failed=none, **common
        ),
        DisclosurePublishedV1(
            publication_id="p-" + bid,
            batch_id=bid,
            totals=totals,
            path="/public/publications/p",
            window_start="2026-11-27T00:00:00Z",
            window_end="2026-12-04T00:00:00Z",
            **common,
        ),
        correlation_id=bid,
    )
    await handled.wait(reports)
    # both reports are in, the results are not: still approved, nothing shown as paid
    assert (await client.get(f"/api/v1/batches/{bid}", headers=h)).json()["status"] == "approved"
    settled = [
        SettledRecord(
            end_to_end_id=r["record_id"],
            record_id=r["record_id"],
            person_key=r["person_key"],
            name=r["name"],
            id_number=r["id_number"],
            town_code=r["town_code"],
            village=r["village"],
            amount_fen=r["amount_fen"],
            settled_on=date(2026, 11, 27),
            bank_txn_id=f"T{i}",
            **common,
        )
        for i, r in enumerate(recs)
    ]
    await publish(
        kafka_bootstrap,
        PaymentSettledV1(batch_id=bid, bank_code="CQRCB", totals=totals, records=settled),
        correlation_id=bid,
    )
    view = await _until(client, bid, h, "disclosed")
    assert view["records_by_status"] == {"settled": {"record_count": 3, "amount_fen": 150_000}}
    assert view["publication_path"] == "/public/publications/p"
