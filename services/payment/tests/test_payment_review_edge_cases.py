"""Step 3 off the happy path: events out of order, totals that do not match, finance's return
and the states in which approving is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from ykt_contracts import MAX_RECORDS_PER_CHUNK, BatchReturnedV1, Totals
from ykt_kit.testing import EventRecorder

if TYPE_CHECKING:
    from conftest import Payment

pytestmark = pytest.mark.integration


async def test_payment_sent_before_validated_waits_for_every_chunk(payment: Payment) -> None:
    batch = payment.new_batch(MAX_RECORDS_PER_CHUNK + 60)  # verdicts travel as 2 chunks
    await payment.publish(batch, payment.sent_event(batch))
    view = await payment.batch(batch)
    assert view["status"] == "awaiting_records"
    assert view["orders"] == {"record_count": 0, "amount_fen": 0}

    first, second = payment.validated_events(batch)
    await payment.publish(batch, first)
    assert (await payment.batch(batch))["status"] == "awaiting_records"
    await payment.publish(batch, second)
    view = await payment.batch(batch)
    assert view["status"] == "pending_review"
    assert view["orders"] == {
        "record_count": MAX_RECORDS_PER_CHUNK + 60,
        "amount_fen": batch.totals.amount_fen,
    }


async def test_payment_more_records_than_sent_is_a_totals_mismatch(payment: Payment) -> None:
    batch = payment.new_batch(5)
    await payment.publish(batch, *payment.validated_events(batch))
    declared = Totals(record_count=4, amount_fen=sum(r.amount_fen for r in batch.records[:4]))
    await payment.publish(batch, payment.sent_event(batch, totals=declared))
    assert (await payment.batch(batch))["status"] == "totals_mismatch"
    resp = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "BATCH_STATE"
    assert "汇总数不符" in resp.json()["error"]["message"]


async def test_payment_same_count_different_sum_is_a_totals_mismatch(payment: Payment) -> None:
    batch = payment.new_batch(5)
    await payment.publish(batch, *payment.validated_events(batch))
    declared = Totals(record_count=5, amount_fen=batch.totals.amount_fen + 1)
    await payment.publish(batch, payment.sent_event(batch, totals=declared))
    assert (await payment.batch(batch))["status"] == "totals_mismatch"


async def test_payment_records_arriving_after_review_started_withdraw_the_batch_from_review(
    payment: Payment,
) -> None:
    batch = payment.new_batch(6)
    early, late = batch.records[:5], batch.records[5:]
    await payment.publish(batch, *payment.validated_events(batch, records=early))
    declared = Totals(record_count=5, amount_fen=sum(r.amount_fen for r in early))
    await payment.publish(batch, payment.sent_event(batch, totals=declared))
    assert (await payment.batch(batch))["status"] == "pending_review"
    await payment.publish(batch, *payment.validated_events(batch, records=late))
    assert (await payment.batch(batch))["status"] == "totals_mismatch"


async def test_payment_finance_returns_a_batch_with_reasons(payment: Payment) -> None:
    batch = payment.new_batch(4)
    await payment.pending_review(batch)
    named = batch.records[1].record_id
    async with EventRecorder(payment.bootstrap, "batch.returned") as rec:
        resp = await payment.client.post(
            f"/api/v1/reviews/{batch.batch_id}/return",
            json={
                "reason": "补贴标准与文件不符",
                "record_reasons": [{"record_id": named, "reason": "金额超标准"}],
            },
            headers=payment.finance,
        )
        assert resp.status_code == 200, resp.text
        view = resp.json()
        assert view["status"] == "returned"
        assert view["return_reason"] == "补贴标准与文件不符"
        assert view["returned_by"] == "fin-reviewer"
        await rec.wait_for(lambda r: bool(r.of("batch.returned", batch.batch_id)), what="batch.returned")
        (env,) = rec.of("batch.returned", batch.batch_id)
    returned = BatchReturnedV1.model_validate(env.payload)
    assert returned.reason == "补贴标准与文件不符"
    assert [(x.record_id, x.reason) for x in returned.record_reasons] == [(named, "金额超标准")]

    # the orders themselves are untouched by a return
    resp = await payment.client.get(f"/api/v1/batches/{batch.batch_id}/orders", headers=payment.finance)
    assert {i["status"] for i in resp.json()["items"]} == {"validated"}
    # a returned batch cannot be approved; sent again (after correction) it is reviewed again
    resp = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    assert resp.status_code == 409
    await payment.publish(batch, payment.sent_event(batch))
    assert (await payment.batch(batch))["status"] == "pending_review"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 201},
        {"reason": "原因", "record_reasons": [{"record_id": "r1"}]},
        {"reason": "原因", "unexpected": 1},
    ],
)
async def test_payment_return_needs_a_reason(payment: Payment, body: dict[str, object]) -> None:
    batch = payment.new_batch(2)
    await payment.pending_review(batch)
    resp = await payment.client.post(
        f"/api/v1/reviews/{batch.batch_id}/return", json=body, headers=payment.finance
    )
    assert resp.status_code == 422
    assert (await payment.batch(batch))["status"] == "pending_review"


async def test_payment_return_naming_a_record_of_another_batch_is_refused(payment: Payment) -> None:
    batch = payment.new_batch(2)
    await payment.pending_review(batch)
    resp = await payment.client.post(
        f"/api/v1/reviews/{batch.batch_id}/return",
        json={"reason": "数据有误", "record_reasons": [{"record_id": "not-in-this-batch", "reason": "?"}]},
        headers=payment.finance,
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "RECORDS_UNKNOWN"
    assert (await payment.batch(batch))["status"] == "pending_review"


async def test_payment_approve_only_from_pending_review(payment: Payment) -> None:
    batch = payment.new_batch(3)
    await payment.publish(batch, *payment.validated_events(batch))
    resp = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "BATCH_STATE"
    assert error["message"] == "批次当前状态为“数据接收中”，不能复核通过"

    await payment.publish(batch, payment.sent_event(batch))
    first = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    again = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    assert first.status_code == 200
    assert again.status_code == 409
    assert await payment.outbox_count(batch, "ykt.batch.approved") == 1

    unknown = await payment.client.post("/api/v1/reviews/no-such-batch/approve", headers=payment.finance)
    assert unknown.status_code == 404
