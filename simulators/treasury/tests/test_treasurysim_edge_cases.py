"""Conflicting reuse of a reference, invalid applications, unknown references."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ykt_treasurysim.config import Settings
from ykt_treasurysim.main import create_app


@pytest.fixture
async def treasury() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://treasury") as client:
        yield client


def application(**overrides: Any) -> dict[str, Any]:
    return {
        "application_ref": f"PAY-{uuid.uuid4()}",
        "budget_doc_no": "渡财社〔2024〕15号",
        "payer_account": "500104000000000001",
        "payee_bank_code": "CQRCB",
        "payee_account": "31000100000000888",
        "amount_fen": 10_000,
        **overrides,
    }


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"amount_fen": 10_001}, "金额（分）（amount_fen）"),
        ({"payee_account": "31000100000000999"}, "收款账号（payee_account）"),
        ({"payee_bank_code": "ICBC"}, "收款银行代码（payee_bank_code）"),
        ({"budget_doc_no": "渡财社〔2024〕16号"}, "指标文号（budget_doc_no）"),
    ],
)
async def test_a_reference_reused_for_a_different_payment_is_409(
    treasury: httpx.AsyncClient, change: dict[str, Any], named: str
) -> None:
    body = application()
    first = (await treasury.post("/api/v1/payment-applications", json=body)).json()
    r = await treasury.post("/api/v1/payment-applications", json={**body, **change})
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "APPLICATION_CONFLICT"
    assert error["message"] == f"支付申请{body['application_ref']}已受理，本次提交的{named}与原申请不一致"
    assert error["fields"] == list(change)
    # The original stands.
    assert (await treasury.get(f"/api/v1/payment-applications/{body['application_ref']}")).json() == first


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"amount_fen": 0}, "金额（分）（amount_fen）必须大于0", "amount_fen"),
        ({"amount_fen": -5}, "金额（分）（amount_fen）必须大于0", "amount_fen"),
        ({"amount_fen": 12.5}, "金额（分）（amount_fen）必须是整数", "amount_fen"),
        ({"amount_fen": "100"}, "金额（分）（amount_fen）必须是整数", "amount_fen"),
        ({"budget_doc_no": ""}, "指标文号（budget_doc_no）不能为空", "budget_doc_no"),
        ({"budget_doc_no": "   "}, "指标文号（budget_doc_no）不能为空", "budget_doc_no"),
        ({"payee_account": None}, "收款账号（payee_account）必须是字符串", "payee_account"),
        ({"application_ref": "x" * 65}, "支付申请编号（application_ref）长度不能超过64", "application_ref"),
    ],
)
async def test_an_invalid_application_is_422_with_a_chinese_message(
    treasury: httpx.AsyncClient, change: dict[str, Any], message: str, field: str
) -> None:
    r = await treasury.post("/api/v1/payment-applications", json=application(**change))
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "VALIDATION_ERROR", "message": message, "field": field}
    assert (await treasury.get("/api/v1/payment-applications")).json()["count"] == 0


async def test_a_missing_field_and_a_broken_body_are_422(treasury: httpx.AsyncClient) -> None:
    body = application()
    del body["payer_account"]
    r = await treasury.post("/api/v1/payment-applications", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "缺少付款账号（payer_account）"

    r = await treasury.post(
        "/api/v1/payment-applications", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "请求体不是合法的JSON"


async def test_an_unknown_reference_is_404(treasury: httpx.AsyncClient) -> None:
    r = await treasury.get("/api/v1/payment-applications/PAY-nope")
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "APPLICATION_NOT_FOUND", "message": "未找到支付申请PAY-nope"}
