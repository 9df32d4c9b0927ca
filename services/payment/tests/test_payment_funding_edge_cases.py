"""Step 4 off the happy path: the treasury refuses or is unreachable (nothing changes here), an
interrupted earlier attempt (the treasury's idempotency), funding out of turn or twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from ykt_kit.testing import EventRecorder
from ykt_payment.adapters.treasury import HttpTreasury, PaymentApplication
from ykt_payment.domain.model import TreasuryRefused, TreasuryUnavailable

if TYPE_CHECKING:
    from conftest import Batch, Payment

pytestmark = pytest.mark.integration

DOC = "渡财指〔2026〕101号"


async def _nothing_changed(payment: Payment, batch: Batch) -> None:
    view = await payment.batch(batch)
    assert view["status"] == "approved"
    assert view["budget_doc_no"] is None
    assert all(b["funded_fen"] == 0 and b["voucher_no"] is None for b in view["banks"].values())
    assert all(b["instructed_fen"] == 0 for b in view["banks"].values())
    assert view["order_status"].keys() == {"validated"}
    assert await payment.outbox_count(batch, "ykt.batch.funded") == 0
    assert await payment.outbox_count(batch, "ykt.payment.instructed") == 0


def _application(payment: Payment, batch: Batch, bank: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "application_ref": f"{batch.batch_id}:{bank}",
        "budget_doc_no": DOC,
        "payer_account": "GK-500104-0001",
        "payee_bank_code": bank,
        "payee_account": payment.settings.special_account(bank),
        "amount_fen": sum(r.amount_fen for r in batch.records if r.bank_code == bank),
    }
    return {**body, **changes}


async def test_payment_treasury_refusal_is_a_409_and_changes_nothing(payment: Payment) -> None:
    batch = payment.new_batch(3, banks=["CQRCB"])
    await payment.approved(batch)
    # the reference was already used at the treasury for another amount: it refuses this one
    taken = await payment.treasury.apply(_application(payment, batch, "CQRCB", amount_fen=1))
    assert taken.status_code == 200
    resp = await payment.fund(batch, DOC)
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "TREASURY_REFUSED"
    assert error["message"].startswith("国库未予支付：")
    assert "与原申请不一致" in error["message"]
    await _nothing_changed(payment, batch)


async def test_payment_funding_after_an_interrupted_attempt_pays_nobody_twice(payment: Payment) -> None:
    batch = payment.new_batch(4, banks=["CQRCB", "ICBC"])
    await payment.approved(batch)
    # an earlier attempt got as far as CQRCB's application before failing
    earlier = await payment.treasury.apply(_application(payment, batch, "CQRCB"))
    assert earlier.status_code == 200
    resp = await payment.fund(batch, DOC)
    assert resp.status_code == 200, resp.text
    apps = await payment.treasury.for_batch(batch.batch_id)
    assert sorted(a["payee_bank_code"] for a in apps) == ["CQRCB", "ICBC"]
    banks = resp.json()["banks"]
    assert banks["CQRCB"]["voucher_no"] == earlier.json()["voucher_no"]


async def test_payment_unreachable_treasury_is_a_502_and_changes_nothing(
    payment: Payment, closed_port_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = payment.new_batch(3)
    await payment.approved(batch)
    monkeypatch.setattr(payment.app.state.payment, "treasury", HttpTreasury(closed_port_url, timeout_s=5))
    resp = await payment.fund(batch)
    assert resp.status_code == 502
    assert resp.json()["error"]["code"] == "TREASURY_UNAVAILABLE"
    assert resp.json()["error"]["message"] == "国库支付系统暂不可用，请稍后重试"
    await _nothing_changed(payment, batch)


@pytest.mark.parametrize(
    ("doc", "error"),
    [("DOWN-1", TreasuryUnavailable), ("GARBLED-1", TreasuryRefused), ("SHORT-1", TreasuryRefused)],
)
async def test_payment_treasury_answers_that_are_not_a_payment(
    faulty_treasury_url: str, doc: str, error: type[Exception]
) -> None:
    treasury = HttpTreasury(faulty_treasury_url, timeout_s=5)
    application = PaymentApplication("b:CQRCB", doc, "GK-500104-0001", "CQRCB", "ZH-CQRCB-500104", 100)
    with pytest.raises(error):
        await treasury.pay(application)
    ok = PaymentApplication("b:CQRCB", "渡财指〔2026〕3号", "GK-500104-0001", "CQRCB", "ZH-CQRCB-500104", 100)
    assert await treasury.pay(ok) == "GK2"


async def test_payment_funding_only_once_and_only_when_approved(payment: Payment) -> None:
    batch = payment.new_batch(3)
    await payment.pending_review(batch)
    resp = await payment.fund(batch)
    assert resp.status_code == 409
    assert resp.json()["error"]["message"] == "批次当前状态为“待财政复核”，不能申请拨付资金"
    assert await payment.treasury.for_batch(batch.batch_id) == []

    await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=payment.finance)
    async with EventRecorder(payment.bootstrap, "batch.funded") as rec:
        assert (await payment.fund(batch)).status_code == 200
        again = await payment.fund(batch)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "BATCH_STATE"
        await rec.wait_for(lambda r: bool(r.of("batch.funded", batch.batch_id)), what="batch.funded")
    assert await payment.outbox_count(batch, "ykt.batch.funded") == 1
    assert len(await payment.treasury.for_batch(batch.batch_id)) == len({r.bank_code for r in batch.records})


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"budget_doc_no": ""},
        {"budget_doc_no": "  "},
        {"budget_doc_no": "x" * 65},
        {"budget_doc_no": "a", "payer_account": "x" * 41},
        {"budget_doc_no": "a", "x": 1},
    ],
)
async def test_payment_funding_needs_a_budget_document(payment: Payment, body: dict[str, object]) -> None:
    batch = payment.new_batch(1)
    await payment.approved(batch)
    resp = await payment.client.post(
        f"/api/v1/batches/{batch.batch_id}/funding", json=body, headers=payment.unit(batch)
    )
    assert resp.status_code == 422
    assert await payment.treasury.for_batch(batch.batch_id) == []
