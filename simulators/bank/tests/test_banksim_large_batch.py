"""A district-sized request: 20,000 credits answered in callbacks of at most 1,000 results."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
from ykt_banksim.callbacks import verify
from ykt_banksim.config import DEV_CALLBACK_SECRET
from ykt_banksim.testing import CallbackReceiver

N = 20_000


def test_twenty_thousand_instructions_are_processed_and_called_back(
    http: httpx.Client, banksim_url: str, receiver: CallbackReceiver
) -> None:
    prefix = str(uuid.uuid4().int)[:8]
    accounts = [f"6217{prefix}{i:07d}" for i in range(N)]
    states = ["normal"] * 9 + ["frozen"]  # every tenth account is frozen
    entries = [
        {"account_no": no, "holder_name": f"户主{i}", "holder_id_number": "", "state": states[i % 10]}
        for i, no in enumerate(accounts)
    ]
    assert http.post(f"{banksim_url}/banks/CQRCB/admin/accounts", json=entries).json() == {"upserted": N}

    instructions: list[dict[str, Any]] = [
        {
            "end_to_end_id": str(uuid.uuid4()),
            "payee_name": f"户主{i}",
            "payee_account": no,
            "payee_id_number": "",
            "amount_fen": 100 + i,
            "memo": "2024年11月城乡居民最低生活保障金",
        }
        for i, no in enumerate(accounts)
    ]
    path = f"/callbacks/{uuid.uuid4()}"
    r = http.post(
        f"{banksim_url}/banks/CQRCB/api/v1/credit-transfers",
        json={"batch_ref": "B-large", "callback_url": receiver.url(path), "instructions": instructions},
    )
    assert r.status_code == 202
    assert r.json() == {"accepted": N, "duplicates": 0}

    def all_results(rc: CallbackReceiver) -> bool:
        return sum(len(cb.json()["results"]) for cb in rc.accepted(path)) >= N

    receiver.wait_for(all_results, timeout=120, what=f"{N} results")
    callbacks = receiver.accepted(path)
    assert len(callbacks) == N // 1000
    assert all(len(cb.json()["results"]) <= 1000 for cb in callbacks)
    assert all(verify(DEV_CALLBACK_SECRET, cb.body, cb.headers["x-signature"]) for cb in callbacks)

    results = [res for cb in callbacks for res in cb.json()["results"]]
    assert sorted(res["end_to_end_id"] for res in results) == sorted(i["end_to_end_id"] for i in instructions)
    assert Counter(res["status"] for res in results) == {"settled": N * 9 // 10, "failed": N // 10}
    assert {res["reason_code"] for res in results if res["status"] == "failed"} == {"ACCOUNT_FROZEN"}

    ids = {i["end_to_end_id"] for i in instructions}
    credits = [
        c
        for c in http.get(f"{banksim_url}/banks/CQRCB/admin/credits").json()["credits"]
        if c["end_to_end_id"] in ids
    ]
    assert len(credits) == N * 9 // 10
    assert sum(c["amount_fen"] for c in credits) == sum(
        i["amount_fen"] for n, i in enumerate(instructions) if states[n % 10] == "normal"
    )
    assert len({c["bank_txn_id"] for c in credits}) == len(credits)
