"""The business keys as the last line: a person is paid a program period at most once, a bank is
never instructed beyond its funding, a failure releases the claim, redelivery changes nothing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError
from ykt_contracts import BatchCompletedV1, PaymentInstructedV1
from ykt_kit.actor import Role
from ykt_kit.testing import EventRecorder
from ykt_payment.adapters.db import repository as repo

if TYPE_CHECKING:
    from conftest import Payment


pytestmark = pytest.mark.integration


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_payment_instructing_beyond_funding_is_refused_by_the_database(payment: Payment) -> None:
    batch_id = str(uuid.uuid4())
    db = payment.app.state.db
    async with db.transaction() as s:
        await repo.insert_funding(
            s, batch_id, [{"bank_code": "CQRCB", "funded_fen": 10_000, "voucher_no": "PZ-T1"}]
        )
    async with db.transaction() as s:
        assert await repo.raise_instructed(s, batch_id, {"CQRCB": 6_000}) == 1
    with pytest.raises(IntegrityError, match="funding_instructed_within_funded"):
        async with db.transaction() as s:
            await repo.raise_instructed(s, batch_id, {"CQRCB": 4_001})
    with pytest.raises(IntegrityError, match="funding_instructed_nonnegative"):
        async with db.transaction() as s:
            await repo.raise_instructed(s, batch_id, {"CQRCB": -6_001})
    async with db.transaction() as s:
        # exactly up to the funded amount is fine; a bank without funding is not raised at all
        assert await repo.raise_instructed(s, batch_id, {"CQRCB": 4_000, "ICBC": 1}) == 1


async def test_payment_person_claimed_in_another_batch_is_blocked(payment: Payment) -> None:
    first = payment.new_batch(2, banks=["CQRCB"])
    await payment.approved(first)
    assert (await payment.fund(first)).status_code == 200
    person = first.records[0]

    # the same person, program and period again, in another unit's batch, next to a newcomer
    second = payment.new_batch(1, banks=["CQRCB"], unit_role=Role.TOWN, people=[person])
    twin = second.records[-1]
    newcomer = second.records[0]
    await payment.approved(second)
    blocked_before = _metric("ykt_records_total", service="payment", stage="payment", outcome="blocked")
    async with EventRecorder(payment.bootstrap, "payment.instructed") as rec:
        resp = await payment.fund(second)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["instructed"] == {"record_count": 1, "amount_fen": newcomer.amount_fen}
        assert body["blocked"] == {"record_count": 1, "amount_fen": twin.amount_fen}
        (bank,) = body["banks"].values()
        assert bank["funded_fen"] == second.totals.amount_fen
        assert bank["instructed_fen"] == newcomer.amount_fen
        await rec.wait_for(
            lambda r: bool(r.of("payment.instructed", second.batch_id)), what="payment.instructed"
        )
        (env,) = rec.of("payment.instructed", second.batch_id)
    instructed = PaymentInstructedV1.model_validate(env.payload)
    assert [i.record_id for i in instructed.instructions] == [newcomer.record_id]
    assert instructed.bank_totals.amount_fen == newcomer.amount_fen
    assert (
        _metric("ykt_records_total", service="payment", stage="payment", outcome="blocked")
        == blocked_before + 1
    )

    resp = await payment.client.get(
        f"/api/v1/batches/{second.batch_id}/orders",
        params={"status": "blocked"},
        headers=payment.unit(second),
    )
    (item,) = resp.json()["items"]
    assert item["record_id"] == twin.record_id
    assert item["reason_code"] == "DUPLICATE_PAYMENT"
    assert item["reason"] == "该对象本期此项补贴已发放或正在发放"


async def test_payment_batch_with_everyone_blocked_completes_at_once(payment: Payment) -> None:
    first = payment.new_batch(1)
    await payment.approved(first)
    assert (await payment.fund(first)).status_code == 200

    again = payment.new_batch(0, people=first.records)
    await payment.approved(again)
    async with EventRecorder(payment.bootstrap, "batch.completed") as rec:
        resp = await payment.fund(again)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "completed"
        await rec.wait_for(lambda r: bool(r.of("batch.completed", again.batch_id)), what="batch.completed")
        (env,) = rec.of("batch.completed", again.batch_id)
    done = BatchCompletedV1.model_validate(env.payload)
    assert done.instructed.record_count == 0
    assert done.settled.record_count == 0
    assert done.failed.record_count == 0
    assert await payment.outbox_count(again, "ykt.payment.instructed") == 0


async def test_payment_failure_releases_the_ledger_for_a_reissue(payment: Payment) -> None:
    original = payment.new_batch(2, banks=["ICBC"])
    await payment.approved(original)
    assert (await payment.fund(original)).status_code == 200
    failed, ok = original.records
    async with payment.app.state.db.transaction() as s:
        assert [r.state for r in await repo.ledger_rows(s, failed.person_key)] == ["instructed"]

    await payment.publish(original, payment.settled_event(original, [ok], "ICBC"))
    await payment.publish(original, payment.failed_event(original, [failed], "ICBC", code="NAME_MISMATCH"))
    async with payment.app.state.db.transaction() as s:
        assert await repo.ledger_rows(s, failed.person_key) == []
        assert [r.state for r in await repo.ledger_rows(s, ok.person_key)] == ["settled"]
    assert (await payment.batch(original))["status"] == "completed"

    # the corrected re-issue of the failed record claims the person-period again
    corrected = failed.model_copy(update={"reissue_of_record_id": failed.record_id})
    reissue = payment.new_batch(0, banks=["ICBC"], people=[corrected])
    await payment.approved(reissue)
    resp = await payment.fund(reissue)
    assert resp.status_code == 200, resp.text
    assert resp.json()["instructed"]["record_count"] == 1
    (new_record,) = reissue.records
    async with payment.app.state.db.transaction() as s:
        (row,) = await repo.ledger_rows(s, failed.person_key)
    assert row.record_id == new_record.record_id
    orders = await payment.client.get(f"/api/v1/batches/{reissue.batch_id}/orders", headers=payment.finance)
    assert orders.json()["items"][0]["reissue_of_record_id"] == failed.record_id

    # a settled person stays claimed: paying them again is blocked
    twice = payment.new_batch(0, banks=["ICBC"], people=[ok])
    await payment.approved(twice)
    resp = await payment.fund(twice)
    assert resp.json()["blocked"]["record_count"] == 1


async def test_payment_redelivered_results_change_nothing_and_complete_once(payment: Payment) -> None:
    batch = payment.new_batch(4, banks=["CQRCB"])
    await payment.approved(batch)
    assert (await payment.fund(batch)).status_code == 200
    a, b, c, d = batch.records
    topic = "ykt.payment.settled"
    dup_before = _metric("ykt_events_consumed_total", service="payment", topic=topic, outcome="duplicate")

    (first,) = await payment.publish(batch, payment.settled_event(batch, [a, b], "CQRCB"))
    # the same event again (a redelivery): the inbox knows its id
    await payment.publish(
        batch, payment.settled_event(batch, [a, b], "CQRCB"), event_id=first.event_id, times=2
    )
    assert payment.outcomes.seen[first.event_id] == ["processed", "duplicate"]
    # the same results under a new event id (a producer's republish): nothing left to change
    await payment.publish(batch, payment.settled_event(batch, [a, b], "CQRCB"))
    view = await payment.batch(batch)
    assert view["order_status"]["settled"]["record_count"] == 2
    assert view["order_status"]["instructed"]["record_count"] == 2

    async with EventRecorder(payment.bootstrap, "batch.completed") as rec:
        (last,) = await payment.publish(batch, payment.failed_event(batch, [c, d], "CQRCB"))
        await rec.wait_for(lambda r: bool(r.of("batch.completed", batch.batch_id)), what="batch.completed")
        # after completion: the failures and a settlement of an already failed record, again
        await payment.publish(
            batch, payment.failed_event(batch, [c, d], "CQRCB"), event_id=last.event_id, times=2
        )
        await payment.publish(batch, payment.settled_event(batch, [c], "CQRCB"))
        await payment.publish(
            batch, payment.settled_event(batch, [a, b], "CQRCB"), event_id=first.event_id, times=3
        )
        (env,) = rec.of("batch.completed", batch.batch_id)

    done = BatchCompletedV1.model_validate(env.payload)
    assert (done.settled.record_count, done.failed.record_count) == (2, 2)
    assert await payment.outbox_count(batch, "ykt.batch.completed") == 1
    view = await payment.batch(batch)
    assert view["status"] == "completed"
    assert {s: v["record_count"] for s, v in view["order_status"].items()} == {"settled": 2, "failed": 2}
    assert (
        _metric("ykt_events_consumed_total", service="payment", topic=topic, outcome="duplicate")
        == dup_before + 2
    )
