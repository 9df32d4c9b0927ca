"""Duplicate enjoyment across batches, redelivery, re-issues, releases, and corrected rounds."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from ykt_contracts import Totals
from ykt_contracts.events import BatchReturnedV1, FailedRecord, PaymentFailedV1, PaymentRecord
from ykt_kit.testing import publish

pytestmark = pytest.mark.integration

DUP = "DUPLICATE_ENJOYMENT"


async def _validate(validation: Any, validated: Any, submission: Any) -> list[tuple[str, str]]:
    """Publish one single-chunk submission and return its (outcome, code) per record."""
    await publish(validation.bootstrap, submission, correlation_id=submission.batch_id, producer="registry")
    [out] = await validated.wait(submission.batch_id)
    return [(v.outcome, v.code) for v in out.verdicts]


def _failed(batch_id: str, records: list[PaymentRecord], program_code: str, period: str) -> PaymentFailedV1:
    return PaymentFailedV1(
        batch_id=batch_id,
        bank_code="CQRCB",
        totals=Totals(record_count=len(records), amount_fen=sum(r.amount_fen for r in records)),
        records=[
            FailedRecord(
                end_to_end_id=r.record_id,
                record_id=r.record_id,
                person_key=r.person_key,
                program_code=program_code,
                period=period,
                amount_fen=r.amount_fen,
                reason_code="ACCOUNT_CLOSED",
                reason="账户已销户",
            )
            for r in records
        ],
    )


# ---------------------------------------------------------------- chunk totals and rounds


async def test_chunk_totals_off_by_one_fen_rejects_the_chunk_and_the_corrected_round_passes(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    records = [factory.record(seq=i, amount_fen=20_000) for i in (1, 2, 3)]
    wrong = factory.submission(records, chunk_totals=Totals(record_count=3, amount_fen=60_001))
    assert await _validate(validation, validated, wrong) == [("reject", "CHUNK_TOTALS_MISMATCH")] * 3
    [out] = validated.of(wrong.batch_id)
    assert "600.01" in out.verdicts[0].message
    assert "600.00" in out.verdicts[0].message
    # the chunk's own totals go onward, whatever it declared
    assert out.chunk.totals == Totals(record_count=3, amount_fen=60_000)
    # a rejected chunk claims nobody
    assert await validation.holder(records[0].person_key, "HM10", "2025-01") is None

    corrected = factory.submission(records, batch_id=wrong.batch_id, round=2)
    await publish(validation.bootstrap, corrected, correlation_id=wrong.batch_id)
    await validated.wait(wrong.batch_id, chunks=2)
    round2 = next(v for v in validated.of(wrong.batch_id) if v.round == 2)
    assert [v.outcome for v in round2.verdicts] == ["pass"] * 3

    r = await validation.client.get(
        "/api/v1/verdicts", params={"batch_id": wrong.batch_id}, headers=validation.headers()
    )
    body = r.json()
    assert body["counts"] == {"pass": 3, "reject": 0}
    assert {v["round"] for v in body["verdicts"]} == {2}


async def test_a_corrected_round_keeps_claims_only_for_records_that_still_pass(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    kept = factory.record(seq=1)
    zeroed = factory.record(seq=2)
    misidentified = factory.record(seq=3)
    round1 = factory.submission([kept, zeroed, misidentified], program_code="HM15", period="2025-11")
    assert await _validate(validation, validated, round1) == [("pass", "OK")] * 3

    corrected_id = factory.id_number()
    round2_records = [
        kept,
        zeroed.model_copy(update={"amount_fen": 0}),
        misidentified.model_copy(
            update={"id_number": corrected_id, "person_key": factory.person_key(corrected_id)}
        ),
    ]
    round2 = factory.submission(
        round2_records, batch_id=round1.batch_id, round=2, program_code="HM15", period="2025-11"
    )
    await publish(validation.bootstrap, round2, correlation_id=round1.batch_id)
    await validated.wait(round1.batch_id, chunks=2)
    out = next(v for v in validated.of(round1.batch_id) if v.round == 2)
    assert [(v.outcome, v.code) for v in out.verdicts] == [
        ("pass", "OK"),
        ("reject", "AMOUNT_INVALID"),
        ("pass", "OK"),
    ]

    assert await validation.holder(kept.person_key, "HM15", "2025-11") == (kept.record_id, round1.batch_id)
    assert await validation.holder(zeroed.person_key, "HM15", "2025-11") is None
    assert await validation.holder(misidentified.person_key, "HM15", "2025-11") is None
    assert await validation.holder(factory.person_key(corrected_id), "HM15", "2025-11") == (
        misidentified.record_id,
        round1.batch_id,
    )


# ---------------------------------------------------------------- duplicate enjoyment


async def test_same_person_in_two_batches_of_one_program_period_passes_once(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    first = factory.record(seq=1)
    again = factory.record(first.id_number, seq=1)
    a = factory.submission([first], program_code="HM14", period="2025-02")
    b = factory.submission([again], program_code="HM14", period="2025-02")

    assert await _validate(validation, validated, a) == [("pass", "OK")]
    assert await _validate(validation, validated, b) == [("reject", DUP)]
    [out] = validated.of(b.batch_id)
    assert out.verdicts[0].message == "该对象本期已享受（或正在发放）此项补贴，不得重复享受"
    assert out.verdicts[0].record is None
    assert await validation.holder(first.person_key, "HM14", "2025-02") == (first.record_id, a.batch_id)


async def test_same_people_in_two_batches_published_concurrently_each_pass_once(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    ids = [factory.id_number() for _ in range(20)]
    a_records = [factory.record(i, seq=n) for n, i in enumerate(ids, 1)]
    b_records = [factory.record(i, seq=n) for n, i in enumerate(reversed(ids), 1)]
    a = factory.submission(a_records, program_code="HM13", period="2025-04")
    b = factory.submission(b_records, program_code="HM13", period="2025-04")

    await asyncio.gather(
        publish(validation.bootstrap, a, correlation_id=a.batch_id),
        publish(validation.bootstrap, b, correlation_id=b.batch_id),
    )
    [out_a] = await validated.wait(a.batch_id)
    [out_b] = await validated.wait(b.batch_id)

    passed = {v.record_id for v in out_a.verdicts + out_b.verdicts if v.outcome == "pass"}
    rejected = [v for v in out_a.verdicts + out_b.verdicts if v.outcome == "reject"]
    assert len(passed) == 20
    assert len(rejected) == 20
    assert {v.code for v in rejected} == {DUP}
    by_record = {r.record_id: r for r in a_records + b_records}
    assert {by_record[r].person_key for r in passed} == {factory.person_key(i) for i in ids}
    for record_id in passed:
        holder = await validation.holder(by_record[record_id].person_key, "HM13", "2025-04")
        assert holder is not None
        assert holder[0] == record_id


async def test_same_person_in_another_period_or_program_passes_again(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    january = factory.submission([factory.record(person)], program_code="HM10", period="2025-01")
    february = factory.submission([factory.record(person)], program_code="HM10", period="2025-02")
    other_program = factory.submission([factory.record(person)], program_code="HM15", period="2025-01")
    for submission in (january, february, other_program):
        assert await _validate(validation, validated, submission) == [("pass", "OK")]


async def test_same_person_twice_in_one_chunk_the_first_claims(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    records = [
        factory.record(person, seq=1),
        factory.record(seq=2),
        factory.record(person, seq=3),
    ]
    submission = factory.submission(records, program_code="HM11", period="2025-05")
    assert await _validate(validation, validated, submission) == [
        ("pass", "OK"),
        ("pass", "OK"),
        ("reject", DUP),
    ]
    assert await validation.holder(records[0].person_key, "HM11", "2025-05") == (
        records[0].record_id,
        submission.batch_id,
    )


async def test_a_record_rejected_by_another_rule_claims_nothing(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    zero = factory.record(person, amount_fen=0)
    paid = factory.record(person)
    first = factory.submission([zero], program_code="HM16", period="2025-06")
    second = factory.submission([paid], program_code="HM16", period="2025-06")
    assert await _validate(validation, validated, first) == [("reject", "AMOUNT_INVALID")]
    assert await _validate(validation, validated, second) == [("pass", "OK")]


# ---------------------------------------------------------------- redelivery and idempotency


async def test_a_redelivered_event_gives_one_batch_validated(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    submission = factory.submission([factory.record(seq=1), factory.record(seq=2)], period="2025-07")
    event_id = uuid.uuid4()
    for _ in range(2):
        await publish(validation.bootstrap, submission, correlation_id=submission.batch_id, event_id=event_id)
    assert await validation.tap.wait(event_id, times=2) == ["processed", "duplicate"]
    assert await validation.outbox_count(submission.batch_id) == 1

    # a later event on the same partition: once its answer is seen, a second answer to the
    # redelivered event would have been seen before it
    sentinel = factory.submission([factory.record(seq=1)], period="2025-07")
    await publish(validation.bootstrap, sentinel, correlation_id=submission.batch_id)
    await validated.recorder.wait_for(
        lambda r: any(
            e.payload["batch_id"] == sentinel.batch_id for e in r.of("batch.validated", submission.batch_id)
        ),
        what="the sentinel's batch.validated",
    )
    assert len(validated.of(submission.batch_id)) == 1


async def test_a_chunk_published_again_under_a_new_event_id_is_decided_the_same(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    records = [factory.record(seq=1), factory.record(seq=2, amount_fen=0)]
    submission = factory.submission(records, program_code="HM10", period="2025-08")
    await publish(validation.bootstrap, submission, correlation_id=submission.batch_id)
    await publish(validation.bootstrap, submission, correlation_id=submission.batch_id)
    first, second = await validated.wait(submission.batch_id, chunks=2)
    assert [(v.outcome, v.code) for v in first.verdicts] == [("pass", "OK"), ("reject", "AMOUNT_INVALID")]
    assert second.verdicts == first.verdicts


# ---------------------------------------------------------------- re-issue and releases


async def test_a_reissue_takes_over_the_claim_of_the_record_it_reissues(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    original = factory.record(person, seq=1)
    a = factory.submission([original], program_code="HM09", period="2025-Q1")
    assert await _validate(validation, validated, a) == [("pass", "OK")]

    reissue = factory.record(person, seq=1, reissue_of_record_id=original.record_id)
    b = factory.submission([reissue], program_code="HM09", period="2025-Q1", reissue_of_batch_id=a.batch_id)
    assert await _validate(validation, validated, b) == [("pass", "OK")]
    assert await validation.holder(original.person_key, "HM09", "2025-Q1") == (reissue.record_id, b.batch_id)

    # the claim moved: neither a stranger record nor a second re-issue of the original gets it
    stranger = factory.submission([factory.record(person)], program_code="HM09", period="2025-Q1")
    assert await _validate(validation, validated, stranger) == [("reject", DUP)]
    twice = factory.record(person, seq=1, reissue_of_record_id=original.record_id)
    c = factory.submission([twice], program_code="HM09", period="2025-Q1", reissue_of_batch_id=a.batch_id)
    assert await _validate(validation, validated, c) == [("reject", DUP)]
    # returning the original batch no longer releases the moved claim
    returned = BatchReturnedV1(
        batch_id=a.batch_id, returned_by="finance-1", reason="资料不全", record_reasons=[]
    )
    [env] = await publish(validation.bootstrap, returned, correlation_id=a.batch_id)
    await validation.tap.wait(env.event_id)
    assert await validation.holder(original.person_key, "HM09", "2025-Q1") == (reissue.record_id, b.batch_id)


async def test_a_bank_failure_releases_the_claim_so_another_record_for_the_person_passes(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    person = factory.id_number()
    failed_record = factory.record(person, seq=1)
    other = factory.record(seq=2)
    a = factory.submission([failed_record, other], program_code="HM14", period="2025-09")
    assert await _validate(validation, validated, a) == [("pass", "OK")] * 2

    blocked = factory.submission([factory.record(person)], program_code="HM14", period="2025-09")
    assert await _validate(validation, validated, blocked) == [("reject", DUP)]

    [env] = await publish(
        validation.bootstrap,
        _failed(a.batch_id, [failed_record], "HM14", "2025-09"),
        correlation_id=a.batch_id,
    )
    assert await validation.tap.wait(env.event_id) == ["processed"]
    assert await validation.holder(failed_record.person_key, "HM14", "2025-09") is None
    # only the failed record's claim goes
    assert await validation.holder(other.person_key, "HM14", "2025-09") == (other.record_id, a.batch_id)

    corrected = factory.record(person, seq=1)
    c = factory.submission([corrected], program_code="HM14", period="2025-09")
    assert await _validate(validation, validated, c) == [("pass", "OK")]


async def test_a_returned_batch_releases_its_claims(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    people = [factory.id_number() for _ in range(3)]
    a = factory.submission([factory.record(p, seq=n) for n, p in enumerate(people, 1)], period="2025-10")
    assert await _validate(validation, validated, a) == [("pass", "OK")] * 3

    returned = BatchReturnedV1(
        batch_id=a.batch_id, returned_by="finance-1", reason="金额标准有误", record_reasons=[]
    )
    [env] = await publish(validation.bootstrap, returned, correlation_id=a.batch_id, producer="payment")
    assert await validation.tap.wait(env.event_id) == ["processed"]
    for p in people:
        assert await validation.holder(factory.person_key(p), "HM10", "2025-10") is None

    again = factory.submission([factory.record(p, seq=n) for n, p in enumerate(people, 1)], period="2025-10")
    assert await _validate(validation, validated, again) == [("pass", "OK")] * 3
