"""A unit uploads its batch as a file (CSV, XLSX, JSON, JSON Lines): the batch is stored, travels
to validation as chunks summing to the declared totals, its lifecycle and every record's state
can be followed, and rejected records are corrected and travel again without the good ones."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import Workbook
from ykt_contracts import BatchValidatedV1, ChunkInfo, RecordVerdict, Totals
from ykt_kit.actor import Role
from ykt_kit.testing import EventRecorder, HandledEvents, publish

pytestmark = pytest.mark.integration


async def test_csv_upload_is_stored_and_travels_as_chunks_summing_to_the_declared_totals(
    intake: Any, tmp_path: Path
) -> None:
    path = intake.write_csv(tmp_path / "batch.csv", intake.people(450, seed=random.randrange(10**6)))
    no = intake.new_no()
    r = await intake.upload(
        path, unit_batch_no=no, declared_count=450, declared_amount_fen=450 * intake.amount
    )
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["duplicate"] is False and b["status"] == "validating" and b["unit_batch_no"] == no
    assert b["records_by_status"] == {"submitted": {"record_count": 450, "amount_fen": 450 * intake.amount}}
    assert b["file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert b["file"]["format"] == "csv" and b["file"]["bytes"] == path.stat().st_size

    assert await intake.chunks(b["batch_id"]) == {
        "events": 5,
        "indexes": 5,
        "declared_chunks": 5,
        "record_count": 450,
        "amount_fen": 450 * intake.amount,
        "records": 450,
        "largest": 100,
    }
    h = intake.headers()
    history = (await intake.client.get(f"/api/v1/batches/{b['batch_id']}/history", headers=h)).json()
    assert [(x["from_status"], x["status"]) for x in history] == [
        (None, "submitted"),
        ("submitted", "validating"),
    ]
    assert history[0]["at"] <= history[1]["at"]

    # per-record state, page by page (keyset pages for deep pages)
    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await intake.client.get(
            f"/api/v1/batches/{b['batch_id']}/records", params={"after_seq": after, "limit": 200}, headers=h
        )
        assert page.status_code == 200, page.text
        if not page.json():
            break
        seen += page.json()
        after = page.json()[-1]["seq"]
    assert [x["seq"] for x in seen] == list(range(1, 451))
    assert {x["status"] for x in seen} == {"submitted"}
    assert all("*" in x["id_number"] and x["account_no"].startswith("*") for x in seen)


async def test_xlsx_with_chinese_headings_and_amounts_in_yuan_is_accepted(
    intake: Any, tmp_path: Path
) -> None:
    rows = list(intake.people(30, seed=random.randrange(10**6), amount=65_050))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("发放明细")
    ws.append(
        ["序号", "姓名", "身份证号码", "一卡通账号", "代发银行", "金额（元）", "镇街代码", "村（社区）"]
    )
    for i, p in enumerate(rows, start=1):
        ws.append(
            [i, p["name"], p["id_number"], p["account_no"], "CQRCB", 650.50, p["town_code"], p["village"]]
        )
    path = tmp_path / "低保2026年11月.xlsx"
    wb.save(path)
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        declared_count=30,
        declared_amount="19515.00",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=path.name,
    )
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["file"] | {"sha256": None} == {
        "sha256": None,
        "format": "xlsx",
        "name": path.name,
        "bytes": path.stat().st_size,
    }
    assert b["records_by_status"]["submitted"] == {"record_count": 30, "amount_fen": 30 * 65_050}
    assert (await intake.chunks(b["batch_id"]))["amount_fen"] == 30 * 65_050


async def test_a_quantity_is_priced_by_the_program_standard(intake: Any, tmp_path: Path) -> None:
    rows = list(intake.people(3, seed=random.randrange(10**6)))
    for p, qty in zip(rows, ("3.333", "10", "0.25"), strict=True):
        p["quantity"] = qty
        p["amount_fen"] = ""
    path = intake.write_csv(tmp_path / "mu.csv", rows, columns=(*intake.columns, "quantity"))
    expected = [
        int((Decimal(q) * intake.hm01_standard_fen + Decimal("0.5")) // 1) for q in ("3.333", "10", "0.25")
    ]
    agri = intake.headers(Role.DEPARTMENT, "DEPT-AGRI")
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        program_code="HM01",
        period="2026",
        declared_count=3,
        declared_amount_fen=sum(expected),
        headers=agri,
    )
    assert r.status_code == 201, r.text
    recs = (await intake.client.get(f"/api/v1/batches/{r.json()['batch_id']}/records", headers=agri)).json()
    assert [(x["amount_fen"], Decimal(x["quantity"])) for x in recs] == [
        (a, Decimal(q)) for a, q in zip(expected, ("3.333", "10", "0.25"), strict=True)
    ]
    assert expected[0] == 34_997  # 3.333 mu × 105.00 yuan = 349.965 yuan, rounded half up to the fen


async def test_json_and_json_lines_files_are_accepted(intake: Any, tmp_path: Path) -> None:
    rows = list(intake.people(12, seed=random.randrange(10**6)))
    doc = tmp_path / "batch.json"
    doc.write_bytes(orjson.dumps({"records": rows[:6]}))
    lines = tmp_path / "batch.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps(r) for r in rows[6:]) + b"\n")
    for path, ctype, fmt in ((doc, "application/json", "json"), (lines, "application/x-ndjson", "ndjson")):
        r = await intake.upload(
            path,
            unit_batch_no=intake.new_no(),
            declared_count=6,
            declared_amount_fen=6 * intake.amount,
            content_type=ctype,
        )
        assert r.status_code == 201, r.text
        assert r.json()["file"]["format"] == fmt
        assert r.json()["records_by_status"]["submitted"]["record_count"] == 6


async def test_rejected_records_of_an_uploaded_batch_are_corrected_and_only_they_travel_again(
    intake: Any, tmp_path: Path, kafka_bootstrap: str
) -> None:
    rows = list(intake.people(3, seed=random.randrange(10**6)))
    path = intake.write_csv(tmp_path / "b.csv", rows)
    h = intake.headers()
    r = await intake.upload(
        path, unit_batch_no=intake.new_no(), declared_count=3, declared_amount_fen=3 * intake.amount
    )
    bid = r.json()["batch_id"]
    handled = HandledEvents(intake.app.state.bus)
    async with EventRecorder(kafka_bootstrap, "batch.submitted") as rec:
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
                RecordVerdict(record_id=x["record_id"], outcome="pass", code="OK", message="校验通过")
                for x in recs[1:]
            ],
        ]
        totals = Totals(**sub["round_totals"])
        envs = await publish(
            kafka_bootstrap,
            BatchValidatedV1(
                batch_id=bid,
                unit_code=intake.dept,
                program_code="HM10",
                period="2026-11",
                round=1,
                rule_set_version="v1",
                round_totals=totals,
                chunk=ChunkInfo(index=0, count=1, totals=totals),
                verdicts=verdicts,
            ),
            correlation_id=bid,
        )
        assert await handled.wait(envs) == ["processed"]
        view = (await intake.client.get(f"/api/v1/batches/{bid}", headers=h)).json()
        assert view["status"] == "needs_correction"
        rejected = (
            await intake.client.get(
                f"/api/v1/batches/{bid}/records", params={"status": "rejected"}, headers=h
            )
        ).json()
        assert [(x["record_id"], x["code"]) for x in rejected] == [(recs[0]["record_id"], "ID_CHECKSUM")]
        fixed = next(iter(intake.people(1, seed=random.randrange(10**6))))["id_number"]
        r = await intake.client.post(
            f"/api/v1/batches/{bid}/records/{recs[0]['record_id']}/correction",
            json={"id_number": fixed},
            headers=h,
        )
        assert r.status_code == 200, r.text
        r = await intake.client.post(f"/api/v1/batches/{bid}/resubmission", headers=h)
        assert r.status_code == 200 and r.json()["round"] == 2
        await rec.wait_for(lambda x: len(x.of("batch.submitted", bid)) == 2)
        second = rec.of("batch.submitted", bid)[1].payload
    assert [x["record_id"] for x in second["records"]] == [recs[0]["record_id"]]
    assert second["records"][0]["id_number"] == fixed
    assert second["round_totals"] == {"record_count": 1, "amount_fen": intake.amount}
    history = (await intake.client.get(f"/api/v1/batches/{bid}/history", headers=h)).json()
    assert [(x["status"], x["round"]) for x in history] == [
        ("submitted", 1),
        ("validating", 1),
        ("needs_correction", 1),
        ("validating", 2),
    ]


async def test_an_xlsx_with_a_title_row_names_instead_of_codes_and_empty_rows_below_is_read(
    intake: Any, tmp_path: Path
) -> None:
    rows = list(intake.people(8, seed=random.randrange(10**6), amount=12_000))
    wb = Workbook()
    ws = wb.active
    ws.append(["大渡口区城乡低保金发放清单（2026年11月）"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "姓名", "身份证号码", "账号", "代发银行", "发放金额（元）", "镇街", "村（社区）"])
    for i, p in enumerate(rows, start=1):
        ws.append(
            [
                i,
                p["name"],
                p["id_number"],
                p["account_no"],
                "重庆农村商业银行",
                120,
                "新山村街道",
                p["village"],
            ]
        )
    for _ in range(5):
        ws.append([None] * 8)
    path = tmp_path / "低保清单.xlsx"
    wb.save(path)
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        declared_count=8,
        declared_amount_fen=8 * 12_000,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert r.status_code == 201, r.text
    recs = (
        await intake.client.get(f"/api/v1/batches/{r.json()['batch_id']}/records", headers=intake.headers())
    ).json()
    assert {(x["town_code"], x["bank_code"], x["amount_fen"]) for x in recs} == {
        (intake.town, "CQRCB", 12_000)
    }
    assert [x["seq"] for x in recs] == list(range(1, 9))
