"""Payment asks the treasury to fund an agent bank's special account and gets a voucher."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from ykt_treasurysim.main import create_app


@pytest.fixture
async def treasury() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://treasury") as client:
        yield client


def application(**overrides: Any) -> dict[str, Any]:
    return {
        "application_ref": f"PAY-{uuid.uuid4()}",
        "budget_doc_no": "渡财社〔2024〕15号",
        "payer_account": "500104000000000001",
        "payee_bank_code": "CQRCB",
        "payee_account": "31000100000000888",
        "amount_fen": 1_234_567,
        **overrides,
    }


async def test_an_application_is_paid_with_a_voucher_and_can_be_read_back(
    treasury: httpx.AsyncClient,
) -> None:
    body = application()
    r = await treasury.post("/api/v1/payment-applications", json=body)
    assert r.status_code == 200
    paid = r.json()
    assert paid["application_ref"] == body["application_ref"]
    assert paid["status"] == "paid"
    assert paid["amount_fen"] == 1_234_567
    assert re.fullmatch(r"GK\d{8}\d{6}", paid["voucher_no"])
    paid_at = datetime.fromisoformat(paid["paid_at"])
    assert paid_at.utcoffset() is not None
    assert paid["voucher_no"][2:10] == f"{paid_at:%Y%m%d}"
    for field in ("budget_doc_no", "payer_account", "payee_bank_code", "payee_account"):
        assert paid[field] == body[field]

    r = await treasury.get(f"/api/v1/payment-applications/{body['application_ref']}")
    assert r.status_code == 200
    assert r.json() == paid

    other = application(payee_bank_code="ICBC", amount_fen=500, budget_doc_no="渡财农〔2024〕3号")
    paid_other = (await treasury.post("/api/v1/payment-applications", json=other)).json()
    assert paid_other["voucher_no"] != paid["voucher_no"]

    listing = (await treasury.get("/api/v1/payment-applications")).json()
    assert listing["count"] == 2
    assert listing["amount_fen"] == 1_234_567 + 500
    assert [a["application_ref"] for a in listing["applications"]] == [
        body["application_ref"],
        other["application_ref"],
    ]

    one_doc = (
        await treasury.get("/api/v1/payment-applications", params={"budget_doc_no": "渡财农〔2024〕3号"})
    ).json()
    assert [a["application_ref"] for a in one_doc["applications"]] == [other["application_ref"]]

    assert (await treasury.get("/health/live")).json() == {"status": "ok"}


async def test_the_same_application_again_returns_the_same_voucher(treasury: httpx.AsyncClient) -> None:
    body = application()
    first = (await treasury.post("/api/v1/payment-applications", json=body)).json()
    # A retry after a lost answer, with insignificant whitespace.
    again = await treasury.post(
        "/api/v1/payment-applications", json={**body, "budget_doc_no": f" {body['budget_doc_no']} "}
    )
    assert again.status_code == 200
    assert again.json() == first
    listing = (await treasury.get("/api/v1/payment-applications")).json()
    assert listing["count"] == 1
    assert listing["amount_fen"] == body["amount_fen"]
