"""Batch files that must be refused, or answered as what they are: wrong control totals, the same
file or number again, empty files, missing fields, races between identical submissions, a bad
row at the very end of a large file. A refused batch leaves nothing behind."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from ykt_kit.actor import Role

pytestmark = pytest.mark.integration


async def _nothing_stored(intake: Any, unit_batch_no: str) -> None:
    assert await intake.scalar("SELECT count(*) FROM batches WHERE unit_batch_no = :n", n=unit_batch_no) == 0
    assert (
        await intake.scalar(
            "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8') LIKE :p", p=f"%{unit_batch_no}%"
        )
        == 0
    )


async def test_control_totals_off_by_one_fen_refuse_the_file_naming_both_figures(
    intake: Any, tmp_path: Path
) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(4, seed=random.randrange(10**6)))
    no = intake.new_no()
    records_before = await intake.scalar("SELECT count(*) FROM batch_records")
    r = await intake.upload(
        path, unit_batch_no=no, declared_count=4, declared_amount_fen=4 * intake.amount + 1
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "CONTROL_TOTALS_MISMATCH"
    assert "申报 4 笔、2000.01 元" in err["message"] and "实际 4 笔、2000.00 元" in err["message"]
    assert err["details"] == {
        "declared": {"record_count": 4, "amount_fen": 200_001},
        "actual": {"record_count": 4, "amount_fen": 200_000},
    }
    await _nothing_stored(intake, no)
    assert await intake.scalar("SELECT count(*) FROM batch_records") == records_before
    # the corrected declaration goes through under the same number: nothing was claimed
    r = await intake.upload(path, unit_batch_no=no, declared_count=4, declared_amount_fen=4 * intake.amount)
    assert r.status_code == 201, r.text


async def test_same_file_with_the_same_number_twice_is_one_batch(intake: Any, tmp_path: Path) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(5, seed=random.randrange(10**6)))
    no = intake.new_no()
    first = await intake.upload(
        path, unit_batch_no=no, declared_count=5, declared_amount_fen=5 * intake.amount
    )
    again = await intake.upload(
        path, unit_batch_no=no, declared_count=5, declared_amount_fen=5 * intake.amount
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True and again.json()["batch_id"] == first.json()["batch_id"]
    assert (await intake.chunks(first.json()["batch_id"]))["events"] == 1


async def test_same_number_with_other_content_is_refused_naming_the_number(
    intake: Any, tmp_path: Path
) -> None:
    rows = list(intake.people(5, seed=random.randrange(10**6)))
    no = intake.new_no()
    a = intake.write_csv(tmp_path / "a.csv", rows)
    b = intake.write_csv(tmp_path / "b.csv", rows[:4])
    assert (
        await intake.upload(a, unit_batch_no=no, declared_count=5, declared_amount_fen=5 * intake.amount)
    ).status_code == 201
    r = await intake.upload(b, unit_batch_no=no, declared_count=4, declared_amount_fen=4 * intake.amount)
    assert r.status_code == 409
    err = r.json()["error"]
    assert (
        err["code"] == "BATCH_NO_CONFLICT" and no in err["message"] and err["details"]["unit_batch_no"] == no
    )


async def test_same_file_under_another_number_is_refused_naming_the_first_batch(
    intake: Any, tmp_path: Path
) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(5, seed=random.randrange(10**6)))
    first_no, second_no = intake.new_no(), intake.new_no()
    first = await intake.upload(
        path, unit_batch_no=first_no, declared_count=5, declared_amount_fen=5 * intake.amount
    )
    r = await intake.upload(
        path, unit_batch_no=second_no, declared_count=5, declared_amount_fen=5 * intake.amount
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "DUPLICATE_FILE"
    assert first_no in err["message"] and err["details"] == {
        "unit_batch_no": first_no,
        "batch_id": first.json()["batch_id"],
    }
    await _nothing_stored(intake, second_no)


async def test_a_zero_byte_upload_and_a_file_of_headings_only_are_refused(
    intake: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    no = intake.new_no()
    r = await intake.upload(empty, unit_batch_no=no, declared_count=0, declared_amount_fen=0)
    assert r.status_code == 422 and r.json()["error"]["code"] == "FILE_EMPTY"
    headings = intake.write_csv(tmp_path / "headings.csv", [])
    r = await intake.upload(headings, unit_batch_no=no, declared_count=0, declared_amount_fen=0)
    assert r.status_code == 422 and r.json()["error"]["code"] == "NO_RECORDS"
    await _nothing_stored(intake, no)


async def test_missing_and_malformed_fields_are_reported_by_row_and_nothing_is_stored(
    intake: Any, tmp_path: Path
) -> None:
    rows = list(intake.people(6, seed=random.randrange(10**6)))
    rows[1]["name"] = ""
    rows[2]["amount_fen"] = "12.5"
    rows[3]["bank_code"] = "NOBANK"
    rows[4]["account_no"] = "12"
    rows[5]["amount_fen"] = ""
    path = intake.write_csv(tmp_path / "b.csv", rows)
    no = intake.new_no()
    r = await intake.upload(path, unit_batch_no=no, declared_count=6, declared_amount_fen=6 * intake.amount)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "RECORDS_INVALID" and err["details"]["error_count"] == 5
    # row numbers as the clerk sees them: line 1 holds the headings
    assert [(e["row"], e["field"], e["code"]) for e in err["details"]["errors"]] == [
        (3, "name", "FIELD_MISSING"),
        (4, "amount_fen", "AMOUNT_INVALID"),
        (5, "bank_code", "BANK_UNKNOWN"),
        (6, "account_no", "FIELD_INVALID"),
        (7, "amount_fen", "AMOUNT_MISSING"),
    ]
    assert err["details"]["errors"][0]["message"] == "第3行：缺少姓名"
    await _nothing_stored(intake, no)


async def test_a_missing_column_is_refused_naming_it(intake: Any, tmp_path: Path) -> None:
    cols = tuple(c for c in intake.columns if c != "account_no")
    path = intake.write_csv(tmp_path / "b.csv", intake.people(2, seed=1), columns=cols)
    r = await intake.upload(
        path, unit_batch_no=intake.new_no(), declared_count=2, declared_amount_fen=2 * intake.amount
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "FILE_HEADER_MISSING" and err["details"]["missing"] == ["账号"]


async def test_missing_batch_data_is_refused_before_the_file_is_read(intake: Any, tmp_path: Path) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(2, seed=2))
    r = await intake.client.post(
        "/api/v1/batches/files",
        params={"unit_batch_no": intake.new_no(), "program_code": "HM10", "period": "2026-13"},
        content=path.read_bytes(),
        headers={**intake.headers(), "content-type": "text/csv"},
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "BATCH_META_INVALID"
    assert err["details"]["fields"] == ["amount_fen", "period", "record_count"]


async def test_another_departments_program_is_refused_before_the_file_is_read(
    intake: Any, tmp_path: Path
) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(2, seed=3))
    agri = intake.headers(Role.DEPARTMENT, "DEPT-AGRI")
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        declared_count=2,
        declared_amount_fen=2 * intake.amount,
        headers=agri,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "OUT_OF_SCOPE"
    finance = intake.headers(Role.FINANCE, "FIN-500104")
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        declared_count=2,
        declared_amount_fen=2 * intake.amount,
        headers=finance,
    )
    assert r.status_code == 403


async def test_a_quantity_without_a_program_standard_is_refused_by_row(intake: Any, tmp_path: Path) -> None:
    rows = list(intake.people(2, seed=random.randrange(10**6)))
    rows[1]["amount_fen"] = ""
    rows[1]["quantity"] = "2"
    path = intake.write_csv(tmp_path / "b.csv", rows, columns=(*intake.columns, "quantity"))
    r = await intake.upload(
        path,
        unit_batch_no=intake.new_no(),
        program_code="HM12",
        declared_count=2,
        declared_amount_fen=2 * intake.amount,
    )
    assert r.status_code == 422
    [e] = r.json()["error"]["details"]["errors"]
    assert (e["row"], e["field"], e["code"]) == (3, "quantity", "STANDARD_MISSING")


async def test_row_errors_are_capped_but_all_are_counted(intake: Any, tmp_path: Path) -> None:
    rows = list(intake.people(700, seed=random.randrange(10**6)))
    for p in rows[:650]:
        p["town_code"] = "999999999999"
    path = intake.write_csv(tmp_path / "b.csv", rows)
    r = await intake.upload(
        path, unit_batch_no=intake.new_no(), declared_count=700, declared_amount_fen=700 * intake.amount
    )
    d = r.json()["error"]["details"]
    assert (d["error_count"], len(d["errors"]), d["truncated"]) == (650, 500, True)
    assert {e["code"] for e in d["errors"]} == {"TOWN_UNKNOWN"}


async def test_a_gb18030_csv_as_saved_by_excel_is_read(intake: Any, tmp_path: Path) -> None:
    cols = ("姓名", "身份证号码", "账号", "代发银行", "金额（元）", "镇街代码", "村（社区）")
    keys = ("name", "id_number", "account_no", "bank_code", "amount_yuan", "town_code", "village")
    rows = [{**p, "amount_yuan": "500.00"} for p in intake.people(3, seed=random.randrange(10**6))]
    path = tmp_path / "gbk.csv"
    with path.open("w", newline="", encoding="gb18030") as f:
        f.write(",".join(cols) + "\r\n")
        for p in rows:
            f.write(",".join(str(p[k]) for k in keys) + "\r\n")
    r = await intake.upload(path, unit_batch_no=intake.new_no(), declared_count=3, declared_amount="1500")
    assert r.status_code == 201, r.text


async def test_two_identical_submissions_at_once_make_one_batch(intake: Any, tmp_path: Path) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(3_000, seed=random.randrange(10**6)))
    no = intake.new_no()
    a, b = await asyncio.gather(
        *(
            intake.upload(
                path, unit_batch_no=no, declared_count=3_000, declared_amount_fen=3_000 * intake.amount
            )
            for _ in range(2)
        )
    )
    assert sorted((a.status_code, b.status_code)) == [200, 201], (a.text, b.text)
    assert a.json()["batch_id"] == b.json()["batch_id"]
    assert {a.json()["duplicate"], b.json()["duplicate"]} == {True, False}
    assert await intake.scalar("SELECT count(*) FROM batches WHERE unit_batch_no = :n", n=no) == 1
    assert (await intake.chunks(a.json()["batch_id"]))["records"] == 3_000


async def test_the_same_file_under_two_numbers_at_once_is_accepted_once(intake: Any, tmp_path: Path) -> None:
    path = intake.write_csv(tmp_path / "b.csv", intake.people(3_000, seed=random.randrange(10**6)))
    nos = [intake.new_no(), intake.new_no()]
    a, b = await asyncio.gather(
        *(
            intake.upload(
                path, unit_batch_no=n, declared_count=3_000, declared_amount_fen=3_000 * intake.amount
            )
            for n in nos
        )
    )
    assert sorted((a.status_code, b.status_code)) == [201, 409], (a.text, b.text)
    won, lost = (a, b) if a.status_code == 201 else (b, a)
    assert lost.json()["error"]["code"] == "DUPLICATE_FILE"
    assert lost.json()["error"]["details"]["batch_id"] == won.json()["batch_id"]


async def test_a_bad_row_at_the_end_of_a_large_file_leaves_nothing_behind(
    intake: Any, tmp_path: Path
) -> None:
    n = 20_000
    rows = list(intake.people(n, seed=random.randrange(10**6)))
    rows[-1]["bank_code"] = "NOBANK"
    path = intake.write_csv(tmp_path / "big.csv", rows)
    no = intake.new_no()
    records_before = await intake.scalar("SELECT count(*) FROM batch_records")
    r = await intake.upload(path, unit_batch_no=no, declared_count=n, declared_amount_fen=n * intake.amount)
    assert r.status_code == 422
    [e] = r.json()["error"]["details"]["errors"]
    assert (e["row"], e["code"]) == (n + 1, "BANK_UNKNOWN")
    await _nothing_stored(intake, no)
    assert await intake.scalar("SELECT count(*) FROM batch_records") == records_before
    rows[-1]["bank_code"] = "CQRCB"
    intake.write_csv(path, rows)
    r = await intake.upload(path, unit_batch_no=no, declared_count=n, declared_amount_fen=n * intake.amount)
    assert r.status_code == 201, r.text
    assert await intake.scalar("SELECT count(*) FROM batch_records") == records_before + n
