"""Register imports that must not change the register in force (a bad row, an older date, a file
without the kind's columns, an empty register), files as clerks really send them (GBK CSV, XLSX
with a title row), roles that may not import or read people, and the register rules' corners."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from ykt_kit import masking
from ykt_kit.actor import Role
from ykt_validation.adapters.db.registers import memberships
from ykt_validation.domain.register_forms import RegisterChecker
from ykt_validation.domain.registers import (
    FlagPolicy,
    Membership,
    ProgramRegisters,
    RedFlagPolicy,
    RegisterImportRef,
    RegisterKind,
)
from ykt_validation.domain.rules import (
    PASS,
    RED_FLAG_CODES,
    RED_FLAG_DECEASED,
    RED_FLAG_STATE_SALARIED,
    REGISTER_UNAVAILABLE,
    Decision,
    RuleContext,
    red_flags,
    register_required,
    reject,
    warn,
)

from .conftest import RegistersApp, make_record, register_csv, register_people

pytestmark = pytest.mark.integration

NAME_ID = ("姓名", "身份证号码")


def _wrong_check(id_number: str) -> str:
    return id_number[:17] + ("1" if id_number[17] != "1" else "2")


async def _current(registers: RegistersApp, kind: str) -> dict[str, Any] | None:
    rows = (await registers.client.get("/api/v1/registers", headers=registers.headers())).json()
    current: dict[str, Any] | None = next(r["current"] for r in rows if r["kind"] == kind)
    return current


# ---------------------------------------------------------------- all or nothing


async def test_a_bad_id_row_refuses_the_whole_file_with_a_report_and_the_register_in_force_stays(
    registers: RegistersApp,
) -> None:
    kept = register_people(2)
    assert (
        await registers.upload("state_support", register_csv(NAME_ID, [[p.name, p.id_number] for p in kept]))
    ).status_code == 201
    before = await _current(registers, "state_support")

    a, b, c = register_people(3)
    rows = [
        [a.name, a.id_number],
        [b.name, _wrong_check(b.id_number)],
        [c.name, c.id_number],
        ["重复", a.id_number],
    ]
    r = await registers.upload("state_support", register_csv(NAME_ID, rows))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "IMPORT_REJECTED"
    assert "原版本执行" in err["message"]
    found = [(e["row"], e["column"], e["code"]) for e in err["details"]["errors"]]
    assert found == [(3, "身份证号码", "ID_CHECKSUM"), (5, "身份证号码", "PERSON_DUPLICATE")]
    assert "与第2行为同一人" in err["details"]["errors"][1]["message"]
    assert b.id_number[:17] not in r.text and a.id_number not in r.text

    assert await _current(registers, "state_support") == before
    async with registers.app.state.db.transaction() as s:
        found_now = await memberships(s, [p.key for p in (*kept, a, c)])
    assert set(found_now) == {p.key for p in kept}
    rejected = (
        await registers.client.get(
            f"/api/v1/registers/imports/{err['details']['import_id']}", headers=registers.headers()
        )
    ).json()
    assert (rejected["status"], rejected["rows"], rejected["entries"], rejected["errors"]) == (
        "rejected",
        4,
        0,
        2,
    )

    report = await registers.client.get(
        err["details"]["report"], headers=registers.headers(Role.SUPERVISOR, "AUDIT-500104")
    )
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(report.content), read_only=True)["错误明细"]
    cells = [list(row) for row in ws.iter_rows(values_only=True)]
    assert cells[0] == ["行号", "列", "错误代码", "说明", "级别", "原值（已脱敏）"]
    assert [(row[0], row[2], row[5]) for row in cells[1:]] == [
        (3, "ID_CHECKSUM", masking.mask_id(_wrong_check(b.id_number))),
        (5, "PERSON_DUPLICATE", masking.mask_id(a.id_number)),
    ]


async def test_the_rejected_file_corrected_imports_and_the_same_corrected_file_again_is_the_same_import(
    registers: RegistersApp,
) -> None:
    [a] = register_people(1)
    as_of = registers.as_of()
    bad = await registers.upload(
        "state_support", register_csv(NAME_ID, [[a.name, _wrong_check(a.id_number)]]), as_of=as_of
    )
    assert bad.status_code == 422
    good = register_csv(NAME_ID, [[a.name, a.id_number]])
    first = await registers.upload("state_support", good, as_of=as_of)
    again = await registers.upload("state_support", good, as_of=as_of)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["import_id"] == first.json()["import_id"]


async def test_a_register_older_than_the_one_in_force_is_refused(registers: RegistersApp) -> None:
    [a] = register_people(1)
    newer = registers.as_of()
    assert (
        await registers.upload("poverty", register_csv(NAME_ID, [[a.name, a.id_number]]), as_of=newer)
    ).status_code == 201
    r = await registers.upload(
        "poverty",
        register_csv(NAME_ID, [["别人", register_people(1)[0].id_number]]),
        as_of=newer - timedelta(days=1),
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "REGISTER_OUTDATED"
    assert (await _current(registers, "poverty") or {})["as_of"] == newer.isoformat()


async def test_files_that_are_not_a_register_of_the_kind_are_refused_whole(registers: RegistersApp) -> None:
    [a] = register_people(1)
    no_date = await registers.upload("deceased", register_csv(NAME_ID, [[a.name, a.id_number]]))
    assert no_date.status_code == 422
    assert no_date.json()["error"]["code"] == "FILE_HEADER_MISSING"
    assert "死亡日期" in no_date.json()["error"]["message"]
    header_only = await registers.upload(
        "state_salaried", register_csv(("姓名", "身份证号码", "工作单位"), [])
    )
    assert header_only.status_code == 422
    assert header_only.json()["error"]["code"] == "REGISTER_EMPTY"
    empty = await registers.upload("disabled", b"")
    assert empty.json()["error"]["code"] == "FILE_EMPTY"
    future = await registers.upload("disabled", b"x", as_of=date(2999, 1, 1))
    assert future.json()["error"]["code"] == "AS_OF_IN_FUTURE"
    unknown = await registers.upload("orphans", register_csv(NAME_ID, [[a.name, a.id_number]]))
    assert unknown.status_code == 422


async def test_a_death_after_the_registers_date_or_before_birth_is_a_row_error(
    registers: RegistersApp,
) -> None:
    a, b = register_people(2)
    as_of = registers.as_of()
    rows = [
        [a.name, a.id_number, (as_of + timedelta(days=1)).isoformat()],
        [b.name, b.id_number, "1900年1月1日"],
    ]
    r = await registers.upload(
        "deceased", register_csv(("姓名", "身份证号码", "死亡日期"), rows), as_of=as_of
    )
    assert r.status_code == 422
    assert [e["code"] for e in r.json()["error"]["details"]["errors"]] == [
        "DATE_AFTER_AS_OF",
        "DATE_BEFORE_BIRTH",
    ]


# ---------------------------------------------------------------- files as clerks send them


async def test_a_gbk_csv_is_read_with_its_chinese_names_and_columns(registers: RegistersApp) -> None:
    people = register_people(3)
    rows = [
        [p.name, p.id_number, c, g]
        for p, c, g in zip(people, ("视力", "4", "多重残疾"), ("1", "二级", "三"), strict=True)
    ]
    content = register_csv(("姓名", "身份证号码", "残疾类别", "残疾等级"), rows, encoding="gbk")
    r = await registers.upload("disabled", content, filename="残疾人名册.csv")
    assert r.status_code == 201, r.text
    found = (
        await registers.client.post(
            "/api/v1/registers/lookup", json={"id_number": people[1].id_number}, headers=registers.headers()
        )
    ).json()
    [m] = found["current"]
    assert m["name"] == masking.mask_name(people[1].name)
    assert m["attributes"] == {"disability_category": "肢体残疾", "disability_grade": "二级"}
    async with registers.app.state.db.transaction() as s:
        got = await memberships(s, [p.key for p in people])
    assert [got[p.key][RegisterKind.DISABLED].attributes for p in people] == [
        {"disability_category": "视力残疾", "disability_grade": "一级"},
        {"disability_category": "肢体残疾", "disability_grade": "二级"},
        {"disability_category": "多重残疾", "disability_grade": "三级"},
    ]


async def test_an_xlsx_with_a_title_row_and_a_date_cell_is_read(registers: RegistersApp) -> None:
    [a] = register_people(1)
    as_of = registers.as_of()
    wb = Workbook()
    ws = wb.active
    ws.append(["大渡口区死亡人员名册（2026年）"])
    ws.append(["序号", "姓名", "身份证号码*", "死亡日期"])
    ws.append([1, a.name, a.id_number, as_of - timedelta(days=3)])
    buf = io.BytesIO()
    wb.save(buf)
    r = await registers.upload("deceased", buf.getvalue(), as_of=as_of, filename="死亡人员.xlsx")
    assert r.status_code == 201, r.text
    async with registers.app.state.db.transaction() as s:
        got = await memberships(s, [a.key])
    assert got[a.key][RegisterKind.DECEASED].attributes == {
        "date_of_death": (as_of - timedelta(days=3)).isoformat()
    }


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", [Role.TOWN, Role.DEPARTMENT, Role.FINANCE, Role.BANK, Role.SUPERVISOR])
async def test_only_the_administrator_imports_registers(registers: RegistersApp, role: Role) -> None:
    [a] = register_people(1)
    r = await registers.upload(
        "disabled",
        register_csv(("姓名", "身份证号码", "残疾类别", "残疾等级"), [[a.name, a.id_number, "肢体", "一级"]]),
        role=role,
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "ROLE_FORBIDDEN"


async def test_people_are_read_by_the_administrator_and_supervisors_only_and_import_metadata_by_finance_and_departments(
    registers: RegistersApp,
) -> None:
    [a] = register_people(1)
    imported = (
        await registers.upload("state_support", register_csv(NAME_ID, [[a.name, a.id_number]]))
    ).json()
    lookup = {"json": {"id_number": a.id_number}}
    for role in (Role.TOWN, Role.DEPARTMENT, Role.FINANCE, Role.BANK):
        h = registers.headers(role, "X")
        assert (
            await registers.client.post("/api/v1/registers/lookup", headers=h, **lookup)
        ).status_code == 403
        assert (await registers.client.get(imported["report"], headers=h)).status_code == 403
    for role in (Role.TOWN, Role.BANK):
        h = registers.headers(role, "X")
        assert (await registers.client.get("/api/v1/registers/imports", headers=h)).status_code == 403
    for role in (Role.FINANCE, Role.DEPARTMENT, Role.SUPERVISOR):
        h = registers.headers(role, "X")
        assert (await registers.client.get("/api/v1/registers", headers=h)).status_code == 200
        assert (
            await registers.client.get(f"/api/v1/registers/imports/{imported['import_id']}", headers=h)
        ).status_code == 200
    audit = registers.headers(Role.SUPERVISOR, "AUDIT-500104")
    assert (
        await registers.client.post("/api/v1/registers/lookup", headers=audit, **lookup)
    ).status_code == 200
    assert (await registers.client.get("/api/v1/registers")).status_code == 401
    bad_id = await registers.client.post(
        "/api/v1/registers/lookup", headers=audit, json={"id_number": _wrong_check(a.id_number)}
    )
    assert (bad_id.status_code, bad_id.json()["error"]["code"]) == (422, "ID_CHECKSUM")


# ---------------------------------------------------------------- rules (pure)

AS_OF = date(2026, 6, 30)
CTX = RuleContext(
    "HM10",
    "2026-07",
    date(2026, 7, 15),
    registers={k: RegisterImportRef(f"imp-{k.value}", k, AS_OF, "测试") for k in RegisterKind},
)
DIBAO = ProgramRegisters.of("HM10", excludes=["deceased", "state_support", "state_salaried"])


def _member(kind: RegisterKind, **attributes: Any) -> Membership:
    return Membership(kind, f"imp-{kind.value}", AS_OF, "测试", attributes)


def test_a_warning_passes_and_the_existing_outcomes_keep_their_meaning() -> None:
    w = warn("RED_FLAG_STATE_SALARIED", "请核实")
    assert (w.outcome, w.passed, w.warned) == ("warn", True, True)
    assert (PASS.passed, PASS.warned) == (True, False)
    r = reject("X", "不通过")
    assert (r.passed, r.warned) == (False, False)
    assert Decision("pass", "OK", "校验通过") == PASS
    assert RuleContext("HM10", "2026-07", date(2026, 7, 15)).registers == {}


def test_a_required_register_never_imported_refuses_rather_than_guessing() -> None:
    care = ProgramRegisters.of("HM14", requires=["disabled"], excludes=["deceased"])
    ctx = RuleContext("HM14", "2026-07", date(2026, 7, 15))
    d = register_required(make_record(), ctx, {}, care)
    assert (d.outcome, d.code) == ("reject", REGISTER_UNAVAILABLE)
    assert d.message == "残疾人名册尚未导入，无法核对本项目的资格条件"
    assert (
        register_required(make_record(), ctx, {RegisterKind.DISABLED: _member(RegisterKind.DISABLED)}, care)
        == PASS
    )


def test_a_register_the_program_does_not_exclude_raises_no_flag() -> None:
    mine = {
        RegisterKind.DISABLED: _member(RegisterKind.DISABLED),
        RegisterKind.POVERTY: _member(RegisterKind.POVERTY),
    }
    assert red_flags(make_record(), CTX, mine, DIBAO) == PASS
    # the same people in a program that excludes nothing: no flag even for the dead
    dead = {RegisterKind.DECEASED: _member(RegisterKind.DECEASED, date_of_death="2026-05-01")}
    assert red_flags(make_record(), CTX, dead, ProgramRegisters.of("HM01")) == PASS


def test_a_rejecting_flag_wins_over_a_warning_and_the_worst_register_is_named() -> None:
    mine = {
        RegisterKind.STATE_SALARIED: _member(RegisterKind.STATE_SALARIED, employer="区财政局"),
        RegisterKind.STATE_SUPPORT: _member(RegisterKind.STATE_SUPPORT),
    }
    d = red_flags(make_record(), CTX, mine, DIBAO)
    assert (d.outcome, d.code) == ("reject", RED_FLAG_CODES[RegisterKind.STATE_SUPPORT])
    assert d.message == "特困供养人员名册中有此人（名册日期2026-06-30），不得发放"
    both = {**mine, RegisterKind.DECEASED: _member(RegisterKind.DECEASED, date_of_death="2026-05-01")}
    assert red_flags(make_record(), CTX, both, DIBAO).code == RED_FLAG_DECEASED


def test_the_policy_may_soften_or_harden_a_flag_per_program() -> None:
    dead = {RegisterKind.DECEASED: _member(RegisterKind.DECEASED, date_of_death="2026-05-01")}
    salaried = {RegisterKind.STATE_SALARIED: _member(RegisterKind.STATE_SALARIED)}
    policy = RedFlagPolicy(
        by_program={
            "HM10": {RegisterKind.STATE_SALARIED: FlagPolicy.REJECT},
            "HM09": {RegisterKind.DECEASED: FlagPolicy.WARN},
        }
    )
    assert red_flags(make_record(), CTX, salaried, DIBAO, policy).outcome == "reject"
    assert red_flags(make_record(), CTX, salaried, DIBAO).outcome == "warn"
    assert (
        red_flags(make_record(), CTX, salaried, DIBAO).message
        == "财政供养人员名册中有此人（名册日期2026-06-30），请核实后再发放"
    )
    assert policy.for_("HM10", RegisterKind.DECEASED) is FlagPolicy.REJECT
    family = ProgramRegisters.of("HM09", excludes=["deceased"])
    soft = red_flags(make_record(), CTX, dead, family, policy)
    assert (soft.outcome, soft.code) == ("warn", RED_FLAG_DECEASED)
    assert RED_FLAG_STATE_SALARIED == "RED_FLAG_STATE_SALARIED"


def test_the_checker_reads_the_kinds_own_values_and_names_the_bad_ones() -> None:
    [a, b] = register_people(2)
    checker = RegisterChecker(RegisterKind.DISABLED, as_of=AS_OF, today=date(2026, 7, 1))
    ok = checker.check(
        2,
        {
            "name": f" {a.name} ",
            "id_number": a.id_number.lower(),
            "disability_category": "7",
            "disability_grade": "4级",
        },
    )
    assert ok is not None and ok.attributes == {"disability_category": "多重残疾", "disability_grade": "四级"}
    assert (
        checker.check(
            3,
            {
                "name": b.name,
                "id_number": b.id_number,
                "disability_category": "心理",
                "disability_grade": "五级",
            },
        )
        is None
    )
    assert [(i.row, i.column, i.code) for i in checker.issues] == [
        (3, "残疾类别", "DISABILITY_CATEGORY"),
        (3, "残疾等级", "DISABILITY_GRADE"),
    ]
    assert (checker.summary.rows, checker.summary.accepted, checker.summary.rejected) == (2, 1, 1)
