"""Edge cases: forged and repeated callbacks, amount mismatches, redelivered and inconsistent
payment.instructed chunks, a bank that is down and comes back, callbacks that never arrive."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from ykt_bank_gateway import service
from ykt_bank_gateway.adapters.db import repository as repo
from ykt_bank_gateway.testing import account_book, bound_socket, instructed_chunks, payees, sign, url_of
from ykt_contracts import ChunkInfo, Totals
from ykt_kit.testing import EventRecorder, publish

SECRET = "bankgw-test-callback-secret"  # noqa: S105 - the tests' callback secret (conftest)


def fresh_bank() -> str:
    return "T" + uuid.uuid4().hex[:9].upper()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def signed(bank: str, results: list[dict[str, Any]], *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"bank_code": bank, "batch_ref": "x", "results": results}, ensure_ascii=False).encode()
    return body, {"content-type": "application/json", "X-Bank-Code": bank, "X-Signature": sign(secret, body)}


def settled(p: Any, *, amount_fen: int | None = None) -> dict[str, Any]:
    return {
        "end_to_end_id": p.end_to_end_id,
        "status": "settled",
        "reason_code": None,
        "reason": None,
        "bank_txn_id": "TXN" + p.end_to_end_id[:8],
        "settled_on": "2024-06-03",
        "amount_fen": p.amount_fen if amount_fen is None else amount_fen,
    }


def failed(p: Any, code: str = "ACCOUNT_FROZEN", reason: str = "完全冻结") -> dict[str, Any]:
    return {
        "end_to_end_id": p.end_to_end_id,
        "status": "failed",
        "reason_code": code,
        "reason": reason,
        "bank_txn_id": None,
        "settled_on": None,
        "amount_fen": p.amount_fen,
    }


async def stored_not_sent(
    start_gateway: Any, kafka_bootstrap: str, n: int = 4
) -> tuple[Any, str, str, list[Any]]:
    """A gateway whose bank is unreachable, holding `n` instructions of a fresh bank as 'new'."""
    bank = fresh_bank()
    down = bound_socket(listen=False)
    gw = await start_gateway(bank_url=url_of(down), banks=[bank, "CQRCB"])
    gw.down_socket = down  # keep the port reserved while the test runs
    batch_id = str(uuid.uuid4())
    ps = payees(n, bank_code=bank)
    await publish(
        kafka_bootstrap, *instructed_chunks(ps, batch_id=batch_id, bank_code=bank), correlation_id=batch_id
    )
    await gw.wait_for_dispatcher(lambda d: d.outcomes[(bank, "error")] >= 1)
    return gw, bank, batch_id, ps


async def test_bankgw_callback_with_bad_signature_is_refused(start_gateway, kafka_bootstrap) -> None:
    gw, bank, batch_id, ps = await stored_not_sent(start_gateway, kafka_bootstrap)
    before = metric("ykt_bank_callbacks_total", bank=bank, outcome="bad_signature")
    body, headers = signed(bank, [settled(p) for p in ps], secret="not-the-secret")  # noqa: S106 - a forged signature
    url = f"/bank-callbacks/{bank}"

    forged = await gw.client.post(url, content=body, headers=headers)
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "BAD_SIGNATURE"
    unsigned = await gw.client.post(url, content=body, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    _, good_headers = signed(bank, [])
    swapped = await gw.client.post(url, content=body, headers=good_headers)  # a signature of another body
    assert swapped.status_code == 401
    assert metric("ykt_bank_callbacks_total", bank=bank, outcome="bad_signature") - before == 3

    body, headers = signed(bank, [settled(p) for p in ps])
    assert (
        await gw.client.post("/bank-callbacks/NOSUCHBANK", content=body, headers=headers)
    ).status_code == 404
    other = await gw.client.post(url, content=body, headers=headers | {"X-Bank-Code": "CQRCB"})
    assert other.status_code == 400

    assert {r.status for r in await gw.rows(batch_id)} == {"new"}
    assert await gw.outbox_count(batch_id) == 0


async def test_bankgw_callback_changes_open_instructions_once(start_gateway, kafka_bootstrap) -> None:
    gw, bank, batch_id, ps = await stored_not_sent(start_gateway, kafka_bootstrap, n=4)
    paid, frozen, wrong_amount, elsewhere = ps
    mismatches = metric("ykt_bank_result_amount_mismatches_total", bank=bank)
    results = [
        settled(paid),
        failed(frozen),
        settled(wrong_amount, amount_fen=wrong_amount.amount_fen + 1),
        settled(paid) | {"end_to_end_id": str(uuid.uuid4())},  # unknown to us
    ]
    body, headers = signed(bank, results)

    async with EventRecorder(kafka_bootstrap, "payment.settled", "payment.failed") as rec:
        first = await gw.client.post(f"/bank-callbacks/{bank}", content=body, headers=headers)
        assert first.status_code == 200
        assert first.json() == {"accepted": 2, "ignored": 2}
        assert metric("ykt_bank_result_amount_mismatches_total", bank=bank) - mismatches == 1
        assert await gw.outbox_count(batch_id) == 2

        again = await gw.client.post(f"/bank-callbacks/{bank}", content=body, headers=headers)
        assert again.json() == {"accepted": 0, "ignored": 4}
        assert await gw.outbox_count(batch_id) == 2  # a repeated callback emits nothing

        # the same bank-signed result sent as another bank's changes nothing
        body_other, headers_other = signed("CQRCB", [settled(elsewhere)])
        crossed = await gw.client.post("/bank-callbacks/CQRCB", content=body_other, headers=headers_other)
        assert crossed.json() == {"accepted": 0, "ignored": 1}

        await rec.wait_for(lambda r: r.of("payment.settled", batch_id) and r.of("payment.failed", batch_id))

    assert await gw.outbox_count(batch_id) == 2
    [settled_event] = rec.of("payment.settled", batch_id)
    [failed_event] = rec.of("payment.failed", batch_id)
    assert settled_event.correlation_id == batch_id
    assert settled_event.payload["bank_code"] == bank
    assert settled_event.payload["totals"] == {"record_count": 1, "amount_fen": paid.amount_fen}
    [record] = settled_event.payload["records"]
    assert (record["end_to_end_id"], record["name"], record["id_number"]) == (
        paid.end_to_end_id,
        paid.person.name,
        paid.person.id_number,
    )
    assert (record["settled_on"], record["bank_txn_id"]) == ("2024-06-03", "TXN" + paid.end_to_end_id[:8])
    assert failed_event.payload["totals"] == {"record_count": 1, "amount_fen": frozen.amount_fen}
    [frec] = failed_event.payload["records"]
    assert (frec["end_to_end_id"], frec["reason_code"], frec["reason"]) == (
        frozen.end_to_end_id,
        "ACCOUNT_FROZEN",
        "完全冻结",
    )
    status = {r.end_to_end_id: r.status for r in await gw.rows(batch_id)}
    assert status == {
        paid.end_to_end_id: "settled",
        frozen.end_to_end_id: "failed",
        wrong_amount.end_to_end_id: "new",
        elsewhere.end_to_end_id: "new",
    }


@pytest.mark.parametrize("outcome", ["sent", "send_failed"])
async def test_bankgw_dispatcher_and_callback_on_the_same_rows_do_not_deadlock(
    start_gateway, outcome: str
) -> None:
    """The bank may call back while the dispatcher is still marking the request's rows sent (or
    failed, after a timeout the bank did not notice). Both lock the same rows; whatever plan the
    dispatcher's UPDATE gets, PostgreSQL must never have to abort one of them as a deadlock."""
    bank = fresh_bank()  # served by no adapter: the dispatcher itself never touches these rows
    gw = await start_gateway(bank_url=url_of(bound_socket(listen=False)), banks=["CQRCB"])
    db, cipher = gw.app.state.db, gw.app.state.cipher
    batch_id = str(uuid.uuid4())
    # stored in descending id order, so that a sequential scan meets them in the reverse of id order
    ps = sorted(payees(300, bank_code=bank), key=lambda p: p.end_to_end_id, reverse=True)
    for chunk in instructed_chunks(ps, batch_id=batch_id, bank_code=bank):
        async with db.transaction() as s:
            await service.record_instructed(s, chunk, cipher=cipher)
    ids = sorted(p.end_to_end_id for p in ps)

    async def lock_waiters() -> int:
        async with db.transaction() as s:
            stmt = sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')"
            )
            return int((await s.execute(stmt)).scalar_one())

    async def until_lock_waiters(n: int) -> None:
        async with asyncio.timeout(30):
            while await lock_waiters() < n:  # noqa: ASYNC110 - polling the server, no event to await
                await asyncio.sleep(0.02)

    held, release = asyncio.Event(), asyncio.Event()

    async def earlier_callback() -> None:  # holds the lowest id until released
        async with db.transaction() as s:
            await repo.lock_for_results(s, bank_code=bank, ids=ids[:1])
            held.set()
            await release.wait()

    async def callback() -> None:
        async with db.transaction() as s:
            await repo.lock_for_results(s, bank_code=bank, ids=ids)

    async def dispatcher() -> int:
        async with db.transaction() as s:
            # visit the rows in heap order, as the planner may choose to
            await s.execute(sa.text("SET LOCAL enable_indexscan = off"))
            await s.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
            if outcome == "sent":
                return await repo.mark_sent(s, ids=ids, query_after_seconds=900)
            return await repo.mark_send_failed(s, ids=ids, base=0.05, cap=0.5)

    first = asyncio.create_task(earlier_callback())
    await held.wait()
    # the callback waits at the lowest id holding nothing; the dispatcher then locks what it can
    # (in heap order it would take every other row first) and waits too
    second = asyncio.create_task(callback())
    await until_lock_waiters(1)
    marking = asyncio.create_task(dispatcher())
    await until_lock_waiters(2)
    release.set()
    async with asyncio.timeout(30):
        _, _, marked = await asyncio.gather(first, second, marking)

    rows = await gw.rows(batch_id)
    assert len(rows) == 300
    if outcome == "sent":
        assert marked == 300
        assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    else:
        assert marked == 1
        assert {(r.status, r.attempts) for r in rows} == {("new", 1)}


async def test_bankgw_redelivered_instructed_is_sent_once(
    start_banksim, start_gateway, kafka_bootstrap
) -> None:
    bank = fresh_bank()
    first, marker = payees(20, bank_code=bank), payees(5, bank_code=bank)
    bank_url = await start_banksim(banks=[bank], accounts=account_book(first + marker, bank_code=bank))
    # no polling to speak of: only the wake-up after a chunk commits makes the dispatcher send
    gw = await start_gateway(bank_url=bank_url, banks=[bank], poll_seconds=600)
    batch_id, marker_batch = str(uuid.uuid4()), str(uuid.uuid4())
    [chunk] = instructed_chunks(first, batch_id=batch_id, bank_code=bank)
    [marker_chunk] = instructed_chunks(marker, batch_id=marker_batch, bank_code=bank)
    topic = "ykt.payment.instructed"
    duplicates = metric("ykt_events_consumed_total", service="bank-gateway", topic=topic, outcome="duplicate")

    async with EventRecorder(kafka_bootstrap, "payment.settled") as rec:
        [env] = await publish(kafka_bootstrap, chunk, correlation_id=batch_id)
        await rec.wait_for(
            lambda r: sum(len(e.payload["records"]) for e in r.of("payment.settled", batch_id)) == 20
        )
        await publish(kafka_bootstrap, chunk, correlation_id=batch_id, event_id=env.event_id)  # redelivered
        await publish(kafka_bootstrap, chunk, correlation_id=batch_id)  # the same chunk re-published anew
        # same key, so same partition: once the marker is paid, both copies above have been handled
        await publish(kafka_bootstrap, marker_chunk, correlation_id=batch_id)
        await rec.wait_for(lambda r: r.of("payment.settled", marker_batch))

    assert gw.dispatcher.outcomes[(bank, "ok")] == 2  # the batch once, the marker once
    assert (
        metric("ykt_events_consumed_total", service="bank-gateway", topic=topic, outcome="duplicate")
        - duplicates
        == 1
    )
    records = [r for e in rec.of("payment.settled", batch_id) for r in e.payload["records"]]
    assert sorted(r["end_to_end_id"] for r in records) == sorted(p.end_to_end_id for p in first)
    assert await gw.outbox_count(batch_id) == len(rec.of("payment.settled", batch_id))
    assert {(r.status, r.attempts) for r in await gw.rows(batch_id)} == {("settled", 1)}


async def test_bankgw_chunk_totals_mismatch_is_dead_lettered(
    start_gateway, kafka_bootstrap, find_dead_letter
) -> None:
    bank = fresh_bank()
    gw = await start_gateway(bank_url=url_of(bound_socket(listen=False)), banks=[bank])

    # a chunk whose own totals disagree with its instructions: nothing of it is stored
    batch_id = str(uuid.uuid4())
    [chunk] = instructed_chunks(payees(10, bank_code=bank), batch_id=batch_id, bank_code=bank)
    wrong = ChunkInfo(
        index=0, count=1, totals=Totals(record_count=10, amount_fen=chunk.chunk.totals.amount_fen + 1)
    )
    [env] = await publish(kafka_bootstrap, chunk.model_copy(update={"chunk": wrong}), correlation_id=batch_id)
    headers, body = await find_dead_letter(env.event_id)
    assert headers["ykt-dlq-consumer"] == "ykt-bank-gateway"
    assert headers["ykt-dlq-original-topic"] == "ykt.payment.instructed"
    assert "CHUNK_TOTALS_MISMATCH" in headers["ykt-dlq-reason"]
    assert body["payload"]["batch_id"] == batch_id
    assert await gw.rows(batch_id) == []
    assert await gw.bank_batch(batch_id, bank) is None

    # chunks fine one by one, but together not what the bank totals declare: the last is refused
    # and the batch is never sent to the bank
    batch_id = str(uuid.uuid4())
    ps = payees(10, bank_code=bank)
    chunks = instructed_chunks(ps, batch_id=batch_id, bank_code=bank, chunk_size=5)
    declared = Totals(record_count=10, amount_fen=chunks[0].bank_totals.amount_fen + 100)
    envs = await publish(
        kafka_bootstrap,
        *(c.model_copy(update={"bank_totals": declared}) for c in chunks),
        correlation_id=batch_id,
    )
    headers, _ = await find_dead_letter(envs[1].event_id)
    assert "BANK_TOTALS_MISMATCH" in headers["ykt-dlq-reason"]
    rows = await gw.rows(batch_id)
    assert sorted(r.end_to_end_id for r in rows) == sorted(i.end_to_end_id for i in chunks[0].instructions)
    assert {(r.status, r.attempts) for r in rows} == {("new", 0)}
    assert (await gw.bank_batch(batch_id, bank)).status == "receiving"
    assert gw.dispatcher.outcomes[(bank, "ok")] + gw.dispatcher.outcomes[(bank, "error")] == 0

    # a complete batch that later receives other instructions under the same header refuses them
    batch_id = str(uuid.uuid4())
    ps = payees(3, bank_code=bank)
    [chunk] = instructed_chunks(ps, batch_id=batch_id, bank_code=bank)
    others = [dataclasses.replace(p, end_to_end_id=str(uuid.uuid4())) for p in ps]
    [other] = instructed_chunks(others, batch_id=batch_id, bank_code=bank)
    envs = await publish(kafka_bootstrap, chunk, other, correlation_id=batch_id)
    headers, _ = await find_dead_letter(envs[1].event_id)
    assert "BATCH_ALREADY_COMPLETE" in headers["ykt-dlq-reason"]
    assert sorted(r.end_to_end_id for r in await gw.rows(batch_id)) == sorted(p.end_to_end_id for p in ps)


async def test_bankgw_bank_down_then_up_gets_instructions_once(
    start_banksim, start_gateway, kafka_bootstrap
) -> None:
    bank = fresh_bank()
    ps = payees(25, bank_code=bank)
    sock = bound_socket(listen=False)  # the bank's address: refused while nothing listens
    gw = await start_gateway(bank_url=url_of(sock), banks=[bank])
    batch_id = str(uuid.uuid4())

    async with EventRecorder(kafka_bootstrap, "payment.settled") as rec:
        await publish(
            kafka_bootstrap,
            *instructed_chunks(ps, batch_id=batch_id, bank_code=bank),
            correlation_id=batch_id,
        )
        await gw.wait_for_dispatcher(lambda d: d.outcomes[(bank, "error")] >= 3)
        rows = await gw.rows(batch_id)
        assert {r.status for r in rows} == {"new"}
        assert min(r.attempts for r in rows) >= 3

        await start_banksim(
            banks=[bank], accounts=account_book(ps, bank_code=bank), sock=sock
        )  # the bank is back
        await rec.wait_for(
            lambda r: sum(len(e.payload["records"]) for e in r.of("payment.settled", batch_id)) == 25
        )

    assert gw.dispatcher.outcomes[(bank, "ok")] == 1
    assert metric("ykt_bank_requests_total", bank=bank, outcome="ok") == 1
    assert metric("ykt_bank_requests_total", bank=bank, outcome="error") >= 3
    assert metric("ykt_bank_request_seconds_count", bank=bank) == sum(
        n for (b, _), n in gw.dispatcher.outcomes.items() if b == bank
    )
    rows = await gw.rows(batch_id)
    assert {r.status for r in rows} == {"settled"}
    assert min(r.attempts for r in rows) >= 4


async def test_bankgw_bank_timeouts_are_retried_and_paid_once(
    start_banksim, start_gateway, kafka_bootstrap
) -> None:
    bank = fresh_bank()
    ps = payees(25, bank_code=bank)
    sock = bound_socket(listen=True)  # the kernel takes connections, nobody answers
    gw = await start_gateway(bank_url=url_of(sock), banks=[bank], bank_timeout_seconds=0.5)
    batch_id = str(uuid.uuid4())

    async with EventRecorder(kafka_bootstrap, "payment.settled") as rec:
        await publish(
            kafka_bootstrap,
            *instructed_chunks(ps, batch_id=batch_id, bank_code=bank),
            correlation_id=batch_id,
        )
        await gw.wait_for_dispatcher(lambda d: d.outcomes[(bank, "timeout")] >= 2)
        assert {r.status for r in await gw.rows(batch_id)} == {"new"}

        # the bank wakes up and may now read the requests that timed out as well as new ones:
        # whichever it takes, every credit is made and reported once
        await start_banksim(banks=[bank], accounts=account_book(ps, bank_code=bank), sock=sock)
        await rec.wait_for(
            lambda r: sum(len(e.payload["records"]) for e in r.of("payment.settled", batch_id)) == 25
        )
        written = await gw.outbox_count(batch_id)
        await rec.wait_for(lambda r: len(r.of("payment.settled", batch_id)) >= written)

    assert metric("ykt_bank_requests_total", bank=bank, outcome="timeout") >= 2
    records = [r for e in rec.of("payment.settled", batch_id) for r in e.payload["records"]]
    assert sorted(r["end_to_end_id"] for r in records) == sorted(p.end_to_end_id for p in ps)
    assert {r.status for r in await gw.rows(batch_id)} == {"settled"}


async def test_bankgw_lost_callbacks_are_recovered_by_status_query(
    start_banksim, start_gateway, kafka_bootstrap
) -> None:
    bank = fresh_bank()
    ps = payees(12, bank_code=bank)
    closed = ps[:2]
    book = account_book(ps, bank_code=bank, overrides={p.end_to_end_id: {"state": "closed"} for p in closed})
    bank_url = await start_banksim(banks=[bank], accounts=book, callback_attempts=1)
    unreachable = bound_socket(listen=False)
    gw = await start_gateway(
        bank_url=bank_url, banks=[bank], public_url=url_of(unreachable), query_after_seconds=0.3
    )
    batch_id = str(uuid.uuid4())

    async with EventRecorder(kafka_bootstrap, "payment.settled", "payment.failed") as rec:
        await publish(
            kafka_bootstrap,
            *instructed_chunks(ps, batch_id=batch_id, bank_code=bank),
            correlation_id=batch_id,
        )
        await rec.wait_for(
            lambda r: (
                sum(len(e.payload["records"]) for e in r.of("payment.settled", batch_id)) == 10
                and sum(len(e.payload["records"]) for e in r.of("payment.failed", batch_id)) == 2
            )
        )

    assert gw.tap.answers == []  # no callback ever reached us
    failed_ids = {
        r["end_to_end_id"] for e in rec.of("payment.failed", batch_id) for r in e.payload["records"]
    }
    assert failed_ids == {p.end_to_end_id for p in closed}
    assert {r.status for r in await gw.rows(batch_id)} == {"settled", "failed"}
    assert gw.dispatcher.outcomes[(bank, "ok")] >= 13  # one send and at least one query per instruction
