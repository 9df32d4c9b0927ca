"""The personal query: a person's own payments by name and ID number, the same answer for an
unknown person as for a known one without payments, and a rate limit that holds under a burst."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date

from ykt_contracts.reference import TOWNS
from ykt_kit.idcard import make
from ykt_kit.synthetic import population

from .conftest import CLIENT_HEADER, failed, make_batch

QUERY = "/api/public/v1/personal-query"
T, V = TOWNS[3].code, "民主村"


def fresh_area() -> str:
    """An area code of no other test, so generated ID numbers cannot collide across tests."""
    return str(random.randrange(110000, 659999))  # noqa: S311


def unknown_id() -> str:
    return make(fresh_area(), date(1950, 1, 1) + (date(1990, 1, 1) - date(1950, 1, 1)) * random.random(), 7)


async def ask(disclosure, name: str, id_number: str, *, client: str | None = None):
    return await disclosure.client.post(
        QUERY,
        json={"name": name, "id_number": id_number},
        headers={CLIENT_HEADER: client or uuid.uuid4().hex},
    )


async def test_own_payments_with_failed_and_reissued_and_no_way_to_tell_unknown_from_unpaid(
    disclosure,
) -> None:
    paid, reissued, failed_only, other = population(
        4, seed=random.randrange(1 << 30), area=fresh_area(), towns=[(T, V)], bank_codes=["B001"]
    )
    first = make_batch(1, people=[paid, other][:1])
    failures = failed(first.batch_id, [reissued, failed_only], amount_fen=30_000)
    await disclosure.handled(failures, batch_id=first.batch_id)
    await disclosure.publish_batch(first)
    reissue = make_batch(1, people=[reissued])
    await disclosure.publish_batch(reissue)

    # a person paid once
    r = await ask(disclosure, paid.name, paid.id_number)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["total"] == 1
    [item] = body["items"]
    assert item == {
        "program_code": "HM10",
        "program_name": "困难群众救助补助——城乡居民最低生活保障金",
        "period": "2025-03",
        "period_label": "2025年3月",
        "amount_fen": 50_000,
        "amount_yuan": "500.00",
        "date": "2025-03-20",
        "status": "settled",
        "status_label": "已发放到账",
        "reason": None,
    }
    assert paid.id_number not in r.text and paid.name not in r.text  # nothing echoed
    # names are compared without spaces, and the ID's x in either case
    spaced = " ".join(paid.name)
    assert (await ask(disclosure, spaced, paid.id_number.lower())).json() == body

    # failed at the bank, then re-issued and paid: both lines, each with its status
    r = await ask(disclosure, reissued.name, reissued.id_number)
    statuses = {i["status"]: i for i in r.json()["items"]}
    assert set(statuses) == {"reissued_settled", "failed_reissued"}
    assert statuses["failed_reissued"]["reason"] == "户名不符"
    assert statuses["failed_reissued"]["status_label"] == "发放失败，已重新发放"
    assert statuses["reissued_settled"]["status_label"] == "重新发放，已到账"

    # known to the service but never paid, paid but asked with another name, never heard of:
    # the same status, the same headers, the same bytes
    answers = [
        await ask(disclosure, failed_only.name, failed_only.id_number),
        await ask(disclosure, other.name if other.name != paid.name else paid.name + "甲", paid.id_number),
        await ask(disclosure, "赵钱孙", unknown_id()),
        await ask(disclosure, failed_only.name, unknown_id()),
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["items"] == [] and answers[0].json()["total"] == 0
    assert (
        len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "content-length")) for a in answers})
        == 1
    )

    # the web form gives one page for all of them too, never echoing what was typed
    pages = []
    for name, id_number in ((failed_only.name, failed_only.id_number), ("赵钱孙", unknown_id())):
        page = await disclosure.client.post(
            "/public/query",
            content=f"name={name}&id_number={id_number}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded", CLIENT_HEADER: uuid.uuid4().hex},
        )
        assert page.status_code == 200
        assert id_number not in page.text
        pages.append(page.text)
    assert pages[0] == pages[1]
    assert "没有查到发放记录" in pages[0]
    found = await disclosure.client.post(
        "/public/query",
        content=f"name={reissued.name}&id_number={reissued.id_number}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", CLIENT_HEADER: uuid.uuid4().hex},
    )
    assert "发放失败，已重新发放（户名不符）" in found.text
    assert "重新发放，已到账" in found.text
    assert found.headers["cache-control"] == "no-store"


async def test_malformed_input_is_refused_for_what_it_is_not_for_whom(disclosure) -> None:
    r = await ask(disclosure, "张三", "500104199001011235")  # wrong check digit
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "QUERY_INVALID"
    r = await ask(disclosure, "", unknown_id())
    assert r.status_code == 422


async def test_rate_limit_holds_under_a_burst(disclosure) -> None:
    limit = disclosure.app.state.settings.query_limit
    client = uuid.uuid4().hex
    burst = await asyncio.gather(
        *(ask(disclosure, "李四", unknown_id(), client=client) for _ in range(4 * limit))
    )
    codes = [r.status_code for r in burst]
    assert codes.count(200) == limit
    assert codes.count(429) == 3 * limit
    for r in burst:
        if r.status_code == 429:
            assert r.json()["error"]["code"] == "RATE_LIMITED"
            assert r.json()["error"]["message"] == "查询过于频繁，请稍后再试"
            assert 1 <= int(r.headers["retry-after"]) <= disclosure.app.state.settings.query_window_seconds
    # junk counts too, and the web form shares the limit
    assert (await ask(disclosure, "", "x", client=client)).status_code == 429
    page = await disclosure.client.post(
        "/public/query",
        content="name=李四&id_number=1".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", CLIENT_HEADER: client},
    )
    assert page.status_code == 429
    assert "查询过于频繁" in page.text
    # another client is not affected
    assert (await ask(disclosure, "李四", unknown_id())).status_code == 200

    # one ID number asked about from many clients: limited per ID number as well
    target = unknown_id()
    per_id = disclosure.app.state.settings.query_limit_per_id
    answers = [await ask(disclosure, "王五", target) for _ in range(per_id + 3)]
    assert [a.status_code for a in answers] == [200] * per_id + [429] * 3
