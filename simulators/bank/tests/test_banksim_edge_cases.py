"""Duplicates, repeated and retried callbacks, unknown banks, bad requests, configuration."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ykt_banksim.callbacks import CallbackSender, sign, verify
from ykt_banksim.config import Settings
from ykt_banksim.testing import CallbackReceiver

TEST_KEY = "test-signing-key"
DISTRICT_KEY = "district-signing-key-42"


def new_account() -> str:
    return "6228" + str(uuid.uuid4().int)[:15]


def instruction(account: str, name: str, amount_fen: int) -> dict[str, Any]:
    return {
        "end_to_end_id": str(uuid.uuid4()),
        "payee_name": name,
        "payee_account": account,
        "payee_id_number": "500104197512123456",
        "amount_fen": amount_fen,
    }


def open_account(http: httpx.Client, url: str, bank: str, name: str, state: str = "normal") -> str:
    account = new_account()
    r = http.post(
        f"{url}/banks/{bank}/admin/accounts",
        json=[{"account_no": account, "holder_name": name, "state": state}],
    )
    assert r.status_code == 200
    return account


def transfer(
    http: httpx.Client, url: str, bank: str, callback_url: str, *instructions: dict[str, Any]
) -> httpx.Response:
    return http.post(
        f"{url}/banks/{bank}/api/v1/credit-transfers",
        json={
            "batch_ref": f"B-{uuid.uuid4().hex[:8]}",
            "callback_url": callback_url,
            "instructions": list(instructions),
        },
    )


def test_a_repeated_end_to_end_id_is_not_paid_twice(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    account = open_account(http, banksim_url, "ABC", "赵六")
    first = instruction(account, "赵六", 1000)
    path = f"/callbacks/{uuid.uuid4()}"

    # The same id twice in one request: the second is a duplicate.
    r = transfer(http, banksim_url, "ABC", receiver.url(path), first, first)
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "duplicates": 1}
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1, what="the first callback")

    # Sent again (a retry after a timeout) with one new instruction: only the new one is processed.
    second = instruction(account, "赵六", 2000)
    path2 = f"/callbacks/{uuid.uuid4()}"
    r = transfer(http, banksim_url, "ABC", receiver.url(path2), first, second)
    assert r.json() == {"accepted": 1, "duplicates": 1}
    receiver.wait_for(lambda rc: len(rc.accepted(path2)) == 1, what="the second callback")
    assert [res["end_to_end_id"] for res in receiver.accepted(path2)[0].json()["results"]] == [
        second["end_to_end_id"]
    ]

    # Entirely repeated: nothing is accepted, so nothing is booked or called back.
    r = transfer(http, banksim_url, "ABC", receiver.url(path2), first, second)
    assert r.json() == {"accepted": 0, "duplicates": 2}

    credits = http.get(f"{banksim_url}/banks/ABC/admin/credits").json()["credits"]
    mine = [c for c in credits if c["account_no"] == account]
    assert sorted(c["amount_fen"] for c in mine) == [1000, 2000]
    assert len(receiver.to(path)) == 1


def test_duplicate_callbacks_send_every_callback_twice(
    http: httpx.Client, start_banksim: Any, receiver: CallbackReceiver
) -> None:
    url = start_banksim(duplicate_callbacks=True)
    account = open_account(http, url, "BOC", "孙七")
    path = f"/callbacks/{uuid.uuid4()}"
    ins = instruction(account, "孙七", 880)
    assert transfer(http, url, "BOC", receiver.url(path), ins).json() == {"accepted": 1, "duplicates": 0}

    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 2, what="the callback and its copy")
    first, again = receiver.to(path)
    assert first.body == again.body
    assert first.headers["x-signature"] == again.headers["x-signature"]
    assert first.json()["results"][0]["status"] == "settled"
    # Booked once, whatever the number of callbacks.
    credits = http.get(f"{url}/banks/BOC/admin/credits").json()
    assert credits["count"] == 1
    assert credits["amount_fen"] == 880


def test_a_refused_callback_is_retried_until_accepted(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    account = open_account(http, banksim_url, "CQRCB", "周八")
    path = f"/callbacks/{uuid.uuid4()}"
    receiver.fail_next(path, 2)
    transfer(http, banksim_url, "CQRCB", receiver.url(path), instruction(account, "周八", 4200))

    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1, what="the callback to be accepted")
    attempts = receiver.to(path)
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.body for a in attempts}) == 1


async def test_delivery_gives_up_after_the_configured_attempts_with_capped_backoff() -> None:
    calls: list[httpx.Request] = []
    delays: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    body = b'{"bank_code":"ICBC","batch_ref":"B","results":[]}'
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        sender = CallbackSender(
            client, secret=TEST_KEY, attempts=7, backoff_initial=0.25, backoff_max=2.0, sleep=no_wait
        )
        delivered = await sender.deliver("http://gw/cb", bank_code="ICBC", batch_ref="B", body=body)

    assert delivered is False
    assert len(calls) == 7
    assert delays == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert calls[0].headers["x-signature"] == sign(TEST_KEY, body)
    assert calls[0].headers["x-bank-code"] == "ICBC"


async def test_delivery_survives_connection_errors() -> None:
    answers: Iterator[httpx.Response | Exception] = iter([httpx.ConnectError("refused"), httpx.Response(204)])

    def flaky(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def no_wait(_: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(flaky)) as client:
        sender = CallbackSender(
            client, secret=TEST_KEY, attempts=3, backoff_initial=0.1, backoff_max=2, sleep=no_wait
        )
        assert await sender.deliver("http://gw/cb", bank_code="ICBC", batch_ref="B", body=b"{}") is True


def test_callbacks_are_signed_with_the_configured_secret(
    http: httpx.Client, start_banksim: Any, receiver: CallbackReceiver
) -> None:
    url = start_banksim(callback_secret=DISTRICT_KEY)
    account = open_account(http, url, "ICBC", "吴九")
    path = f"/callbacks/{uuid.uuid4()}"
    transfer(http, url, "ICBC", receiver.url(path), instruction(account, "吴九", 1))
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1)
    [cb] = receiver.to(path)
    assert verify(DISTRICT_KEY, cb.body, cb.headers["x-signature"])
    assert not verify("dev-bank-callback-secret", cb.body, cb.headers["x-signature"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/banks/HSBC/api/v1/credit-transfers"),
        ("GET", "/banks/HSBC/api/v1/credit-transfers/some-id"),
        ("POST", "/banks/HSBC/admin/accounts"),
        ("GET", "/banks/HSBC/admin/credits"),
        ("GET", "/banks/HSBC/admin/sms"),
    ],
)
def test_an_unknown_bank_is_404(http: httpx.Client, banksim_url: str, method: str, path: str) -> None:
    r = http.request(method, banksim_url + path, json=[])
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "BANK_NOT_FOUND"
    assert "HSBC" in r.json()["error"]["message"]


def test_an_unknown_end_to_end_id_is_404(http: httpx.Client, banksim_url: str) -> None:
    r = http.get(f"{banksim_url}/banks/CCB/api/v1/credit-transfers/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "TRANSFER_NOT_FOUND", "message": "未查询到该笔交易"}


def test_an_invalid_request_is_refused_whole_with_a_chinese_message(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    good = instruction(new_account(), "郑十", 100)
    bad = {**instruction(new_account(), "郑十", 100), "amount_fen": 0}
    r = transfer(http, banksim_url, "CQRCB", receiver.url("/never"), good, bad)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == "第2条指令的金额（分）（amount_fen）必须大于0"
    assert error["field"] == "instructions.1.amount_fen"
    # Nothing of a refused request is registered.
    assert (
        http.get(f"{banksim_url}/banks/CQRCB/api/v1/credit-transfers/{good['end_to_end_id']}").status_code
        == 404
    )

    r = http.post(
        f"{banksim_url}/banks/CQRCB/api/v1/credit-transfers",
        json={"batch_ref": "B", "callback_url": "ftp://x", "instructions": []},
    )
    assert r.status_code == 422
    assert "回调地址（callback_url）必须以http://或https://开头" in r.json()["error"]["message"]
    assert "指令列表（instructions）不能为空" in r.json()["error"]["message"]

    r = http.post(
        f"{banksim_url}/banks/CQRCB/admin/accounts", json=[{"account_no": "1234567", "holder_name": " "}]
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "第1条账户记录的户名（holder_name）不能为空"


def test_upsert_replaces_an_entry_and_names_are_compared_trimmed(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    account = open_account(http, banksim_url, "CCB", "钱一")
    http.post(
        f"{banksim_url}/banks/CCB/admin/accounts",
        json=[{"account_no": account, "holder_name": "钱一", "state": "frozen"}],
    )
    frozen = instruction(account, "钱一", 10)
    path = f"/callbacks/{uuid.uuid4()}"
    transfer(http, banksim_url, "CCB", receiver.url(path), frozen)
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1)
    assert receiver.to(path)[0].json()["results"][0]["reason_code"] == "ACCOUNT_FROZEN"

    http.post(
        f"{banksim_url}/banks/CCB/admin/accounts", json=[{"account_no": account, "holder_name": " 钱一 "}]
    )
    thawed = instruction(account, "钱一  ", 10)
    path = f"/callbacks/{uuid.uuid4()}"
    transfer(http, banksim_url, "CCB", receiver.url(path), thawed)
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1)
    assert receiver.to(path)[0].json()["results"][0]["status"] == "settled"


def test_accounts_file_is_loaded_at_start_up(
    http: httpx.Client, start_banksim: Any, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        json.dumps(
            [
                {
                    "bank_code": "CQRCB",
                    "account_no": "6230000000000001",
                    "holder_name": "陈一",
                    "holder_id_number": "x",
                },
                {
                    "bank_code": "ICBC",
                    "account_no": "6230000000000002",
                    "holder_name": "陈二",
                    "state": "closed",
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    url = start_banksim(accounts_file=accounts)
    path = f"/callbacks/{uuid.uuid4()}"
    transfer(http, url, "CQRCB", receiver.url(path), instruction("6230000000000001", "陈一", 99))
    path2 = f"/callbacks/{uuid.uuid4()}"
    transfer(http, url, "ICBC", receiver.url(path2), instruction("6230000000000002", "陈二", 99))
    receiver.wait_for(lambda rc: len(rc.accepted(path)) == 1 and len(rc.accepted(path2)) == 1)
    assert receiver.to(path)[0].json()["results"][0]["status"] == "settled"
    assert receiver.to(path2)[0].json()["results"][0]["reason_code"] == "ACCOUNT_CLOSED"


def test_bank_list_comes_from_a_comma_separated_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKSIM_BANKS", "cqrcb, ICBC,,CQRCB")
    monkeypatch.setenv("BANKSIM_DUPLICATE_CALLBACKS", "true")
    monkeypatch.setenv("BANKSIM_PORT", "9201")
    settings = Settings()
    assert settings.banks == ("CQRCB", "ICBC")
    assert settings.duplicate_callbacks is True
    assert settings.port == 9201
    assert settings.callback_attempts == 30
