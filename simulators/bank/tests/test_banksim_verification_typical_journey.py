"""A bank verifies a set of accounts against its book: each item `ok`, or failed with the reason a
credit to it would fail for (or ID_MISMATCH); the request and the answer are signed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from ykt_banksim.callbacks import verify
from ykt_banksim.config import DEV_CALLBACK_SECRET
from ykt_banksim.testing import signed_json


def new_account() -> str:
    return "6215" + str(uuid.uuid4().int)[:15]


def verification(
    http: httpx.Client, url: str, bank: str, items: list[dict[str, Any]], *, secret: str = DEV_CALLBACK_SECRET
) -> httpx.Response:
    body, headers = signed_json({"request_ref": f"V-{uuid.uuid4().hex[:8]}", "items": items}, secret)
    return http.post(f"{url}/banks/{bank}/api/v1/account-verifications", content=body, headers=headers)


def item(account: str, name: str, id_number: str) -> dict[str, Any]:
    return {
        "item_id": str(uuid.uuid4()),
        "account_no": account,
        "holder_name": name,
        "holder_id_number": id_number,
    }


def test_every_answer_of_a_verification_comes_from_the_account_book(
    http: httpx.Client, banksim_url: str
) -> None:
    id_number = "50010419880505234X"
    states = ["closed", "frozen", "inbound_only", "non_settlement", "medium_abnormal", "normal"]
    accounts = {state: new_account() for state in states}
    book = [
        {"account_no": no, "holder_name": "李四", "holder_id_number": id_number, "state": state}
        for state, no in accounts.items()
    ]
    assert http.post(f"{banksim_url}/banks/ICBC/admin/accounts", json=book).json() == {"upserted": 6}
    before = http.get(f"{banksim_url}/admin/stats").json()["ICBC"]

    cases = {state: item(accounts[state], "李四", id_number) for state in states if state != "normal"}
    cases["ok"] = item(accounts["normal"], " 李四 ", id_number.lower())  # trimmed; x and X are the same
    cases["missing"] = item(new_account(), "李四", id_number)
    cases["name"] = item(accounts["normal"], "李五", id_number)
    cases["id"] = item(accounts["normal"], "李四", "500104198805052361")
    r = verification(http, banksim_url, "ICBC", list(cases.values()))

    assert r.status_code == 200
    assert r.headers["x-bank-code"] == "ICBC"
    assert verify(DEV_CALLBACK_SECRET, r.content, r.headers["x-signature"])
    body = r.json()
    assert body["bank_code"] == "ICBC"
    assert body["request_ref"].startswith("V-")
    # answered in the order asked
    assert [res["item_id"] for res in body["results"]] == [i["item_id"] for i in cases.values()]
    results = {res["item_id"]: res for res in body["results"]}
    expected = {
        "closed": ("ACCOUNT_CLOSED", "已销户"),
        "frozen": ("ACCOUNT_FROZEN", "完全冻结"),
        "inbound_only": ("ONLY_IN_NO_OUT", "只进不出"),
        "non_settlement": ("NOT_SETTLEMENT_ACCOUNT", "非结算户"),
        "medium_abnormal": ("MEDIUM_ABNORMAL", "介质状态异常"),
        "missing": ("ACCOUNT_NOT_FOUND", "卡号不存在"),
        "name": ("NAME_MISMATCH", "户名不符"),
        "id": ("ID_MISMATCH", "证件号码不符"),
    }
    for case, (code, reason) in expected.items():
        assert results[cases[case]["item_id"]] == {
            "item_id": cases[case]["item_id"],
            "status": "failed",
            "reason_code": code,
            "reason": reason,
        }, case
    assert results[cases["ok"]["item_id"]] == {
        "item_id": cases["ok"]["item_id"],
        "status": "ok",
        "reason_code": None,
        "reason": None,
    }

    # counted, and nothing booked or texted
    after = http.get(f"{banksim_url}/admin/stats").json()["ICBC"]
    assert after["verification_requests"] == before["verification_requests"] + 1
    assert after["verification_items"] == before["verification_items"] + len(cases)
    assert {k: after[k] for k in ("settled", "failed", "sms")} == {
        k: before[k] for k in ("settled", "failed", "sms")
    }


def test_the_id_number_is_not_compared_when_the_book_holds_none(http: httpx.Client, banksim_url: str) -> None:
    account = new_account()
    http.post(
        f"{banksim_url}/banks/CCB/admin/accounts", json=[{"account_no": account, "holder_name": "王五"}]
    )
    [result] = verification(http, banksim_url, "CCB", [item(account, "王五", "500104199001011234")]).json()[
        "results"
    ]
    assert (result["status"], result["reason_code"]) == ("ok", None)
