"""Instructions in chunks → sent to the (simulated) banks → signed callbacks → payment.settled and
payment.failed with correct totals; operators see the instructions in their scope, masked."""

from __future__ import annotations

import uuid
from datetime import date

from ykt_bank_gateway.testing import account_book, instructed_chunks, payees
from ykt_contracts import MAX_RECORDS_PER_CHUNK
from ykt_kit.actor import Role
from ykt_kit.masking import mask_account, mask_name
from ykt_kit.testing import EventRecorder, actor_headers, publish


async def test_bankgw_instructed_batch_is_paid_and_reported(
    start_banksim, start_gateway, kafka_bootstrap
) -> None:
    batch_id = str(uuid.uuid4())
    cq = payees(450, bank_code="CQRCB")
    ic = payees(30, bank_code="ICBC")
    closed, renamed, missing = cq[:3], cq[3:5], cq[5:6]
    overrides = (
        {p.end_to_end_id: {"state": "closed"} for p in closed}
        | {p.end_to_end_id: {"holder_name": "另有其人"} for p in renamed}
        | {p.end_to_end_id: {} for p in missing}
    )
    book = account_book(cq, bank_code="CQRCB", overrides=overrides) + account_book(ic, bank_code="ICBC")
    # every callback is delivered twice, in callbacks of at most 250 results
    bank_url = await start_banksim(
        banks=["CQRCB", "ICBC"], accounts=book, duplicate_callbacks=True, callback_chunk_size=250
    )
    gw = await start_gateway(bank_url=bank_url, banks=["CQRCB", "ICBC"], send_batch_size=300)
    chunks = instructed_chunks(cq, batch_id=batch_id, bank_code="CQRCB") + instructed_chunks(
        ic, batch_id=batch_id, bank_code="ICBC"
    )
    assert [c.chunk.count for c in chunks] == [5] * 5 + [1]

    async with EventRecorder(kafka_bootstrap, "payment.settled", "payment.failed") as rec:
        await publish(kafka_bootstrap, *chunks, correlation_id=batch_id, producer="payment")
        # CQRCB gets requests of 300 and 150 (callbacks of 250+50 and 150), ICBC one of 30: 4 callbacks, each twice
        await gw.tap.wait_for(lambda t: t.answered(200) >= 8)
        written = await gw.outbox_count(batch_id)
        await rec.wait_for(
            lambda r: (
                len(r.of("payment.settled", batch_id)) + len(r.of("payment.failed", batch_id)) >= written
            ),
            what="every event written for the batch",
        )
    # a bank request is counted once its rows are marked sent, which may finish after the bank's
    # callbacks for them (it may even wait for their row locks): wait for the counts, then check
    # that no other request was made
    await gw.wait_for_dispatcher(
        lambda d: d.outcomes[("CQRCB", "ok")] >= 2 and d.outcomes[("ICBC", "ok")] >= 1
    )
    assert gw.dispatcher.outcomes[("CQRCB", "ok")] == 2
    assert gw.dispatcher.outcomes[("ICBC", "ok")] == 1

    settled_events = rec.of("payment.settled", batch_id)
    failed_events = rec.of("payment.failed", batch_id)
    assert len(settled_events) + len(failed_events) == written
    for env in settled_events + failed_events:
        payload = env.payload
        assert env.producer == "bank-gateway"
        assert 1 <= len(payload["records"]) <= MAX_RECORDS_PER_CHUNK
        assert payload["totals"] == {
            "record_count": len(payload["records"]),
            "amount_fen": sum(r["amount_fen"] for r in payload["records"]),
        }
    # a callback of 250 results is split into events of at most one chunk each
    assert max(len(env.payload["records"]) for env in settled_events) == MAX_RECORDS_PER_CHUNK

    settled = [r | {"bank": e.payload["bank_code"]} for e in settled_events for r in e.payload["records"]]
    failed = [r | {"bank": e.payload["bank_code"]} for e in failed_events for r in e.payload["records"]]
    by_id = {p.end_to_end_id: (p, bank) for bank, ps in (("CQRCB", cq), ("ICBC", ic)) for p in ps}
    failing = {p.end_to_end_id for p in closed + renamed + missing}
    # every result once, never twice, although every callback came twice
    assert sorted(r["end_to_end_id"] for r in settled) == sorted(set(by_id) - failing)
    assert sorted(r["end_to_end_id"] for r in failed) == sorted(failing)
    assert sum(r["amount_fen"] for r in settled) == sum(p.amount_fen for p, _ in by_id.values()) - sum(
        by_id[e][0].amount_fen for e in failing
    )
    for r in settled:
        p, bank = by_id[r["end_to_end_id"]]
        assert r["bank"] == bank
        assert (r["record_id"], r["person_key"], r["name"], r["id_number"]) == (
            p.end_to_end_id,
            p.person_key,
            p.person.name,
            p.person.id_number,
        )
        assert (r["program_code"], r["period"], r["town_code"], r["village"]) == (
            "HM10",
            "2024-05",
            p.person.town_code,
            p.person.village,
        )
        assert r["amount_fen"] == p.amount_fen
        assert date.fromisoformat(r["settled_on"])
        assert r["bank_txn_id"]
    reasons = {r["end_to_end_id"]: (r["reason_code"], r["reason"]) for r in failed}
    assert {reasons[p.end_to_end_id] for p in closed} == {("ACCOUNT_CLOSED", "已销户")}
    assert {reasons[p.end_to_end_id] for p in renamed} == {("NAME_MISMATCH", "户名不符")}
    assert {reasons[p.end_to_end_id] for p in missing} == {("ACCOUNT_NOT_FOUND", "卡号不存在")}
    assert all(
        r["bank"] == "CQRCB" and r["amount_fen"] == by_id[r["end_to_end_id"]][0].amount_fen for r in failed
    )

    rows = await gw.rows(batch_id)
    assert len(rows) == 480
    assert sorted({(r.status, r.attempts) for r in rows}) == [("failed", 1), ("settled", 1)]
    assert all(r.sent_at is not None and r.result_at is not None for r in rows)
    assert all(
        p.person.name.encode() not in bytes(r.name_enc) for r in rows for p, _ in [by_id[r.end_to_end_id]]
    )

    # --- what operators see
    secret = gw.settings.service_secret
    api = gw.client

    def as_(role: Role, org: str) -> dict[str, str]:
        return actor_headers(secret, role, org)

    page = (
        await api.get(
            "/api/v1/instructions",
            params={"batch_id": batch_id, "page_size": 500},
            headers=as_(Role.FINANCE, "FIN"),
        )
    ).json()
    assert page["total"] == 480
    assert len(page["items"]) == 480
    for item in page["items"]:
        p, bank = by_id[item["end_to_end_id"]]
        assert item["name"] == mask_name(p.person.name) != p.person.name
        assert item["account_no"] == mask_account(p.person.account_no)
        assert item["bank_code"] == bank
        assert item["unit_code"] == "DEPT-CIVIL"
        assert p.person.id_number not in str(item)

    icbc = (
        await api.get(
            "/api/v1/instructions", params={"batch_id": batch_id}, headers=as_(Role.BANK, "BANK-ICBC")
        )
    ).json()
    assert icbc["total"] == 30
    assert {i["bank_code"] for i in icbc["items"]} == {"ICBC"}
    denied = await api.get(
        "/api/v1/instructions", params={"bank_code": "CQRCB"}, headers=as_(Role.BANK, "BANK-ICBC")
    )
    assert denied.status_code == 403

    unit = (
        await api.get(
            "/api/v1/instructions", params={"batch_id": batch_id}, headers=as_(Role.DEPARTMENT, "DEPT-CIVIL")
        )
    ).json()
    assert unit["total"] == 480
    other_unit = (
        await api.get(
            "/api/v1/instructions", params={"batch_id": batch_id}, headers=as_(Role.TOWN, "500104101000")
        )
    ).json()
    assert other_unit["total"] == 0

    failed_page = (
        await api.get(
            "/api/v1/instructions",
            params={"batch_id": batch_id, "status": "failed"},
            headers=as_(Role.SUPERVISOR, "AUDIT"),
        )
    ).json()
    assert sorted(i["end_to_end_id"] for i in failed_page["items"]) == sorted(failing)
    assert {i["reason_code"] for i in failed_page["items"]} == {
        "ACCOUNT_CLOSED",
        "NAME_MISMATCH",
        "ACCOUNT_NOT_FOUND",
    }

    last = (
        await api.get(
            "/api/v1/instructions",
            params={"batch_id": batch_id, "page": 5, "page_size": 100},
            headers=as_(Role.ADMIN, "ADMIN"),
        )
    ).json()
    assert (last["total"], len(last["items"]), last["page"]) == (480, 80, 5)

    assert (await api.get("/api/v1/instructions")).status_code == 401

    banks = (await api.get("/api/v1/banks", headers=as_(Role.BANK, "BANK-ICBC"))).json()
    assert banks == {
        "banks": [
            {"bank_code": "CQRCB", "adapter": "json-api", "verification": "json-api"},
            {"bank_code": "ICBC", "adapter": "json-api", "verification": "json-api"},
        ]
    }
