"""The six steps end to end, across the real services as processes: statuses, counts, amounts,
the events on each topic; then every event delivered a second time changes nothing; then a
20,000-record batch whose messages all stay under 256 KiB."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from typing import Any

import httpx
import orjson
import pytest
from ykt_contracts import MAX_MESSAGE_BYTES, Envelope
from ykt_devstack.demo import AMOUNT_FEN, Operator, Report, failures, run_cycle, wait_review
from ykt_devstack.stack import Stack
from ykt_kit import synthetic

from .kafka_tools import end_offsets, read_all, republish, wait_consumers_caught_up

pytestmark = pytest.mark.e2e
STATE: dict[str, Any] = {}


def events_by_type(messages: list[Any]) -> dict[str, list[Envelope]]:
    out: dict[str, list[Envelope]] = defaultdict(list)
    for m in messages:
        if m.topic != "ykt.dead-letter":
            env = Envelope.model_validate_json(m.value)
            out[env.type].append(env)
    return out


def test_one_cycle_through_all_six_steps(stack: Stack) -> None:
    rep: Report = run_cycle(
        stack.urls["gateway"], stack.urls["bank-sim"], stack.urls["disclosure"], people=260
    )
    STATE["report"] = rep
    assert failures(rep) == []
    assert rep.submitted == (201, 201 * AMOUNT_FEN)
    assert rep.rejected_by_code == Counter({"ID_CHECKSUM": 2, "DUPLICATE_ENJOYMENT": 2})
    assert rep.sent == (200, 200 * AMOUNT_FEN)
    assert rep.first_paid == (195, 195 * AMOUNT_FEN)
    assert sorted(k.split(" ")[0] for k in rep.failed_by_reason) == [
        "ACCOUNT_CLOSED",
        "ACCOUNT_FROZEN",
        "ACCOUNT_NOT_FOUND",
        "NAME_MISMATCH",
        "ONLY_IN_NO_OUT",
    ]
    assert rep.reissue_paid == (5, 5 * AMOUNT_FEN)
    assert rep.bank_credits == 200 and rep.bank_credit_fen == 200 * AMOUNT_FEN


async def test_each_step_put_the_expected_events_on_its_topic(stack: Stack) -> None:
    rep: Report = STATE["report"]
    ev = events_by_type(await read_all(stack.bootstrap))
    bid, rid = rep.batch_id, rep.reissue_batch_id

    def of(t: str, b: str) -> list[dict[str, Any]]:
        return [e.payload for e in ev[t] if e.correlation_id == b]

    submitted = of("batch.submitted", bid)
    assert {(p["round"], p["chunk"]["count"]) for p in submitted} == {(1, 3), (2, 1)}
    assert sum(p["chunk"]["totals"]["record_count"] for p in submitted if p["round"] == 1) == 201
    verdicts = [v for p in of("batch.validated", bid) for v in p["verdicts"]]
    assert Counter(v["outcome"] for v in verdicts) == Counter({"pass": 198 + 2, "reject": 3})
    assert [p["totals"] for p in of("batch.sent", bid)] == [
        {"record_count": 200, "amount_fen": 200 * AMOUNT_FEN}
    ]
    assert len(of("batch.approved", bid)) == 1
    funded = of("batch.funded", bid)
    assert len(funded) == 1 and sum(f["amount_fen"] for f in funded[0]["funding"]) == 200 * AMOUNT_FEN
    instructed = [i for p in of("payment.instructed", bid) for i in p["instructions"]]
    assert len(instructed) == 200 and len({i["end_to_end_id"] for i in instructed}) == 200
    settled = [r for p in of("payment.settled", bid) for r in p["records"]]
    failed = [r for p in of("payment.failed", bid) for r in p["records"]]
    assert len(settled) == 195 and len(failed) == 5 and all(f["reason"] for f in failed)
    completed = of("batch.completed", bid)
    assert len(completed) == 1 and completed[0]["settled"]["record_count"] == 195
    assert len(of("disclosure.published", bid)) == 1
    # the re-issue: a new batch, records linked to the failed originals, all settled
    re_records = [r for p in of("batch.submitted", rid) for r in p["records"]]
    assert {r["reissue_of_record_id"] for r in re_records} == {f["record_id"] for f in failed}
    assert len([r for p in of("payment.settled", rid) for r in p["records"]]) == 5
    assert len(of("disclosure.published", rid)) == 1
    # events carry their cause and a trace context
    assert all(e.causation_id is not None for e in ev["batch.validated"])
    assert all(e.trace.traceparent for t in ev for e in ev[t])


def _snapshot(stack: Stack, rep: Report) -> dict[str, Any]:
    civil = Operator(stack.urls["gateway"], "civil")
    snap: dict[str, Any] = {}
    for b in filter(None, (rep.batch_id, rep.reissue_batch_id, rep.town_batch_id)):
        view = civil.call("GET", f"/api/v1/batches/{b}") if b != rep.town_batch_id else None
        snap[b] = view and {k: view[k] for k in ("status", "records_by_status", "round")}
        if b != rep.town_batch_id:
            pay = civil.call("GET", f"/api/v1/batches/{b}/payment")
            snap[b + ":payment"] = orjson.loads(orjson.dumps(pay, option=orjson.OPT_SORT_KEYS))
    snap["bank"] = httpx.get(f"{stack.urls['bank-sim']}/admin/stats", timeout=30).json()
    pubs = httpx.get(
        f"{stack.urls['disclosure']}/api/public/v1/publications", params={"page_size": 100}, timeout=30
    ).json()
    snap["publications"] = sorted(
        (p["publication_id"], p["record_count"], p["amount_fen"]) for p in pubs["items"]
    )
    return snap


async def test_every_event_delivered_twice_changes_nothing(stack: Stack) -> None:
    rep: Report = STATE["report"]
    await wait_consumers_caught_up(stack.bootstrap)
    before = await asyncio.to_thread(_snapshot, stack, rep)
    messages = [m for m in await read_all(stack.bootstrap) if m.topic != "ykt.dead-letter"]
    offsets_before = await end_offsets(stack.bootstrap)
    await republish(stack.bootstrap, messages)
    await wait_consumers_caught_up(stack.bootstrap)
    after = await asyncio.to_thread(_snapshot, stack, rep)
    assert after == before
    # no service emitted anything in answer to a duplicate: topics grew by exactly the copies
    offsets_after = await end_offsets(stack.bootstrap)
    grown = Counter()
    for tp, end in offsets_after.items():
        grown[tp.topic] += end - offsets_before.get(tp, 0)
    assert grown == Counter(m.topic for m in messages)


def test_a_20000_record_batch_travels_in_messages_under_256_kib(stack: Stack) -> None:
    n = 20_000
    civil = Operator(stack.urls["gateway"], "civil")
    finance = Operator(stack.urls["gateway"], "finance")
    pop = synthetic.population(
        n, seed=7_000_001, area="500104", towns=[("500104101000", "团结村")], bank_codes=["CQRCB"]
    )
    book = [{"account_no": p.account_no, "holder_name": p.name, "holder_id_number": p.id_number} for p in pop]
    httpx.post(
        f"{stack.urls['bank-sim']}/banks/CQRCB/admin/accounts", json=book, timeout=120
    ).raise_for_status()
    amount = 10_000
    body = {
        "unit_batch_no": f"MZ-BIG-{random.randrange(10**9)}",
        "program_code": "HM13",
        "period": "2026-10",
        "declared": {"record_count": n, "amount_fen": n * amount},
        "records": [
            {
                "id_number": p.id_number,
                "name": p.name,
                "account_no": p.account_no,
                "bank_code": "CQRCB",
                "amount_fen": amount,
                "town_code": p.town_code,
                "village": p.village,
            }
            for p in pop
        ],
    }
    bid = civil.call("POST", "/api/v1/batches", json=body)["batch_id"]
    civil.wait_batch(bid, "validated", timeout=600)
    civil.call("POST", f"/api/v1/batches/{bid}/sending")
    wait_review(finance, bid, timeout=600)
    finance.call("POST", f"/api/v1/reviews/{bid}/approve")
    civil.wait_batch(bid, "approved")
    civil.call("POST", f"/api/v1/batches/{bid}/funding", json={"budget_doc_no": "渡财社〔2026〕99号"})
    view = civil.wait_batch(bid, "disclosed", timeout=900)
    assert view["records_by_status"]["settled"] == {"record_count": n, "amount_fen": n * amount}
    messages = asyncio.run(read_all(stack.bootstrap))
    sizes = [len(m.value) for m in messages]
    assert len(messages) > n // 100
    assert max(sizes) <= MAX_MESSAGE_BYTES, f"largest message {max(sizes)} bytes"
