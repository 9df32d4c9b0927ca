"""A bank receives a batch of credits, books what it can, texts the holders and calls back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from ykt_banksim.callbacks import verify
from ykt_banksim.config import DEV_CALLBACK_SECRET
from ykt_banksim.domain import china_now
from ykt_banksim.testing import CallbackReceiver


def new_account() -> str:
    return "6217" + str(uuid.uuid4().int)[:15]


def instruction(account: str, name: str, amount_fen: int, memo: str | None = None) -> dict[str, Any]:
    return {
        "end_to_end_id": str(uuid.uuid4()),
        "payee_name": name,
        "payee_account": account,
        "payee_id_number": "500104199001011234",
        "amount_fen": amount_fen,
        **({"memo": memo} if memo is not None else {}),
    }


def test_settled_credit_is_booked_texted_and_called_back_signed(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    account = new_account()
    r = http.post(
        f"{banksim_url}/banks/CQRCB/admin/accounts",
        json=[
            {
                "account_no": account,
                "holder_name": "张三",
                "holder_id_number": "500104199001011234",
                "state": "normal",
            }
        ],
    )
    assert r.status_code == 200
    assert r.json() == {"upserted": 1}

    path = f"/callbacks/{uuid.uuid4()}"
    ins = instruction(account, "张三", 12345, memo="2024年11月耕地地力保护补贴")
    r = http.post(
        f"{banksim_url}/banks/CQRCB/api/v1/credit-transfers",
        json={"batch_ref": "B-typical-1", "callback_url": receiver.url(path), "instructions": [ins]},
    )
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "duplicates": 0}

    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1, what="the result callback")
    [callback] = receiver.to(path)
    assert callback.headers["x-bank-code"] == "CQRCB"
    assert callback.headers["content-type"].startswith("application/json")
    assert verify(DEV_CALLBACK_SECRET, callback.body, callback.headers["x-signature"])
    assert not verify("another-secret", callback.body, callback.headers["x-signature"])

    body = callback.json()
    assert body["bank_code"] == "CQRCB"
    assert body["batch_ref"] == "B-typical-1"
    [result] = body["results"]
    today = china_now().date()
    assert result["end_to_end_id"] == ins["end_to_end_id"]
    assert result["status"] == "settled"
    assert result["reason_code"] is None
    assert result["reason"] is None
    assert result["amount_fen"] == 12345
    assert result["settled_on"] == today.isoformat()
    assert result["bank_txn_id"].startswith("CQRCB")

    status = http.get(f"{banksim_url}/banks/CQRCB/api/v1/credit-transfers/{ins['end_to_end_id']}")
    assert status.status_code == 200
    assert status.json() == result

    credits = http.get(f"{banksim_url}/banks/CQRCB/admin/credits").json()
    mine = [c for c in credits["credits"] if c["end_to_end_id"] == ins["end_to_end_id"]]
    assert mine == [
        {
            "end_to_end_id": ins["end_to_end_id"],
            "account_no": account,
            "amount_fen": 12345,
            "bank_txn_id": result["bank_txn_id"],
            "settled_on": today.isoformat(),
        }
    ]
    assert credits["count"] == len(credits["credits"])
    assert credits["amount_fen"] == sum(c["amount_fen"] for c in credits["credits"])

    messages = http.get(f"{banksim_url}/banks/CQRCB/admin/sms").json()["messages"]
    [sms] = [m for m in messages if m["end_to_end_id"] == ins["end_to_end_id"]]
    assert sms["account_tail"] == account[-4:]
    assert sms["text"] == (
        f"【重庆农村商业银行】您尾号{account[-4:]}的账户于{today.month}月{today.day}日"
        "收到惠民惠农补贴资金123.45元（2024年11月耕地地力保护补贴）。"
    )
    assert "张三" not in sms["text"]
    assert account not in sms["text"]


def test_every_failure_reason_is_reported_and_nothing_is_booked(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    states = ["closed", "frozen", "inbound_only", "non_settlement", "medium_abnormal"]
    accounts = {state: new_account() for state in [*states, "normal"]}
    entries = [
        {"account_no": no, "holder_name": "李四", "holder_id_number": "500104198805052345", "state": state}
        for state, no in accounts.items()
    ]
    assert http.post(f"{banksim_url}/banks/ICBC/admin/accounts", json=entries).json() == {"upserted": 6}

    by_case = {state: instruction(accounts[state], "李四", 100) for state in states}
    by_case["missing"] = instruction(new_account(), "李四", 200)
    by_case["name"] = instruction(accounts["normal"], "李五", 300)
    path = f"/callbacks/{uuid.uuid4()}"
    r = http.post(
        f"{banksim_url}/banks/ICBC/api/v1/credit-transfers",
        json={
            "batch_ref": "B-failures",
            "callback_url": receiver.url(path),
            "instructions": list(by_case.values()),
        },
    )
    assert r.json() == {"accepted": 7, "duplicates": 0}

    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1, what="the result callback")
    results = {res["end_to_end_id"]: res for res in receiver.accepted(path)[0].json()["results"]}
    expected = {
        "closed": ("ACCOUNT_CLOSED", "已销户"),
        "frozen": ("ACCOUNT_FROZEN", "完全冻结"),
        "inbound_only": ("ONLY_IN_NO_OUT", "只进不出"),
        "non_settlement": ("NOT_SETTLEMENT_ACCOUNT", "非结算户"),
        "medium_abnormal": ("MEDIUM_ABNORMAL", "介质状态异常"),
        "missing": ("ACCOUNT_NOT_FOUND", "卡号不存在"),
        "name": ("NAME_MISMATCH", "户名不符"),
    }
    for case, (code, reason) in expected.items():
        ins = by_case[case]
        res = results[ins["end_to_end_id"]]
        assert res == {
            "end_to_end_id": ins["end_to_end_id"],
            "status": "failed",
            "reason_code": code,
            "reason": reason,
            "bank_txn_id": None,
            "settled_on": None,
            "amount_fen": ins["amount_fen"],
        }, case
        status = http.get(f"{banksim_url}/banks/ICBC/api/v1/credit-transfers/{ins['end_to_end_id']}").json()
        assert status == res

    ids = {ins["end_to_end_id"] for ins in by_case.values()}
    credits = http.get(f"{banksim_url}/banks/ICBC/admin/credits").json()["credits"]
    assert not [c for c in credits if c["end_to_end_id"] in ids]
    messages = http.get(f"{banksim_url}/banks/ICBC/admin/sms").json()["messages"]
    assert not [m for m in messages if m["end_to_end_id"] in ids]


def test_stats_count_per_bank(http: httpx.Client, start_banksim: Any, receiver: CallbackReceiver) -> None:
    url = start_banksim(banks="CCB,BOC")
    account = new_account()
    http.post(f"{url}/banks/CCB/admin/accounts", json=[{"account_no": account, "holder_name": "王五"}])
    path = f"/callbacks/{uuid.uuid4()}"
    instructions = [instruction(account, "王五", 5000), instruction(account, "王六", 700)]
    http.post(
        f"{url}/banks/CCB/api/v1/credit-transfers",
        json={"batch_ref": "B-stats", "callback_url": receiver.url(path), "instructions": instructions},
    )
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1, what="the result callback")

    stats = http.get(f"{url}/admin/stats").json()
    assert set(stats) == {"CCB", "BOC"}
    assert {k: stats["CCB"][k] for k in ("settled", "failed", "amount_fen", "sms")} == {
        "settled": 1,
        "failed": 1,
        "amount_fen": 5000,
        "sms": 1,
    }
    assert {k: stats["BOC"][k] for k in ("settled", "failed", "amount_fen", "sms")} == {
        "settled": 0,
        "failed": 0,
        "amount_fen": 0,
        "sms": 0,
    }
    sms = http.get(f"{url}/banks/CCB/admin/sms").json()["messages"]
    assert sms[0]["text"].startswith("【中国建设银行】")
    assert sms[0]["text"].endswith("收到惠民惠农补贴资金50.00元。")
    assert http.get(f"{url}/health/live").json() == {"status": "ok"}
