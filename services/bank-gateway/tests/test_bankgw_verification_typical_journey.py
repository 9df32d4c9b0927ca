"""The validation service asks bank-gateway to verify accounts of two banks in one request: each
bank answers from its account book (every reason a credit fails for, and the ID number), the
answers are cached under keyed digests, and asked again they come from the cache."""

from __future__ import annotations

from typing import Any

import httpx
from ykt_bank_gateway.testing import Payee, account_book, payees


def ask(p: Payee, bank: str, **change: str) -> dict[str, Any]:
    """A verification item for a payee (its record id as the caller's id), optionally altered."""
    return {
        "id": p.end_to_end_id,
        "bank_code": bank,
        "account_no": p.person.account_no,
        "holder_name": p.person.name,
        "id_number": p.person.id_number,
    } | change


def other_id_number(id_number: str) -> str:
    """A different (well-formed) ID number: the last digit of the sequence changed."""
    return id_number[:16] + ("1" if id_number[16] != "1" else "3") + id_number[17:]


async def bank_stats(bank_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(trust_env=False) as http:
        return (await http.get(f"{bank_url}/admin/stats")).json()  # type: ignore[no-any-return]


async def test_bankgw_verification_answers_each_reason_across_two_banks_and_caches_them(
    start_banksim, start_gateway
) -> None:
    cq = payees(10, bank_code="CQRCB")
    ic = payees(3, bank_code="ICBC")
    states = ["closed", "frozen", "inbound_only", "non_settlement", "medium_abnormal"]
    overrides: dict[str, dict[str, Any]] = {
        p.end_to_end_id: {"state": s} for p, s in zip(cq, states, strict=False)
    }
    overrides[cq[5].end_to_end_id] = {"holder_name": "另有其人"}
    overrides[cq[6].end_to_end_id] = {}  # not in the book
    book = account_book(cq, bank_code="CQRCB", overrides=overrides) + account_book(ic, bank_code="ICBC")
    bank_url = await start_banksim(banks=["CQRCB", "ICBC"], accounts=book)
    gw = await start_gateway(bank_url=bank_url, banks=["CQRCB", "ICBC"])

    items = [ask(p, "CQRCB") for p in cq[:7]]
    items.append(ask(cq[7], "CQRCB", id_number=other_id_number(cq[7].person.id_number)))
    items += [ask(cq[8], "CQRCB"), ask(cq[9], "cqrcb")]  # the bank code is case-insensitive
    items += [ask(p, "ICBC") for p in ic]
    answer = await gw.verify(items)

    expected = {
        cq[0].end_to_end_id: ("rejected", "ACCOUNT_CLOSED", "已销户"),
        cq[1].end_to_end_id: ("rejected", "ACCOUNT_FROZEN", "完全冻结"),
        cq[2].end_to_end_id: ("rejected", "ONLY_IN_NO_OUT", "只进不出"),
        cq[3].end_to_end_id: ("rejected", "NOT_SETTLEMENT_ACCOUNT", "非结算户"),
        cq[4].end_to_end_id: ("rejected", "MEDIUM_ABNORMAL", "介质状态异常"),
        cq[5].end_to_end_id: ("rejected", "NAME_MISMATCH", "户名不符"),
        cq[6].end_to_end_id: ("rejected", "ACCOUNT_NOT_FOUND", "卡号不存在"),
        cq[7].end_to_end_id: ("rejected", "ID_MISMATCH", "证件号码不符"),
        cq[8].end_to_end_id: ("verified", None, None),
        cq[9].end_to_end_id: ("verified", None, None),
    } | {p.end_to_end_id: ("verified", None, None) for p in ic}
    # one answer per item, in the order asked
    assert [r["id"] for r in answer["results"]] == [i["id"] for i in items]
    for r in answer["results"]:
        assert (r["status"], r["reason_code"], r["reason"]) == expected[r["id"]], r["id"]
        assert r["cached"] is False
        assert r["checked_at"] is not None
        assert r["retry_after_seconds"] is None
    assert {r["bank_code"] for r in answer["results"]} == {"CQRCB", "ICBC"}
    assert answer["summary"] == {"verified": 5, "rejected": 8, "pending": 0, "unsupported": 0}
    stats = await bank_stats(bank_url)
    assert (stats["CQRCB"]["verification_requests"], stats["CQRCB"]["verification_items"]) == (1, 10)
    assert (stats["ICBC"]["verification_requests"], stats["ICBC"]["verification_items"]) == (1, 3)
    assert stats["CQRCB"]["settled"] == stats["CQRCB"]["failed"] == 0  # nothing paid or booked

    # one cache entry per item, keyed by a digest: no account, ID number or name in any key;
    # verified answers are kept a day, rejections an hour (the defaults)
    entries = await gw.redis_entries()
    assert len(entries) == len(items)
    secrets = [v for p in cq + ic for v in (p.person.account_no, p.person.id_number, p.person.name)]
    assert not [k for k in entries for s in secrets if s in k]
    assert all(ttl > 0 for ttl in entries.values())
    assert sum(1 for ttl in entries.values() if 3_600 < ttl <= 86_400) == 5
    assert sum(1 for ttl in entries.values() if 0 < ttl <= 3_600) == 8

    # asked again: every answer from the cache, the banks are not asked
    again = await gw.verify(items)
    assert [(r["id"], r["status"], r["reason_code"]) for r in again["results"]] == [
        (r["id"], r["status"], r["reason_code"]) for r in answer["results"]
    ]
    assert all(r["cached"] for r in again["results"])
    assert [r["checked_at"] for r in again["results"]] == [r["checked_at"] for r in answer["results"]]
    assert await bank_stats(bank_url) == stats

    # a caller that must have the bank's word now (refresh) asks the bank again
    fresh = await gw.verify([ask(cq[8], "CQRCB"), ask(ic[0], "ICBC")], refresh=True)
    assert [(r["status"], r["cached"]) for r in fresh["results"]] == [("verified", False)] * 2
    stats = await bank_stats(bank_url)
    assert stats["CQRCB"]["verification_requests"] == stats["ICBC"]["verification_requests"] == 2

    # the banks' verification support is listed with the banks
    banks = (await gw.client.get("/api/v1/banks", headers=gw.service_headers())).json()["banks"]
    assert {b["bank_code"]: b["verification"] for b in banks} == {"CQRCB": "json-api", "ICBC": "json-api"}
