"""The administrator imports the reference registers (残疾人, 特困供养, 建档立卡/脱贫, 死亡人员,
财政供养); a newer import replaces a kind's membership and keeps the old one as history; the same
file again changes nothing; memberships of a chunk come in one query and feed the register rules."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from ykt_contracts.events import BatchSubmittedV1, ProgramRules, TieredStandardRule, TierRule
from ykt_kit import masking
from ykt_validation.adapters.db.registers import memberships, register_versions
from ykt_validation.domain.registers import (
    FlagPolicy,
    ProgramRegisters,
    RedFlagPolicy,
    RegisterKind,
)
from ykt_validation.domain.rules import (
    CURRENT,
    PASS,
    RED_FLAG_DECEASED,
    RED_FLAG_STATE_SALARIED,
    REGISTER_REQUIRED_MISSING,
    RuleContext,
    red_flags,
    register_required,
)
from ykt_validation.seed import SAMPLES
from ykt_validation.service import validate_chunk

from .conftest import RegistersApp, make_record, make_submission, person_key, register_csv, register_people

pytestmark = pytest.mark.integration

DISABLED_HEADER = ("序号", "姓名", "身份证号码", "残疾类别", "残疾等级")


def _disabled_file(people: list[Any], grade: str = "一级") -> bytes:
    return register_csv(
        DISABLED_HEADER, [[str(i), p.name, p.id_number, "肢体", grade] for i, p in enumerate(people, 1)]
    )


def _sample_ids(content: bytes) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    return [r["身份证号码"] for r in rows]


async def test_each_kind_is_imported_from_its_sample_file_and_becomes_the_register_in_force(
    registers: RegistersApp,
) -> None:
    imported: dict[str, str] = {}
    for sample in SAMPLES:
        r = await registers.upload(
            sample.kind.value, sample.read_bytes(), source=sample.source, filename=sample.filename
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["entries"], body["rows"], body["duplicate"]) == ("current", 6, 6, False)
        assert (body["kind"], body["source"], body["filename"]) == (
            sample.kind.value,
            sample.source,
            sample.filename,
        )
        imported[sample.kind.value] = body["import_id"]

    in_force = (await registers.client.get("/api/v1/registers", headers=registers.headers())).json()
    assert {k["kind"]: k["current"]["import_id"] for k in in_force} == imported

    keys = {s.kind: [person_key(i) for i in _sample_ids(s.read_bytes())] for s in SAMPLES}
    async with registers.app.state.db.transaction() as s:
        found = await memberships(s, [k for ks in keys.values() for k in ks])
    for kind, ks in keys.items():
        for k in ks:
            assert found[k][kind].import_id == imported[kind.value]
    deceased = found[keys[RegisterKind.DECEASED][0]][RegisterKind.DECEASED]
    assert date.fromisoformat(deceased.attributes["date_of_death"]) <= deceased.as_of
    disabled = found[keys[RegisterKind.DISABLED][0]][RegisterKind.DISABLED]
    assert set(disabled.attributes) == {"disability_category", "disability_grade"}
    salaried = found[keys[RegisterKind.STATE_SALARIED][0]][RegisterKind.STATE_SALARIED]
    assert salaried.attributes["employer"]


async def test_a_newer_import_replaces_the_membership_and_the_older_one_stays_as_history(
    registers: RegistersApp,
) -> None:
    p1, p2, p3, p4 = register_people(4)
    first_date, second_date = registers.as_of(), registers.as_of()
    first = (await registers.upload("disabled", _disabled_file([p1, p2, p3]), as_of=first_date)).json()
    second_r = await registers.upload(
        "disabled", _disabled_file([p2, p3, p4], grade="二级"), as_of=second_date
    )
    assert second_r.status_code == 201, second_r.text
    second = second_r.json()
    assert (second["replaces"], second["joined"], second["departed"]) == (first["import_id"], 1, 1)

    old = (
        await registers.client.get(
            f"/api/v1/registers/imports/{first['import_id']}", headers=registers.headers()
        )
    ).json()
    assert old["status"] == "superseded" and old["superseded_at"] is not None
    listed = (
        await registers.client.get(
            "/api/v1/registers/imports", params={"kind": "disabled"}, headers=registers.headers()
        )
    ).json()
    assert [i["import_id"] for i in listed[:2]] == [second["import_id"], first["import_id"]]

    keys = [p.key for p in (p1, p2, p3, p4)]
    async with registers.app.state.db.transaction() as s:
        now = await memberships(s, keys)
        then = await memberships(s, keys, on=first_date)
        between = await memberships(s, keys, on=second_date - timedelta(days=1))
        before = await memberships(s, keys, on=first_date - timedelta(days=1))
        versions_then = await register_versions(s, on=first_date)
    assert set(now) == {p2.key, p3.key, p4.key}
    assert now[p2.key][RegisterKind.DISABLED].attributes["disability_grade"] == "二级"
    assert set(then) == set(between) == {p1.key, p2.key, p3.key}
    assert then[p2.key][RegisterKind.DISABLED].import_id == first["import_id"]
    assert before == {}
    assert versions_then[RegisterKind.DISABLED].import_id == first["import_id"]

    # the person who left the register: nothing in force, the older import in the history
    found = (
        await registers.client.post(
            "/api/v1/registers/lookup", json={"id_number": p1.id_number}, headers=registers.headers()
        )
    ).json()
    assert found["current"] == []
    assert [(h["import_id"], h["status"]) for h in found["history"]] == [(first["import_id"], "superseded")]


async def test_the_same_file_again_answers_the_first_import_and_changes_nothing(
    registers: RegistersApp,
) -> None:
    people = register_people(3)
    content = _disabled_file(people)
    as_of = registers.as_of()
    first = await registers.upload("disabled", content, as_of=as_of)
    assert first.status_code == 201, first.text
    before = (await registers.client.get("/api/v1/registers/imports", headers=registers.headers())).json()
    again = await registers.upload("disabled", content, as_of=as_of, filename="又一次.csv")
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["import_id"] == first.json()["import_id"]
    assert again.json()["filename"] == "名册.csv"  # the first import, as it was
    after = (await registers.client.get("/api/v1/registers/imports", headers=registers.headers())).json()
    assert after == before


async def test_a_lookup_answers_the_persons_registers_masked(registers: RegistersApp) -> None:
    [p] = register_people(1)
    content = register_csv(
        ("姓名", "身份证号码", "工作单位", "人员类别"), [[p.name, p.id_number, "区财政局", "在职"]]
    )
    imported = (await registers.upload("state_salaried", content, source="区财政局（工资统发）")).json()
    r = await registers.client.post(
        "/api/v1/registers/lookup", json={"id_number": p.id_number}, headers=registers.headers()
    )
    assert r.status_code == 200, r.text
    assert p.id_number not in r.text and p.name not in r.text
    body = r.json()
    assert body["id_number"] == masking.mask_id(p.id_number)
    [m] = body["current"]
    assert (m["kind"], m["import_id"], m["source"], m["status"]) == (
        "state_salaried",
        imported["import_id"],
        "区财政局（工资统发）",
        "current",
    )
    assert (m["name"], m["id_number"]) == (masking.mask_name(p.name), masking.mask_id(p.id_number))
    assert m["attributes"] == {"employer": "区财政局", "staff_category": "在职"}


async def test_memberships_of_a_whole_chunk_come_in_one_query(registers: RegistersApp) -> None:
    people = register_people(150)
    assert (
        await registers.upload(
            "poverty", register_csv(("姓名", "身份证号码"), [[p.name, p.id_number] for p in people[:100]])
        )
    ).status_code == 201
    assert (
        await registers.upload(
            "state_support",
            register_csv(("姓名", "身份证号码"), [[p.name, p.id_number] for p in people[50:]]),
        )
    ).status_code == 201
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = registers.app.state.db.engine.sync_engine
    async with registers.app.state.db.transaction() as s:
        await s.connection()  # the transaction's BEGIN is not the query
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = await memberships(s, [p.key for p in people] + ["no-such-person"])
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert sum(1 for k in found.values() if RegisterKind.POVERTY in k) == 100
    assert sum(1 for k in found.values() if RegisterKind.STATE_SUPPORT in k) == 100
    assert sum(1 for k in found.values() if len(k) == 2) == 50
    assert "no-such-person" not in found


async def test_register_rules_on_imported_registers_refuse_the_dead_and_warn_or_refuse_the_state_salaried(
    registers: RegistersApp,
) -> None:
    dead, salaried, disabled, nobody = register_people(4)
    as_of = registers.as_of()
    died = as_of - timedelta(days=20)
    await registers.upload(
        "deceased",
        register_csv(("姓名", "身份证号码", "死亡日期"), [[dead.name, dead.id_number, died.isoformat()]]),
        as_of=as_of,
    )
    await registers.upload(
        "state_salaried",
        register_csv(
            ("姓名", "身份证号码", "工作单位"), [[salaried.name, salaried.id_number, "跳磴镇中心小学"]]
        ),
        as_of=as_of,
    )
    await registers.upload("disabled", _disabled_file([disabled]), as_of=as_of)
    people = [dead, salaried, disabled, nobody]
    async with registers.app.state.db.transaction() as s:
        found = await memberships(s, [p.key for p in people])
        versions = await register_versions(s)
    ctx = RuleContext("HM10", "2026-11", date(2026, 11, 28), registers=versions)
    dibao = ProgramRegisters.of("HM10", excludes=["deceased", "state_support", "state_salaried"])
    care = ProgramRegisters.of("HM14", requires=["disabled"], excludes=["deceased"])

    def decide(p: Any, program: ProgramRegisters, policy: RedFlagPolicy | None = None) -> Any:
        record = make_record(p.id_number)
        mine = found.get(p.key, {})
        required = register_required(record, ctx, mine, program)
        if not required.passed:
            return required
        return (
            red_flags(record, ctx, mine, program)
            if policy is None
            else red_flags(record, ctx, mine, program, policy)
        )

    d = decide(dead, dibao)
    assert (d.outcome, d.code) == ("reject", RED_FLAG_DECEASED)
    assert (
        d.message
        == f"死亡人员名册中有此人（死亡日期{died.isoformat()}，名册日期{as_of.isoformat()}），不得发放"
    )
    w = decide(salaried, dibao)
    assert (w.outcome, w.code, w.passed) == ("warn", RED_FLAG_STATE_SALARIED, True)
    assert "工作单位：跳磴镇中心小学" in w.message and w.message.endswith("请核实后再发放")
    strict = RedFlagPolicy(by_program={"HM10": {RegisterKind.STATE_SALARIED: FlagPolicy.REJECT}})
    r = decide(salaried, dibao, strict)
    assert (r.outcome, r.code, r.passed) == ("reject", RED_FLAG_STATE_SALARIED, False)
    assert decide(nobody, dibao) == PASS
    assert decide(disabled, care) == PASS
    missing = decide(nobody, care)
    assert (missing.outcome, missing.code) == ("reject", REGISTER_REQUIRED_MISSING)
    assert missing.message == f"不在残疾人名册中（名册日期{as_of.isoformat()}），不符合本项目发放条件"
    assert decide(dead, care).code == REGISTER_REQUIRED_MISSING  # not disabled: refused before the flags


async def test_a_chunk_of_a_program_with_registers_refuses_the_dead_and_non_members_and_records_the_imports(
    registers: RegistersApp,
) -> None:
    dead, disabled, nobody = register_people(3)
    as_of = registers.as_of()
    deceased_import = await registers.upload(
        "deceased",
        register_csv(("姓名", "身份证号码", "死亡日期"), [[dead.name, dead.id_number, as_of.isoformat()]]),
        as_of=as_of,
    )
    disabled_import = await registers.upload("disabled", _disabled_file([disabled]), as_of=as_of)
    assert deceased_import.status_code == disabled_import.status_code == 201
    care = ProgramRules(
        code="HM14",
        frequency="monthly",
        standard=TieredStandardRule(
            tiers=[TierRule(category="一级", amount_fen=10_000), TierRule(category="二级", amount_fen=8_000)]
        ),
        requires_registers=["disabled"],
        excludes_registers=["deceased"],
    )
    records = [
        make_record(dead.id_number, seq=1, amount_fen=10_000),
        make_record(disabled.id_number, seq=2, amount_fen=10_000),
        make_record(nobody.id_number, seq=3, amount_fen=10_000),
        make_record(register_people(1)[0].id_number, seq=4, amount_fen=9_000),
    ]
    plain = make_submission(records, program_code="HM14", period="2026-11")
    submitted = BatchSubmittedV1.model_validate({**plain.model_dump(), "program": care})
    emitted: list[Any] = []

    async def emit(*payloads: Any, correlation_id: str | None = None) -> None:
        emitted.extend(payloads)

    async with registers.app.state.db.transaction() as s:
        out = await validate_chunk(s, submitted=submitted, emit=emit)
    assert [(v.outcome, v.code) for v in out.verdicts] == [
        ("reject", REGISTER_REQUIRED_MISSING),  # not disabled: refused before the red flags
        ("pass", "OK"),
        ("reject", REGISTER_REQUIRED_MISSING),
        ("reject", "AMOUNT_NOT_STANDARD"),
    ]
    assert out.rule_set_version == CURRENT.version and emitted == [out]
    # dead and disabled: the red flag refuses
    both = BatchSubmittedV1.model_validate(
        {
            **make_submission(
                [make_record(dead.id_number, amount_fen=10_000)], program_code="HM14"
            ).model_dump(),
            "program": care.model_copy(update={"requires_registers": []}),
        }
    )
    async with registers.app.state.db.transaction() as s:
        flagged = await validate_chunk(s, submitted=both, emit=emit)
    assert [(v.outcome, v.code) for v in flagged.verdicts] == [("reject", RED_FLAG_DECEASED)]
    async with registers.app.state.db.transaction() as s:
        stored = (
            await s.execute(
                sa.text(
                    "SELECT rule_set_version, register_imports FROM verdicts WHERE batch_id = :b ORDER BY seq"
                ),
                {"b": submitted.batch_id},
            )
        ).all()
    imports = {
        "deceased": deceased_import.json()["import_id"],
        "disabled": disabled_import.json()["import_id"],
    }
    assert [v for v, _ in stored] == [CURRENT.version] * 4
    assert all({k: r[k] for k in imports} == imports for _, r in stored)
