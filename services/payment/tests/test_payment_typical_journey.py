"""Steps 3-5 as they usually go: verdicts and the unit's sending put a batch in front of finance;
finance approves; the unit applies for funds; the treasury pays each bank's special account;
the banks get their instructions in chunks; their results complete the batch."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from ykt_contracts import (
    MAX_RECORDS_PER_CHUNK,
    BatchApprovedV1,
    BatchCompletedV1,
    BatchFundedV1,
    PaymentInstructedV1,
)
from ykt_kit import masking
from ykt_kit.testing import EventRecorder

if TYPE_CHECKING:
    from conftest import Payment

pytestmark = pytest.mark.integration


async def test_payment_validated_then_sent_goes_to_review_and_finance_approves(payment: Payment) -> None:
    batch = payment.new_batch(230, rejected=3)
    await payment.publish(batch, *payment.validated_events(batch))
    assert (await payment.batch(batch))["status"] == "collecting"
    await payment.publish(batch, payment.sent_event(batch))

    view = await payment.batch(batch)
    assert view["status"] == "pending_review"
    assert view["sent"] == {"record_count": 230, "amount_fen": batch.totals.amount_fen}
    assert view["orders"] == view["sent"]
    assert view["order_status"] == {"validated": view["sent"]}

    resp = await payment.client.get(
        "/api/v1/reviews", params={"status": "pending_review", "limit": 500}, headers=payment.finance
    )
    assert resp.status_code == 200
    mine = [b for b in resp.json()["items"] if b["batch_id"] == batch.batch_id]
    assert len(mine) == 1
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in batch.records:
        expected[r.bank_code][0] += 1
        expected[r.bank_code][1] += r.amount_fen
    assert {b: [v["records"], v["amount_fen"]] for b, v in mine[0]["banks"].items()} == expected

    # the orders show personal data masked only
    resp = await payment.client.get(
        f"/api/v1/batches/{batch.batch_id}/orders", params={"limit": 500}, headers=payment.unit(batch)
    )
    assert resp.status_code == 200
    page = resp.json()
    assert page["total"] == 230
    by_id = {r.record_id: r for r in batch.records}
    for item in page["items"]:
        src = by_id[item["record_id"]]
        assert item["name_masked"] == masking.mask_name(src.name)
        assert item["id_number_masked"] == masking.mask_id(src.id_number)
        assert item["account_no_masked"] == masking.mask_account(src.account_no)
        assert src.id_number not in resp.text
        assert src.account_no not in resp.text
        assert item["status"] == "validated"
        assert item["amount_fen"] == src.amount_fen

    async with EventRecorder(payment.bootstrap, "batch.approved") as rec:
        resp = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "approved"
        await rec.wait_for(lambda r: bool(r.of("batch.approved", batch.batch_id)), what="batch.approved")
        (env,) = rec.of("batch.approved", batch.batch_id)
    approved = BatchApprovedV1.model_validate(env.payload)
    assert approved.totals == batch.totals
    assert approved.approved_by == "fin-reviewer"


async def test_payment_funding_instructs_banks_in_chunks_and_results_complete_the_batch(
    payment: Payment,
) -> None:
    # 250 records at CQRCB and 200 at ICBC: several chunks for each bank
    cq = payment.new_batch(250, banks=["CQRCB"])
    icbc = payment.new_batch(200, banks=["ICBC"])
    chunks_expected = {
        "CQRCB": math.ceil(250 / MAX_RECORDS_PER_CHUNK),
        "ICBC": math.ceil(200 / MAX_RECORDS_PER_CHUNK),
    }
    assert min(chunks_expected.values()) >= 2
    batch = dataclasses.replace(cq, records=cq.records + icbc.records)
    await payment.approved(batch)

    async with EventRecorder(
        payment.bootstrap, "batch.funded", "payment.instructed", "batch.completed"
    ) as rec:
        resp = await payment.fund(batch)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "instructed"
        assert body["instructed"] == {"record_count": 450, "amount_fen": batch.totals.amount_fen}
        assert body["blocked"] == {"record_count": 0, "amount_fen": 0}

        sums = {
            "CQRCB": sum(r.amount_fen for r in cq.records),
            "ICBC": sum(r.amount_fen for r in icbc.records),
        }
        # the treasury paid each bank's special account its sum, once
        apps = {a["payee_bank_code"]: a for a in await payment.treasury.for_batch(batch.batch_id)}
        assert {b: a["amount_fen"] for b, a in apps.items()} == sums
        assert apps["CQRCB"]["payee_account"] == "ZH-CQRCB-DDK-0001"  # configured
        assert apps["ICBC"]["payee_account"] == "ZH-ICBC-500104"  # default
        assert apps["ICBC"]["payer_account"] == "GK-500104-0001"
        assert apps["ICBC"]["application_ref"] == f"{batch.batch_id}:ICBC"
        assert {b: (v["funded_fen"], v["instructed_fen"]) for b, v in body["banks"].items()} == {
            b: (s, s) for b, s in sums.items()
        }

        await rec.wait_for(
            lambda r: (
                len(r.of("payment.instructed", batch.batch_id)) == sum(chunks_expected.values())
                and r.of("batch.funded", batch.batch_id)
            ),
            what="funding and every instruction chunk",
        )
        (funded_env,) = rec.of("batch.funded", batch.batch_id)
        funded = BatchFundedV1.model_validate(funded_env.payload)
        assert funded.budget_doc_no == "渡财指〔2026〕101号"
        assert {f.bank_code: f.amount_fen for f in funded.funding} == sums
        assert {f.bank_code: f.voucher_no for f in funded.funding} == {
            b: await payment.treasury.voucher(f"{batch.batch_id}:{b}") for b in sums
        }

        chunks = [
            PaymentInstructedV1.model_validate(e.payload)
            for e in rec.of("payment.instructed", batch.batch_id)
        ]
        by_bank: dict[str, list[PaymentInstructedV1]] = defaultdict(list)
        for c in chunks:
            by_bank[c.bank_code].append(c)
        assert {b: len(cs) for b, cs in by_bank.items()} == chunks_expected
        src = {r.record_id: r for r in batch.records}
        for bank, cs in by_bank.items():
            cs.sort(key=lambda c: c.chunk.index)
            assert [c.chunk.index for c in cs] == list(range(len(cs)))
            assert all(c.chunk.count == len(cs) for c in cs)
            for c in cs:
                assert len(c.instructions) <= MAX_RECORDS_PER_CHUNK
                assert c.bank_totals.record_count == sum(1 for r in batch.records if r.bank_code == bank)
                assert c.bank_totals.amount_fen == sums[bank]
                assert c.chunk.totals.record_count == len(c.instructions)
                assert c.chunk.totals.amount_fen == sum(i.amount_fen for i in c.instructions)
                assert (c.unit_code, c.program_code, c.period) == (batch.unit_code, "HM10", "2026-11")
                for i in c.instructions:
                    r = src[i.record_id]
                    assert i.end_to_end_id == r.record_id
                    assert (i.name, i.id_number, i.account_no, i.amount_fen) == (
                        r.name,
                        r.id_number,
                        r.account_no,
                        r.amount_fen,
                    )
            assert sum(len(c.instructions) for c in cs) == cs[0].bank_totals.record_count

        # the banks answer: all of ICBC settled; CQRCB settles all but 3, which fail
        failed = cq.records[:3]
        *cq_first, cq_last = payment.settled_events(batch, cq.records[3:], "CQRCB")
        await payment.publish(batch, *payment.settled_events(batch, icbc.records, "ICBC"), *cq_first)
        assert (await payment.batch(batch))["status"] == "instructed"
        await payment.publish(batch, cq_last, payment.failed_event(batch, failed, "CQRCB"))
        await rec.wait_for(lambda r: bool(r.of("batch.completed", batch.batch_id)), what="batch.completed")
        (done_env,) = rec.of("batch.completed", batch.batch_id)

    done = BatchCompletedV1.model_validate(done_env.payload)
    failed_fen = sum(r.amount_fen for r in failed)
    assert done.instructed.record_count == 450
    assert done.instructed.amount_fen == batch.totals.amount_fen
    assert (done.settled.record_count, done.settled.amount_fen) == (447, batch.totals.amount_fen - failed_fen)
    assert (done.failed.record_count, done.failed.amount_fen) == (3, failed_fen)

    view = await payment.batch(batch)
    assert view["status"] == "completed"
    banks = view["banks"]
    assert banks["CQRCB"]["failed"] == {"record_count": 3, "amount_fen": failed_fen}
    assert banks["ICBC"]["settled"] == {"record_count": 200, "amount_fen": sums["ICBC"]}
    resp = await payment.client.get(
        f"/api/v1/batches/{batch.batch_id}/orders", params={"status": "failed"}, headers=payment.finance
    )
    items = resp.json()["items"]
    assert {i["record_id"] for i in items} == {r.record_id for r in failed}
    assert all(i["reason_code"] == "ACCOUNT_CLOSED" and i["reason"] == "账户已销户" for i in items)
