"""Who may do what: finance reviews and changes no payment data, units fund their own batches,
banks see nothing here, and there is no route at all that changes an order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from ykt_kit.actor import Role

if TYPE_CHECKING:
    from conftest import Payment

pytestmark = pytest.mark.integration


async def test_payment_api_has_no_route_that_changes_orders(payment: Payment) -> None:
    resp = await payment.client.get("/openapi.json")
    paths = resp.json()["paths"]
    methods = {(path, m.lower()) for path, ops in paths.items() for m in ops}
    assert not [pm for pm in methods if pm[1] in ("put", "patch", "delete")]
    posts = sorted(path for path, m in methods if m == "post")
    assert posts == [
        "/api/v1/batches/{batch_id}/funding",
        "/api/v1/reviews/{batch_id}/approve",
        "/api/v1/reviews/{batch_id}/return",
    ]
    assert not [p for p in paths if "/orders" in p and set(paths[p]) != {"get"}]


@pytest.mark.parametrize(
    ("role", "org"),
    [
        (Role.DEPARTMENT, "DEPT-CIVIL"),
        (Role.TOWN, "500104101000"),
        (Role.SUPERVISOR, "JW-500104"),
        (Role.ADMIN, "CZJ-500104"),
        (Role.BANK, "CQRCB"),
    ],
)
async def test_payment_only_finance_approves_or_returns(payment: Payment, role: Role, org: str) -> None:
    batch = payment.new_batch(2)
    await payment.pending_review(batch)
    headers = payment.headers(role, org)
    approve = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=headers)
    ret = await payment.client.post(
        f"/api/v1/reviews/{batch.batch_id}/return", json={"reason": "不予通过"}, headers=headers
    )
    assert approve.status_code == 403
    assert ret.status_code == 403
    assert approve.json()["error"]["code"] == "ROLE_FORBIDDEN"
    assert (await payment.batch(batch))["status"] == "pending_review"


async def test_payment_finance_and_supervisor_cannot_fund(payment: Payment) -> None:
    batch = payment.new_batch(2)
    await payment.approved(batch)
    for role, org in ((Role.FINANCE, "CZJ-500104"), (Role.SUPERVISOR, "JW-500104"), (Role.BANK, "CQRCB")):
        resp = await payment.client.post(
            f"/api/v1/batches/{batch.batch_id}/funding",
            json={"budget_doc_no": "渡财指〔2026〕9号"},
            headers=payment.headers(role, org),
        )
        assert resp.status_code == 403, role
    assert await payment.treasury.for_batch(batch.batch_id) == []
    assert (await payment.batch(batch))["status"] == "approved"


async def test_payment_units_see_and_fund_only_their_own_batches(payment: Payment) -> None:
    batch = payment.new_batch(2, unit_role=Role.TOWN)
    await payment.approved(batch)
    other_town = payment.headers(Role.TOWN, "500104102000")
    other_dept = payment.headers(Role.DEPARTMENT, "DEPT-AGRI")
    for headers in (other_town, other_dept):
        for path in (f"/api/v1/batches/{batch.batch_id}", f"/api/v1/batches/{batch.batch_id}/orders"):
            resp = await payment.client.get(path, headers=headers)
            assert resp.status_code == 404, path
        resp = await payment.client.post(
            f"/api/v1/batches/{batch.batch_id}/funding",
            json={"budget_doc_no": "渡财指〔2026〕9号"},
            headers=headers,
        )
        assert resp.status_code == 404
    assert await payment.treasury.for_batch(batch.batch_id) == []

    own = payment.unit(batch)
    assert (await payment.client.get(f"/api/v1/batches/{batch.batch_id}", headers=own)).status_code == 200
    assert (await payment.client.get("/api/v1/reviews", headers=own)).status_code == 403
    resp = await payment.fund(batch)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "instructed"


async def test_payment_bank_sees_nothing_here_and_unsigned_callers_nothing_at_all(payment: Payment) -> None:
    batch = payment.new_batch(2)
    await payment.pending_review(batch)
    bank = payment.headers(Role.BANK, "CQRCB")
    for path in (
        "/api/v1/reviews",
        f"/api/v1/batches/{batch.batch_id}",
        f"/api/v1/batches/{batch.batch_id}/orders",
    ):
        assert (await payment.client.get(path, headers=bank)).status_code == 403, path
        assert (await payment.client.get(path)).status_code == 401, path
    forged = {**payment.finance, "x-ykt-role": "supervisor"}
    assert (await payment.client.get("/api/v1/reviews", headers=forged)).status_code == 401

    supervisor = payment.headers(Role.SUPERVISOR, "JW-500104")
    for path in (
        "/api/v1/reviews",
        f"/api/v1/batches/{batch.batch_id}",
        f"/api/v1/batches/{batch.batch_id}/orders",
    ):
        assert (await payment.client.get(path, headers=supervisor)).status_code == 200, path


async def test_payment_metrics_count_batch_transitions(payment: Payment) -> None:
    batch = payment.new_batch(1)
    await payment.pending_review(batch)
    text = (await payment.client.get("/metrics")).text
    assert 'ykt_payment_batch_transitions_total{status="pending_review"}' in text


async def test_payment_operator_id_must_fit_the_events(payment: Payment) -> None:
    batch = payment.new_batch(1)
    await payment.pending_review(batch)
    odd = payment.headers(Role.FINANCE, "CZJ-500104", "fin reviewer")
    resp = await payment.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=odd)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "ACTOR_ID_INVALID"
    assert (await payment.batch(batch))["status"] == "pending_review"
