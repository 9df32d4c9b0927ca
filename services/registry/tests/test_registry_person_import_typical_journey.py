"""Collection-form imports (Annex 2): a town hands in its 个人一卡通账户收集表 as XLSX or as a GBK
CSV exported from another system; the rows become people with one-card accounts; the same file
again changes nothing; a file with errors is refused whole (or only its bad rows, if the unit
chose so) and the clerk downloads a report naming row, column, code and reason."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from ykt_kit import synthetic
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers
from ykt_registry.config import Settings
from ykt_registry.intake.fixtures import BENEFICIARY_HEADER, write_csv, write_xlsx

pytestmark = pytest.mark.integration

TIAODENG = "500104103000"  # 跳磴镇
JIANSHENG = "500104102000"  # 建胜镇
IMPORTS = "/api/v1/beneficiaries/imports"


def as_(role: Role, org: str, user: str | None = None) -> dict[str, str]:
    return actor_headers(Settings().service_secret, role, org, user=user or f"{role}-{org}")


CLERK = as_(Role.TOWN, TIAODENG, "td-clerk")


def people(n: int, town: str = TIAODENG, village: str = "跳磴社区") -> list[synthetic.Person]:
    return synthetic.population(
        n, seed=random.randrange(10**9), area="500104", towns=[(town, village)], bank_codes=["CQRCB"]
    )


def form_row(i: int, p: synthetic.Person, **changes: Any) -> list[str]:
    values = {
        "序号": str(i),
        "姓名": p.name,
        "身份证号码": p.id_number,
        "联系电话": p.phone,
        "镇街": "跳磴镇" if p.town_code == TIAODENG else p.town_code,
        "村（社区）": p.village,
        "户号": f"H{i:05d}",
        "账户载体": "社保卡",
        "代发银行": "重庆农村商业银行",
        "账号/卡号": p.account_no,
        "账户户名": p.name,
        **changes,
    }
    return [values[h] for h in BENEFICIARY_HEADER]


async def upload(
    c: httpx.AsyncClient, path: Path, *, headers: dict[str, str] = CLERK, **params: str
) -> httpx.Response:
    content = path.read_bytes()  # noqa: ASYNC240 - a small test file
    return await c.post(IMPORTS, content=content, params={"filename": path.name, **params}, headers=headers)


async def registered(
    c: httpx.AsyncClient, pop: list[synthetic.Person], headers: dict[str, str] = CLERK
) -> int:
    found = 0
    for p in pop:
        r = await c.post("/api/v1/beneficiaries/lookup", json={"id_number": p.id_number}, headers=headers)
        assert r.status_code == 200, r.text
        found += len(r.json())
    return found


async def test_an_xlsx_with_a_merged_title_is_registered_once_and_again_changes_nothing(
    registry: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, c = registry
    pop = people(12)
    path = write_xlsx(
        tmp_path / "跳磴镇收集表.xlsx",
        BENEFICIARY_HEADER,
        [form_row(i, p) for i, p in enumerate(pop, start=1)] + [[""] * len(BENEFICIARY_HEADER)] * 3,
        title="大渡口区惠民惠农财政补贴资金个人一卡通账户收集表",
    )
    r = await upload(c, path)
    assert r.status_code == 200, r.text
    first = r.json()
    assert (first["status"], first["rows"], first["registered"], first["errors"]) == ("applied", 12, 12, 0)
    assert first["duplicate"] is False
    assert await registered(c, pop) == 12

    again = await upload(c, path)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["import_id"] == first["import_id"]
    assert await registered(c, pop) == 12

    shown = await c.get(f"{IMPORTS}/{first['import_id']}", headers=CLERK)
    assert shown.json()["registered"] == 12
    listed = await c.get("/api/v1/beneficiaries", params={"limit": 1000}, headers=CLERK)
    assert not any(p.id_number in listed.text or p.account_no in listed.text for p in pop)


async def test_a_gbk_csv_without_bom_from_another_system_is_read(
    registry: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, c = registry
    pop = people(5)
    path = write_csv(
        tmp_path / "export.csv",
        BENEFICIARY_HEADER,
        [form_row(i, p) for i, p in enumerate(pop, start=1)],
        encoding="gbk",
    )
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    r = await upload(c, path)
    assert r.status_code == 200, r.text
    assert r.json()["registered"] == 5
    assert await registered(c, pop) == 5


async def test_errors_refuse_the_whole_file_and_the_report_names_row_column_and_reason(
    registry: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, c = registry
    pop = people(6)
    bad_check = pop[1].id_number[:17] + ("0" if pop[1].id_number[17] != "0" else "1")
    rows = [form_row(i, p) for i, p in enumerate(pop, start=1)]
    rows[1] = form_row(2, pop[1], **{"身份证号码": bad_check})  # file row 3
    rows[3] = form_row(4, pop[3], **{"姓名": '=HYPERLINK("http://x","点我")'})  # file row 5
    rows.append(form_row(7, pop[0]))  # file row 8: the person of row 2 again
    path = write_csv(tmp_path / "有错.csv", BENEFICIARY_HEADER, rows)  # CSV: "=" arrives as text

    r = await upload(c, path)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "IMPORT_REJECTED"
    assert "未导入任何数据" in err["message"]
    found = {(e["row"], e["code"]) for e in err["details"]["errors"]}
    assert (3, "ID_CHECKSUM") in found
    assert (5, "NAME_CHARS") in found
    assert (8, "PERSON_DUPLICATE") in found
    assert await registered(c, pop) == 0  # the good rows were not kept either

    report = await c.get(err["details"]["report"], headers=CLERK)
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(report.content))
    ws = wb.worksheets[0]
    lines = [[cell.value for cell in line] for line in ws.iter_rows(min_row=2)]
    assert {(line[0], line[2]) for line in lines} >= {
        (3, "ID_CHECKSUM"),
        (5, "NAME_CHARS"),
        (8, "PERSON_DUPLICATE"),
    }
    assert all(cell.data_type != "f" for line in ws.iter_rows() for cell in line)
    assert not any(str(v).startswith("=") for line in lines for v in line if v is not None)
    assert not any(bad_check in str(v) for line in lines for v in line)  # quoted masked only

    # the same file once more is checked again (it was never applied), and refused again
    assert (await upload(c, path)).status_code == 422


async def test_accept_valid_keeps_the_good_rows_and_reports_the_bad(
    registry: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, c = registry
    pop = people(5)
    other_town = people(1, town=JIANSHENG, village="建胜社区")[0]
    rows = [form_row(i, p) for i, p in enumerate(pop, start=1)]
    rows.append(form_row(6, other_town, **{"镇街": "建胜镇"}))  # not this clerk's town: file row 7
    path = write_csv(tmp_path / "部分正确.csv", BENEFICIARY_HEADER, rows)
    r = await upload(c, path, policy="accept_valid")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["registered"], body["refused_rows"]) == ("applied", 5, 1)
    assert await registered(c, pop) == 5
    report = await c.get(body["report"], headers=CLERK)
    ws = load_workbook(io.BytesIO(report.content)).worksheets[0]
    assert [(line[0].value, line[2].value) for line in ws.iter_rows(min_row=2)] == [(7, "TOWN_NOT_YOURS")]


async def test_a_new_account_for_a_registered_person_must_go_through_an_account_change(
    registry: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, c = registry
    (p,) = people(1)
    first = write_csv(tmp_path / "a.csv", BENEFICIARY_HEADER, [form_row(1, p)])
    assert (await upload(c, first)).status_code == 200
    other = synthetic.population(
        1, seed=random.randrange(10**9), area="500104", towns=[(TIAODENG, "x")], bank_codes=["CQRCB"]
    )[0]
    second = write_csv(
        tmp_path / "b.csv", BENEFICIARY_HEADER, [form_row(1, p, **{"账号/卡号": other.account_no})]
    )
    r = await upload(c, second)
    assert r.status_code == 422
    assert [(e["row"], e["code"]) for e in r.json()["error"]["details"]["errors"]] == [
        (2, "ACCOUNT_CHANGE_REQUIRED")
    ]
    assert "账户变更申请" in r.json()["error"]["details"]["errors"][0]["message"]
