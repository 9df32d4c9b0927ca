"""Account verification edge cases: a slow or unreachable bank (pending, then verified once it
answers), a bank that refuses our signature, banks nobody can verify with, repeated items, a set
larger than one bank request, Redis down, bad requests; never a person's data in logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from ykt_bank_gateway.adapters.banks import build_verifiers
from ykt_bank_gateway.adapters.banks.json_api import JsonApiAdapter
from ykt_bank_gateway.adapters.cache import VerificationCache
from ykt_bank_gateway.config import Settings
from ykt_bank_gateway.domain.verification import VerificationItem
from ykt_bank_gateway.testing import Payee, account_book, bound_socket, payees, url_of
from ykt_bank_gateway.verification import AccountVerifications
from ykt_kit.actor import Role


def fresh_bank() -> str:
    return "V" + uuid.uuid4().hex[:9].upper()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def item(p: Payee, bank: str, **change: str) -> dict[str, Any]:
    return {
        "id": p.end_to_end_id,
        "bank_code": bank,
        "account_no": p.person.account_no,
        "holder_name": p.person.name,
        "id_number": p.person.id_number,
    } | change


async def stats(bank_url: str, bank: str) -> dict[str, int]:
    async with httpx.AsyncClient(trust_env=False) as http:
        return (await http.get(f"{bank_url}/admin/stats")).json()[bank]  # type: ignore[no-any-return]


def capture_all_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The app's start-up routes every logger to its JSON handler: listen on the root again."""
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)


def assert_no_personal_data(caplog: pytest.LogCaptureFixture, people: Sequence[Payee]) -> None:
    """No log record, in its message or any of its fields, carries an account, ID number or name."""
    assert caplog.records, "nothing was logged"
    secrets = {v for p in people for v in (p.person.account_no, p.person.id_number, p.person.name)}
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(repr(v) for v in vars(record).values())
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{record.name}: {record.getMessage()}"


async def test_bankgw_verification_of_a_slow_bank_is_pending_then_verified(
    start_banksim, start_gateway, caplog
) -> None:
    bank = fresh_bank()
    ps = payees(3, bank_code=bank)
    bank_url = await start_banksim(
        banks=[bank], accounts=account_book(ps, bank_code=bank), latency={bank: 3600}
    )
    gw = await start_gateway(bank_url=bank_url, banks=[bank], verify_timeout_seconds=0.5)
    capture_all_logs(caplog)
    items = [item(p, bank) for p in ps]

    # the bank takes an hour: past the gateway's timeout every item is pending, nothing is cached
    first = await gw.verify(items)
    for r in first["results"]:
        assert (r["status"], r["reason_code"]) == ("pending", "BANK_TIMEOUT")
        assert r["reason"] == "银行未在规定时间内答复，稍后将重新核验"
        assert (r["retry_after_seconds"], r["checked_at"], r["cached"]) == (60, None, False)
    assert first["summary"] == {"verified": 0, "rejected": 0, "pending": 3, "unsupported": 0}
    assert await gw.redis_entries() == {}
    assert metric("ykt_bank_verification_requests_total", bank=bank, outcome="timeout") == 1
    assert metric("ykt_bank_verification_items_total", bank=bank, status="pending", source="none") == 3

    # the bank is quick again: asked again, the items are verified (and cached from now on)
    async with httpx.AsyncClient(trust_env=False) as http:
        r = await http.put(f"{bank_url}/banks/{bank}/admin/latency", json={"seconds": 0})
        assert r.status_code == 200
    second = await gw.verify(items)
    assert [(r["status"], r["cached"]) for r in second["results"]] == [("verified", False)] * 3
    assert len(await gw.redis_entries()) == 3
    assert metric("ykt_bank_verification_requests_total", bank=bank, outcome="ok") == 1
    assert metric("ykt_bank_verification_request_seconds_count", bank=bank) == 2
    assert gw.app.state.verifications.outcomes == {(bank, "timeout"): 1, (bank, "ok"): 1}
    assert_no_personal_data(caplog, ps)


async def test_bankgw_verification_of_an_unreachable_bank_is_pending_until_it_is_up(
    start_banksim, start_gateway
) -> None:
    bank = fresh_bank()
    ps = payees(2, bank_code=bank)
    sock = bound_socket(listen=False)  # the bank's address: refused while nothing listens
    gw = await start_gateway(bank_url=url_of(sock), banks=[bank])
    items = [item(p, bank) for p in ps]

    first = await gw.verify(items)
    assert {(r["status"], r["reason_code"]) for r in first["results"]} == {("pending", "BANK_UNAVAILABLE")}
    assert metric("ykt_bank_verification_requests_total", bank=bank, outcome="error") == 1

    book = account_book(ps, bank_code=bank, overrides={ps[1].end_to_end_id: {"state": "frozen"}})
    await start_banksim(banks=[bank], accounts=book, sock=sock)  # the bank is up
    second = await gw.verify(items)
    assert [(r["status"], r["reason_code"]) for r in second["results"]] == [
        ("verified", None),
        ("rejected", "ACCOUNT_FROZEN"),
    ]


async def test_bankgw_verification_refused_by_the_bank_is_pending(
    start_banksim, start_gateway, caplog
) -> None:
    bank = fresh_bank()
    ps = payees(2, bank_code=bank)
    bank_url = await start_banksim(banks=[bank], accounts=account_book(ps, bank_code=bank))
    # our key is not the one the bank knows: it refuses the request (401), nothing is cached
    gw = await start_gateway(bank_url=bank_url, banks=[bank], callback_secret="not-the-bank-key")  # noqa: S106 - test value
    capture_all_logs(caplog)
    answer = await gw.verify([item(p, bank) for p in ps])
    assert {(r["status"], r["reason_code"]) for r in answer["results"]} == {("pending", "BANK_REFUSED")}
    assert metric("ykt_bank_verification_requests_total", bank=bank, outcome="rejected") == 1
    assert await gw.redis_entries() == {}
    assert (await stats(bank_url, bank))["verification_requests"] == 0
    assert_no_personal_data(caplog, ps)


async def test_bankgw_verification_of_a_bank_not_served_is_unsupported(start_banksim, start_gateway) -> None:
    bank = fresh_bank()
    [p] = payees(1, bank_code=bank)
    [stranger] = payees(1, bank_code="HSBC")
    bank_url = await start_banksim(banks=[bank], accounts=account_book([p], bank_code=bank))
    gw = await start_gateway(bank_url=bank_url, banks=[bank])
    before = metric("ykt_bank_verification_items_total", bank="other", status="unsupported", source="none")

    answer = await gw.verify([item(stranger, "HSBC"), item(p, bank)])
    [unknown, known] = answer["results"]
    assert (unknown["status"], unknown["reason_code"], unknown["reason"]) == (
        "unsupported",
        "BANK_NOT_CONFIGURED",
        "本平台未接入该银行，无法核验账户",
    )
    assert (known["status"], known["bank_code"]) == ("verified", bank)
    assert answer["summary"] == {"verified": 1, "rejected": 0, "pending": 0, "unsupported": 1}
    # the caller's bank codes never become metric labels
    assert (
        metric("ykt_bank_verification_items_total", bank="other", status="unsupported", source="none")
        == before + 1
    )
    assert len(await gw.redis_entries()) == 1


class FileAdapter:
    """A bank protocol without account verification (say a 代发 batch file)."""

    name = "file"

    async def send(self, bank_code: str, batch_ref: str, instructions: Sequence[Any]) -> None:
        raise NotImplementedError

    async def query(self, bank_code: str, end_to_end_id: str) -> None:
        raise NotImplementedError


async def test_bankgw_banks_whose_protocol_cannot_verify_are_unsupported_or_use_the_json_api(
    platform_env, monkeypatch
) -> None:
    monkeypatch.setenv("BANKGW_VERIFY_VIA_JSON_API", "icbc")
    monkeypatch.setenv("BANKGW_REDIS_PREFIX", f"ykt:bankgw-test:{fresh_bank()}:")
    settings = Settings()
    async with httpx.AsyncClient() as client:
        verifiers = build_verifiers(settings, client, {"CQRCB": FileAdapter(), "ICBC": FileAdapter()})
        assert verifiers["CQRCB"] is None
        assert isinstance(verifiers["ICBC"], JsonApiAdapter)

        redis = Redis.from_url(settings.redis_url)
        try:
            use_case = AccountVerifications(
                settings,
                verifiers={"CQRCB": None},
                cache=VerificationCache(redis, settings.redis_prefix),
                cipher=settings.pii_cipher(),
            )
            [p] = payees(1, bank_code="CQRCB")
            one = VerificationItem(
                p.end_to_end_id, "CQRCB", p.person.account_no, p.person.name, p.person.id_number
            )
            [answer] = await use_case.verify([one])
            assert (answer.status, answer.reason_code) == ("unsupported", "VERIFICATION_UNSUPPORTED")
            assert p.person.name not in repr(one)
        finally:
            await redis.aclose()


async def test_bankgw_verification_asks_the_bank_once_per_account_and_splits_large_sets(
    start_banksim, start_gateway
) -> None:
    bank = fresh_bank()
    ps = payees(1_100, bank_code=bank)
    bank_url = await start_banksim(banks=[bank], accounts=account_book(ps, bank_code=bank))
    gw = await start_gateway(bank_url=bank_url, banks=[bank])

    # the same person's account under two record ids is one question to the bank
    twice = item(ps[0], bank, id="record-copy", holder_name=f" {ps[0].person.name} ")
    answer = await gw.verify([item(p, bank) for p in ps] + [twice])
    assert answer["summary"]["verified"] == 1_101
    assert answer["results"][-1]["id"] == "record-copy"
    # 1,100 accounts: two requests of at most 1,000 (BANKGW_VERIFY_BATCH_SIZE)
    s = await stats(bank_url, bank)
    assert (s["verification_requests"], s["verification_items"]) == (2, 1_100)
    assert len(await gw.redis_entries()) == 1_100


async def test_bankgw_verification_without_redis_still_answers(
    start_banksim, start_gateway, monkeypatch
) -> None:
    bank = fresh_bank()
    ps = payees(2, bank_code=bank)
    bank_url = await start_banksim(banks=[bank], accounts=account_book(ps, bank_code=bank))
    nothing = bound_socket(listen=False)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{nothing.getsockname()[1]}/0")
    gw = await start_gateway(bank_url=bank_url, banks=[bank])
    items = [item(p, bank) for p in ps]

    for _ in range(2):  # nothing can be cached: the bank is asked every time
        answer = await gw.verify(items)
        assert [(r["status"], r["cached"]) for r in answer["results"]] == [("verified", False)] * 2
    assert (await stats(bank_url, bank))["verification_requests"] == 2
    nothing.close()


async def test_bankgw_verification_requests_are_checked(start_gateway) -> None:
    gw = await start_gateway(bank_url=url_of(bound_socket(listen=False)), banks=["CQRCB"])
    [p] = payees(1, bank_code="CQRCB")
    good = item(p, "CQRCB")
    url = "/api/v1/account-verifications"

    assert (await gw.client.post(url, json={"items": [good]})).status_code == 401
    as_bank = gw.service_headers(Role.BANK)
    r = await gw.client.post(url, json={"items": [good]}, headers=as_bank)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "ROLE_FORBIDDEN")
    for body in (
        {"items": []},
        {"items": [good, good]},  # ids must be unique
        {"items": [good | {"id_number": "12345"}]},
        {"items": [good | {"account_no": "6217 0000"}]},
        {"items": [{k: v for k, v in good.items() if k != "holder_name"}]},
        {"items": [good | {"phone": "13800000000"}]},
    ):
        r = await gw.client.post(url, json=body, headers=gw.service_headers())
        assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), body
        # the error names the field, never echoes what was sent
        assert r.json()["error"]["details"]["errors"][0]["loc"][0] == "body"
        assert p.person.id_number not in r.text
        assert p.person.account_no not in r.text
        assert p.person.name not in r.text
