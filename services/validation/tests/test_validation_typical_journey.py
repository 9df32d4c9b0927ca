"""A submission round goes through validation: verdicts out on the broker, stored, readable over HTTP."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from ykt_kit import idcard
from ykt_kit.actor import Role
from ykt_kit.testing import publish
from ykt_validation.domain.rules import CURRENT

pytestmark = pytest.mark.integration


def _x_ending() -> str:
    for seq in range(1000):
        candidate = idcard.make("500104", date(1958, 11, 23), seq)
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X check character")


async def test_a_mixed_chunk_is_decided_record_by_record(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    good = factory.record(seq=1, amount_fen=45_000)
    x_ending = factory.record(_x_ending(), seq=2, amount_fen=45_000)
    permit = factory.record(idcard.make("810000", date(1980, 2, 29), 5), seq=3, amount_fen=30_000)
    wrong_check = good.id_number[:17] + ("1" if good.id_number[17] != "1" else "2")
    bad_checksum = factory.record(wrong_check, seq=4)
    zero = factory.record(seq=5, amount_fen=0)
    not_leap = factory.record(
        "500104" + "19990229" + "123" + idcard.check_char("500104" + "19990229" + "123"), seq=6
    )
    records = [good, x_ending, permit, bad_checksum, zero, not_leap]
    submitted = factory.submission(records, program_code="HM10", period="2025-03")

    [env] = await publish(
        validation.bootstrap, submitted, correlation_id=submitted.batch_id, producer="registry"
    )
    [out] = await validated.wait(submitted.batch_id)

    assert [(v.record_id, v.outcome, v.code) for v in out.verdicts] == [
        (good.record_id, "pass", "OK"),
        (x_ending.record_id, "pass", "OK"),
        (permit.record_id, "pass", "OK"),
        (bad_checksum.record_id, "reject", "ID_CHECKSUM"),
        (zero.record_id, "reject", "AMOUNT_INVALID"),
        (not_leap.record_id, "reject", "ID_BIRTH_DATE"),
    ]
    assert out.verdicts[0].message == "校验通过"
    assert out.verdicts[4].message == "发放金额必须大于0"
    assert [v.record for v in out.verdicts] == [good, x_ending, permit, None, None, None]
    assert (out.unit_code, out.program_code, out.period, out.round) == (
        submitted.unit_code,
        "HM10",
        "2025-03",
        1,
    )
    assert out.rule_set_version == CURRENT.version == "v2"
    assert out.round_totals == submitted.round_totals
    assert (out.chunk.index, out.chunk.count) == (0, 1)
    assert (out.chunk.totals.record_count, out.chunk.totals.amount_fen) == (
        6,
        45_000 * 2 + 30_000 + 12_000 * 2,
    )

    [out_env] = validated.envelopes(submitted.batch_id)
    assert out_env.causation_id == env.event_id
    assert out_env.producer == "validation"

    # the verdicts are stored and readable by any signed actor
    r = await validation.client.get(
        "/api/v1/verdicts", params={"batch_id": submitted.batch_id}, headers=validation.headers()
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["batch_id"] == submitted.batch_id
    assert body["counts"] == {"pass": 3, "reject": 3}
    assert body["by_code"] == {"OK": 3, "ID_CHECKSUM": 1, "AMOUNT_INVALID": 1, "ID_BIRTH_DATE": 1}
    assert [v["record_id"] for v in body["verdicts"]] == [r.record_id for r in records]
    assert body["verdicts"][3] == {
        "record_id": bad_checksum.record_id,
        "round": 1,
        "seq": 4,
        "outcome": "reject",
        "code": "ID_CHECKSUM",
        "message": "身份证号码校验位错误",
        "rule_set_version": CURRENT.version,
    }
    assert all(good.id_number not in str(v) for v in body["verdicts"])

    rejected = await validation.client.get(
        "/api/v1/verdicts",
        params={"batch_id": submitted.batch_id, "outcome": "reject", "limit": 2, "offset": 1},
        headers=validation.headers(Role.SUPERVISOR, "AUDIT"),
    )
    assert rejected.status_code == 200
    assert [v["code"] for v in rejected.json()["verdicts"]] == ["AMOUNT_INVALID", "ID_BIRTH_DATE"]
    assert rejected.json()["counts"] == {"pass": 3, "reject": 3}

    metrics = (await validation.client.get("/metrics")).text
    assert 'ykt_validation_rejections_total{code="ID_CHECKSUM"}' in metrics
    assert 'ykt_records_total{outcome="passed",service="validation",stage="validation"}' in metrics


async def test_a_round_in_two_chunks_gives_one_batch_validated_per_chunk(
    validation: Any, validated: Any, factory: SimpleNamespace
) -> None:
    shared = factory.id_number()
    chunk0 = [factory.record(shared, seq=1), factory.record(seq=2)]
    chunk1 = [factory.record(seq=3), factory.record(shared, seq=4)]
    whole = factory.submission(chunk0 + chunk1)
    first = factory.submission(
        chunk0, batch_id=whole.batch_id, round_totals=whole.round_totals, index=0, count=2
    )
    second = factory.submission(
        chunk1, batch_id=whole.batch_id, round_totals=whole.round_totals, index=1, count=2
    )

    await publish(validation.bootstrap, first, second, correlation_id=whole.batch_id)
    out = await validated.wait(whole.batch_id, chunks=2)

    assert [(v.chunk.index, v.chunk.count) for v in out] == [(0, 2), (1, 2)]
    assert [v.round_totals for v in out] == [whole.round_totals] * 2
    assert [v.chunk.totals for v in out] == [first.chunk.totals, second.chunk.totals]
    assert [v.outcome for v in out[0].verdicts] == ["pass", "pass"]
    # the same person again in a later chunk of the round is a duplicate
    assert [v.code for v in out[1].verdicts] == ["OK", "DUPLICATE_ENJOYMENT"]
    assert out[1].verdicts[1].message == "该对象本期已享受（或正在发放）此项补贴，不得重复享受"


async def test_rule_set_is_listed_and_reading_needs_a_signed_actor(validation: Any) -> None:
    r = await validation.client.get("/api/v1/rule-sets", headers=validation.headers(Role.BANK, "CQRCB"))
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == CURRENT.version
    assert {rule["code"] for rule in body["rules"]} >= {
        "ID_CHECKSUM",
        "AMOUNT_INVALID",
        "DUPLICATE_ENJOYMENT",
    }

    assert (await validation.client.get("/api/v1/rule-sets")).status_code == 401
    forged = validation.headers() | {"x-ykt-role": "admin"}
    r = await validation.client.get("/api/v1/verdicts", params={"batch_id": "x"}, headers=forged)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "ACTOR_INVALID"


async def test_unknown_batch_has_no_verdicts(validation: Any) -> None:
    r = await validation.client.get(
        "/api/v1/verdicts", params={"batch_id": "no-such-batch"}, headers=validation.headers()
    )
    assert r.status_code == 200
    assert r.json()["counts"] == {"pass": 0, "reject": 0}
    assert r.json()["verdicts"] == []
