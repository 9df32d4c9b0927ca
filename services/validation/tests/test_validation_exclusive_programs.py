"""Mutually exclusive programs (互斥项目): a person who holds, or is being paid, one program of an
exclusive pair for a period is refused the other for that period; the pair's key in the ledger
decides races like the duplicate rule, and releases free it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
import ykt_validation
from ykt_contracts.events import BatchReturnedV1, BatchSubmittedV1, BatchValidatedV1, ProgramRules
from ykt_kit.db import Database
from ykt_kit.migrations import script_location, upgrade
from ykt_validation import service
from ykt_validation.config import Settings

from .test_validation_ledger_race import Collect, _race

pytestmark = pytest.mark.integration

DIBAO = ProgramRules(code="HM10", frequency="monthly", exclusive_with=["HM11"])
TEKUN = ProgramRules(code="HM11", frequency="monthly", exclusive_with=["HM10", "HM15"])


@pytest.fixture(scope="module")
async def db(database_url: str) -> AsyncIterator[Database]:
    settings = Settings(YKT_ENV="development", DATABASE_URL=database_url)
    await asyncio.to_thread(upgrade, database_url, "validation", script_location(ykt_validation.__file__))
    database = Database(settings.sqlalchemy_url, "validation")
    yield database
    await database.dispose()


def submission(
    factory: SimpleNamespace, records: list[Any], program: ProgramRules | None, period: str
) -> Any:
    plain = factory.submission(records, program_code=(program or TEKUN).code, period=period)
    return BatchSubmittedV1.model_validate({**plain.model_dump(), "program": program})


async def validate(db: Database, submitted: BatchSubmittedV1) -> BatchValidatedV1:
    async with db.transaction() as s:
        return await service.validate_chunk(s, submitted=submitted, emit=Collect())


async def claims_of(db: Database, record_id: str) -> tuple[int, int]:
    """(ledger claims, exclusive-pair claims) the record holds."""
    async with db.transaction() as s:
        ledger = (
            await s.execute(
                sa.text("SELECT count(*) FROM enjoyment_ledger WHERE record_id = :r"), {"r": record_id}
            )
        ).scalar_one()
        pairs = (
            await s.execute(
                sa.text("SELECT count(*) FROM exclusion_claims WHERE record_id = :r"), {"r": record_id}
            )
        ).scalar_one()
    return int(ledger), int(pairs)


async def test_mutually_exclusive_programs_in_the_same_month_are_rejected_naming_the_other(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    dibao = submission(factory, [factory.record(person)], DIBAO, "2026-11")
    tekun = submission(factory, [factory.record(person), factory.record(seq=2)], TEKUN, "2026-11")

    assert [v.code for v in (await validate(db, dibao)).verdicts] == ["OK"]
    out = await validate(db, tekun)

    assert [(v.outcome, v.code) for v in out.verdicts] == [("reject", "EXCLUSIVE_PROGRAM"), ("pass", "OK")]
    assert out.verdicts[0].message == "该对象本期已享受（或正在发放）互斥项目 HM10，不得同时享受本项目补贴"
    # the refused record keeps no claim; the other person holds HM11 and both its pairs
    assert await claims_of(db, tekun.records[0].record_id) == (0, 0)
    assert await claims_of(db, tekun.records[1].record_id) == (1, 2)
    assert await claims_of(db, dibao.records[0].record_id) == (1, 1)


async def test_exclusive_programs_in_different_months_both_pass(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    assert [
        v.code
        for v in (
            await validate(db, submission(factory, [factory.record(person)], DIBAO, "2026-09"))
        ).verdicts
    ] == ["OK"]
    out = await validate(db, submission(factory, [factory.record(person)], TEKUN, "2026-10"))
    assert [v.code for v in out.verdicts] == ["OK"]


async def test_a_returned_batch_frees_the_exclusive_program_for_the_period(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    dibao = submission(factory, [factory.record(person)], DIBAO, "2026-08")
    await validate(db, dibao)
    async with db.transaction() as s:
        returned = BatchReturnedV1(
            batch_id=dibao.batch_id, returned_by="fin-1", reason="退回", record_reasons=[]
        )
        await service.release_returned_batch(s, returned=returned)
    assert await claims_of(db, dibao.records[0].record_id) == (0, 0)
    out = await validate(db, submission(factory, [factory.record(person)], TEKUN, "2026-08"))
    assert [v.code for v in out.verdicts] == ["OK"]


async def test_an_event_without_program_rules_is_not_checked_for_exclusions(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    await validate(db, submission(factory, [factory.record(person)], DIBAO, "2026-07"))
    old = submission(factory, [factory.record(person)], None, "2026-07")
    assert old.program is None
    out = await validate(db, old)
    assert [v.code for v in out.verdicts] == ["OK"]
    assert await claims_of(db, old.records[0].record_id) == (1, 0)


async def test_the_second_of_two_racing_exclusive_programs_is_rejected_when_the_first_commits(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    a = submission(factory, [factory.record(person)], DIBAO, "2026-06")
    b = submission(factory, [factory.record(person)], TEKUN, "2026-06")
    out_b = await _race(db, a, b, first_commits=True)
    assert [(v.outcome, v.code) for v in out_b.verdicts] == [("reject", "EXCLUSIVE_PROGRAM")]


async def test_the_second_of_two_racing_exclusive_programs_passes_when_the_first_rolls_back(
    db: Database, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    a = submission(factory, [factory.record(person)], DIBAO, "2026-05")
    b = submission(factory, [factory.record(person)], TEKUN, "2026-05")
    out_b = await _race(db, a, b, first_commits=False)
    assert [(v.outcome, v.code) for v in out_b.verdicts] == [("pass", "OK")]
