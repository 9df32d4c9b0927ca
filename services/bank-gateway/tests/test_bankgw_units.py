"""Unit tests without infrastructure: control totals, event building, back-off, settings, and the
JSON API adapter against a fake transport."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from ykt_bank_gateway.adapters.banks import build_adapters
from ykt_bank_gateway.adapters.banks.json_api import JsonApiAdapter
from ykt_bank_gateway.config import Settings
from ykt_bank_gateway.domain.model import BankResult, OutgoingInstruction
from ykt_bank_gateway.domain.ports import BankAdapter, BankRejected, BankTimeout, BankUnavailable
from ykt_bank_gateway.domain.rules import (
    ChangedInstruction,
    InstructionsRejected,
    backoff_seconds,
    check_bank_totals,
    check_chunk,
    memo_for,
    result_events,
)
from ykt_bank_gateway.testing import instructed_chunks, payees
from ykt_contracts import ChunkInfo, Totals


def test_bankgw_chunk_totals_are_checked() -> None:
    [chunk] = instructed_chunks(payees(5, bank_code="CQRCB", seed=1), batch_id="b1", bank_code="CQRCB")
    check_chunk(chunk)
    t = chunk.chunk.totals
    for wrong in (
        Totals(record_count=4, amount_fen=t.amount_fen),
        Totals(record_count=5, amount_fen=t.amount_fen - 1),
    ):
        bad = chunk.model_copy(update={"chunk": ChunkInfo(index=0, count=1, totals=wrong)})
        with pytest.raises(InstructionsRejected) as exc:
            check_chunk(bad)
        assert exc.value.code == "CHUNK_TOTALS_MISMATCH"
    twice = chunk.model_copy(update={"instructions": [chunk.instructions[0]] * 5})
    twice = twice.model_copy(
        update={
            "chunk": ChunkInfo(
                index=0,
                count=1,
                totals=Totals(record_count=5, amount_fen=5 * chunk.instructions[0].amount_fen),
            )
        }
    )
    with pytest.raises(InstructionsRejected, match="DUPLICATE_END_TO_END_ID"):
        check_chunk(twice)
    check_bank_totals(Totals(record_count=5, amount_fen=100), 5, 100)
    with pytest.raises(InstructionsRejected, match="BANK_TOTALS_MISMATCH"):
        check_bank_totals(Totals(record_count=5, amount_fen=100), 5, 99)


def _changed(i: int, batch_id: str, status: str) -> ChangedInstruction:
    return ChangedInstruction(
        end_to_end_id=f"e2e-{i:04d}",
        record_id=f"e2e-{i:04d}",
        batch_id=batch_id,
        person_key="c" * 64,
        name="张三",
        id_number="500104198001010011",
        program_code="HM10",
        period="2024-05",
        town_code="500104101000",
        village="八桥村",
        amount_fen=1000 + i,
        status=status,
        reason_code="ACCOUNT_CLOSED" if status == "failed" else None,
        reason="已销户" if status == "failed" else None,
        bank_txn_id="T1" if status == "settled" else None,
        settled_on=date(2024, 6, 1) if status == "settled" else None,
    )


def test_bankgw_result_events_hold_at_most_one_chunk_of_records_with_their_totals() -> None:
    rows = [_changed(i, "A", "settled") for i in range(450)] + [
        _changed(i, "A", "failed") for i in range(450, 453)
    ]
    rows += [_changed(i, "B", "settled") for i in range(500, 510)]
    events = result_events("CQRCB", reversed(rows))
    assert set(events) == {"A", "B"}
    a = events["A"]
    assert [(e.type, len(e.records)) for e in a] == [("payment.settled", 100)] * 4 + [
        ("payment.settled", 50),
        ("payment.failed", 3),
    ]
    for e in a:
        assert e.batch_id == "A"
        assert e.bank_code == "CQRCB"
        assert e.totals == Totals(
            record_count=len(e.records), amount_fen=sum(r.amount_fen for r in e.records)
        )
    assert [r.end_to_end_id for e in a[:5] for r in e.records] == [f"e2e-{i:04d}" for i in range(450)]
    assert a[5].records[0].reason_code == "ACCOUNT_CLOSED"
    assert [(e.type, len(e.records)) for e in events["B"]] == [("payment.settled", 10)]
    assert result_events("CQRCB", []) == {}


def test_bankgw_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n, base=1.0, cap=10.0) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 4, 8, 10, 10]


def test_bankgw_memo_names_program_and_period() -> None:
    assert memo_for("HM10", "2024-05") == "困难群众救助补助——城乡居民最低生活保障金 2024-05"
    assert memo_for("NEW", "2024") == "NEW 2024"


def test_bankgw_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKGW_BANKS", " cqrcb, ICBC ,,")
    monkeypatch.setenv("BANKGW_PUBLIC_URL", "https://gw.example/")
    s = Settings()
    assert s.bank_adapters() == {"CQRCB": "json-api", "ICBC": "json-api"}
    assert s.callback_url("ICBC") == "https://gw.example/bank-callbacks/ICBC"
    assert (s.port, s.send_batch_size, s.bank_sim_url) == (8104, 1000, "http://127.0.0.1:8201")

    monkeypatch.setenv("YKT_ENV", "production")
    monkeypatch.setenv("YKT_SERVICE_SECRET", "s" * 32)
    monkeypatch.setenv("YKT_PII_ENC_KEY", "ab" * 16)
    monkeypatch.setenv("YKT_PII_INDEX_KEY", "cd" * 32)
    with pytest.raises(ValueError, match="BANKGW_CALLBACK_SECRET"):
        Settings()
    monkeypatch.setenv("BANKGW_CALLBACK_SECRET", "a-real-secret")
    assert Settings().callback_secret == "a-real-secret"  # noqa: S105 - test value


def _adapter(handler: object) -> JsonApiAdapter:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return JsonApiAdapter(
        base_url="http://bank/", callback_url=lambda b: f"http://gw/bank-callbacks/{b}", client=client
    )


INS = OutgoingInstruction("e1", "张三", "6222000011112222", "500104198001010011", 12345, "memo")


async def test_bankgw_json_api_adapter_speaks_the_bank_protocol() -> None:
    seen: list[httpx.Request] = []

    def bank(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(202, json={"accepted": 1, "duplicates": 0})
        if request.url.path.endswith("/e1"):
            return httpx.Response(
                200,
                json={
                    "end_to_end_id": "e1",
                    "status": "settled",
                    "bank_txn_id": "T9",
                    "settled_on": "2024-06-01",
                    "amount_fen": 12345,
                },
            )
        return httpx.Response(404, json={"error": {"code": "TRANSFER_NOT_FOUND"}})

    adapter = _adapter(bank)
    assert isinstance(adapter, BankAdapter)
    assert "张三" not in repr(INS)
    await adapter.send("ICBC", "batch-1", [INS])
    assert seen[0].url == "http://bank/banks/ICBC/api/v1/credit-transfers"
    assert json.loads(seen[0].content) == {
        "batch_ref": "batch-1",
        "callback_url": "http://gw/bank-callbacks/ICBC",
        "instructions": [
            {
                "end_to_end_id": "e1",
                "payee_name": "张三",
                "payee_account": "6222000011112222",
                "payee_id_number": "500104198001010011",
                "amount_fen": 12345,
                "memo": "memo",
            }
        ],
    }
    assert await adapter.query("ICBC", "e1") == BankResult(
        end_to_end_id="e1", status="settled", amount_fen=12345, bank_txn_id="T9", settled_on=date(2024, 6, 1)
    )
    assert await adapter.query("ICBC", "e2") is None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda r: httpx.Response(503), BankUnavailable),
        (lambda r: httpx.Response(429), BankUnavailable),
        (lambda r: httpx.Response(422, json={"error": {}}), BankRejected),
        (lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)), BankUnavailable),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)), BankTimeout),
    ],
)
async def test_bankgw_json_api_adapter_reports_failures(answer: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        await _adapter(answer).send("ICBC", "batch-1", [INS])


def test_bankgw_adapters_are_chosen_per_bank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKGW_BANKS", "CQRCB,ICBC")
    adapters = build_adapters(Settings(), httpx.AsyncClient())
    assert {b: a.name for b, a in adapters.items()} == {"CQRCB": "json-api", "ICBC": "json-api"}
