"""Account verification: unsigned and invalid requests, unknown banks, and a slow bank whose
latency is changed at run time (the same knob slows its credit-transfer API)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx
import pytest
from ykt_banksim.callbacks import sign
from ykt_banksim.config import DEV_CALLBACK_SECRET, Settings
from ykt_banksim.testing import signed_json


def new_account() -> str:
    return "6216" + str(uuid.uuid4().int)[:15]


def item(account: str, name: str, id_number: str) -> dict[str, Any]:
    return {
        "item_id": str(uuid.uuid4()),
        "account_no": account,
        "holder_name": name,
        "holder_id_number": id_number,
    }


def verification(
    http: httpx.Client, url: str, bank: str, items: list[dict[str, Any]], *, secret: str = DEV_CALLBACK_SECRET
) -> httpx.Response:
    body, headers = signed_json({"request_ref": f"V-{uuid.uuid4().hex[:8]}", "items": items}, secret)
    return http.post(f"{url}/banks/{bank}/api/v1/account-verifications", content=body, headers=headers)


def test_an_unsigned_or_wrongly_signed_request_is_refused(http: httpx.Client, banksim_url: str) -> None:
    items = [item(new_account(), "赵六", "500104197512123456")]
    body = json.dumps({"request_ref": "V-1", "items": items}).encode()
    url = f"{banksim_url}/banks/CQRCB/api/v1/account-verifications"
    before = http.get(f"{banksim_url}/admin/stats").json()["CQRCB"]["verification_requests"]

    unsigned = http.post(url, content=body, headers={"content-type": "application/json"})
    forged = verification(http, banksim_url, "CQRCB", items, secret="not-the-bank-secret")  # noqa: S106
    tampered = http.post(
        url, content=body.replace(b"V-1", b"V-2"), headers={"X-Signature": sign(DEV_CALLBACK_SECRET, body)}
    )

    for r in (unsigned, forged, tampered):
        assert r.status_code == 401
        assert r.json()["error"] == {"code": "BAD_SIGNATURE", "message": "请求签名无效"}
    assert http.get(f"{banksim_url}/admin/stats").json()["CQRCB"]["verification_requests"] == before


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "核验列表（items）不能为空"),
        ([item("6215000000000001", "甲", "1")] * 2, "核验项标识（item_id）不能重复"),
        (
            [{**item("6215000000000001", "甲", "1"), "holder_id_number": " "}],
            "第1条核验项的证件号码（holder_id_number）不能为空",
        ),
        ([item(str(n), "甲", "1") for n in range(1001)], "核验列表（items）条数不能超过1000"),
    ],
)
def test_an_invalid_request_is_refused_with_a_chinese_message(
    http: httpx.Client, banksim_url: str, items: list[dict[str, Any]], message: str
) -> None:
    r = verification(http, banksim_url, "CQRCB", items)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert message in r.json()["error"]["message"]


def test_an_unknown_bank_is_404(http: httpx.Client, banksim_url: str) -> None:
    r = verification(http, banksim_url, "HSBC", [item(new_account(), "甲", "1")])
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "BANK_NOT_FOUND"


def test_a_slow_bank_times_out_then_answers_once_its_latency_is_lifted(
    http: httpx.Client, start_banksim: Any
) -> None:
    url = start_banksim(banks="ABC,BOC", latency="ABC=3600")
    account = new_account()
    http.post(
        f"{url}/banks/ABC/admin/accounts",
        json=[{"account_no": account, "holder_name": "孙七", "holder_id_number": "500104199001011234"}],
    )
    ask = item(account, "孙七", "500104199001011234")

    # ABC takes an hour: a client that waits a moment gives up, on verifications and credits alike
    with httpx.Client(timeout=0.3, trust_env=False) as impatient:
        with pytest.raises(httpx.TimeoutException):
            verification(impatient, url, "ABC", [ask])
        with pytest.raises(httpx.TimeoutException):
            impatient.get(f"{url}/banks/ABC/api/v1/credit-transfers/{uuid.uuid4()}")
        # another bank of the same process is not slowed
        assert (
            verification(impatient, url, "BOC", [ask]).json()["results"][0]["reason_code"]
            == "ACCOUNT_NOT_FOUND"
        )

    # a patient client is answered as soon as the latency is lifted, and so are later ones
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(verification(http, url, "ABC", [ask])))
    waiting.start()
    assert http.put(f"{url}/banks/ABC/admin/latency", json={"seconds": 0}).json() == {"seconds": 0}
    waiting.join(timeout=30)
    assert [a.json()["results"][0]["status"] for a in answers] == ["ok"]
    assert verification(http, url, "ABC", [ask]).json()["results"][0]["status"] == "ok"

    r = http.put(f"{url}/banks/ABC/admin/latency", json={"seconds": -1})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "秒数（seconds）不能小于0"


def test_latency_comes_from_a_comma_separated_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKSIM_LATENCY", "icbc=2.5, CCB=0")
    assert Settings().latency == {"ICBC": 2.5, "CCB": 0.0}
    monkeypatch.setenv("BANKSIM_LATENCY", "ICBC")
    with pytest.raises(ValueError, match="BANK=seconds"):
        Settings()
    monkeypatch.delenv("BANKSIM_LATENCY")
    assert Settings().latency == {}
