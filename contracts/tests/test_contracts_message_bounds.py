"""No event can exceed 256 KiB whatever the batch size: the largest possible chunk is measured."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from ykt_contracts import MAX_MESSAGE_BYTES, MAX_RECORDS_PER_CHUNK, Envelope, Totals
from ykt_contracts import events as ev
from ykt_contracts.chunking import chunked
from ykt_contracts.envelope import ChunkInfo

# the widest characters (4 bytes in UTF-8, 12 bytes as a JSON \u escape pair) at maximum length
WIDE = "\U00020bb7"


def s(n: int) -> str:
    """Free text at its widest."""
    return WIDE * n


def a(n: int) -> str:
    """An ASCII identifier at its longest."""
    return "f" * n


def worst_record() -> dict[str, Any]:
    return {
        "record_id": a(64),
        "seq": 10**9,
        "person_key": a(64),
        "id_number": "1" * 18,
        "name": s(40),
        "account_no": "6" * 32,
        "bank_code": a(32),
        "amount_fen": 10**15,
        "town_code": a(32),
        "village": s(40),
        "reissue_of_record_id": a(64),
        "quantity": Decimal("99999999999999.9999"),
        "category": s(20),
    }


def worst_program() -> ev.ProgramRules:
    return ev.ProgramRules(
        code=a(32),
        frequency="quarterly",
        standard=ev.TieredStandardRule(
            tiers=[ev.TierRule(category=s(20), amount_fen=10**15)] * 20, ceiling_fen=10**15
        ),
        requires_registers=["disabled", "state_support", "poverty", "deceased", "state_salaried"],
        excludes_registers=["disabled", "state_support", "poverty", "deceased", "state_salaried"],
        exclusive_with=[a(32)] * 64,
    )


def chunk() -> ChunkInfo:
    t = Totals(record_count=10**9, amount_fen=10**15)
    return ChunkInfo(index=10**6, count=10**6, totals=t)


def worst_payloads() -> list[BaseModel]:
    t = Totals(record_count=10**9, amount_fen=10**15)
    rec = ev.PaymentRecord(**worst_record())
    n = MAX_RECORDS_PER_CHUNK
    common = {"batch_id": a(64), "unit_code": a(32), "program_code": a(32), "period": "2026-Q4"}
    inst = ev.Instruction(
        end_to_end_id=a(64),
        record_id=a(64),
        person_key=a(64),
        name=s(40),
        id_number="1" * 18,
        account_no="6" * 32,
        amount_fen=10**15,
        town_code=a(32),
        village=s(40),
    )
    settled = ev.SettledRecord(
        end_to_end_id=a(64),
        record_id=a(64),
        person_key=a(64),
        name=s(40),
        id_number="1" * 18,
        program_code=a(32),
        period="2026-Q4",
        town_code=a(32),
        village=s(40),
        amount_fen=10**15,
        settled_on=date.today(),
        bank_txn_id=a(64),
    )
    failed = ev.FailedRecord(
        end_to_end_id=a(64),
        record_id=a(64),
        person_key=a(64),
        program_code=a(32),
        period="2026-Q4",
        amount_fen=10**15,
        reason_code=a(32),
        reason=s(200),
    )
    return [
        ev.BatchSubmittedV1(
            **common,
            unit_batch_no=s(64),
            round=10**6,
            reissue_of_batch_id=a(64),
            round_totals=t,
            chunk=chunk(),
            records=[rec] * n,
            program=worst_program(),
        ),
        ev.BatchValidatedV1(
            **common,
            round=1,
            rule_set_version=a(32),
            round_totals=t,
            chunk=chunk(),
            verdicts=[
                ev.RecordVerdict(record_id=a(64), outcome="pass", code=a(32), message=s(200), record=rec)
            ]
            * n,
        ),
        ev.PaymentInstructedV1(
            **common, bank_code=a(32), bank_totals=t, chunk=chunk(), instructions=[inst] * n
        ),
        ev.PaymentSettledV1(batch_id=a(64), bank_code=a(32), totals=t, records=[settled] * n),
        ev.PaymentFailedV1(batch_id=a(64), bank_code=a(32), totals=t, records=[failed] * n),
        ev.BatchReturnedV1(
            batch_id=a(64),
            returned_by=a(64),
            reason=s(200),
            record_reasons=[ev.RecordReason(record_id=a(64), reason=s(200))] * n,
        ),
    ]


@pytest.mark.parametrize("payload", worst_payloads(), ids=lambda p: p.type)
def test_the_largest_possible_message_fits(payload: BaseModel) -> None:
    env = Envelope(
        type=payload.type,
        version=1,
        correlation_id=a(64),
        causation_id=uuid.uuid4(),  # type: ignore[attr-defined]
        producer="payment",
        occurred_at=datetime.now(UTC),
        payload=payload,
    )
    size = len(env.model_dump_json().encode())
    assert size <= MAX_MESSAGE_BYTES, f"{payload.type}: {size} bytes"  # type: ignore[attr-defined]


def test_a_chunk_cannot_hold_more_records_than_the_bound() -> None:
    rec = ev.PaymentRecord(**worst_record())
    with pytest.raises(ValidationError):
        ev.BatchSubmittedV1(
            batch_id="b",
            unit_code="u",
            unit_batch_no="n",
            program_code="p",
            period="2026-11",
            round=1,
            round_totals=Totals(record_count=1, amount_fen=1),
            chunk=chunk(),
            records=[rec] * (MAX_RECORDS_PER_CHUNK + 1),
        )


def test_chunking_a_large_batch_numbers_chunks_and_keeps_totals() -> None:
    amounts = list(range(1, 20_001))
    parts = list(chunked(amounts, lambda a: a))
    n = 20_000 // MAX_RECORDS_PER_CHUNK
    assert len(parts) == n
    assert [c.index for c, _ in parts] == list(range(n))
    assert {c.count for c, _ in parts} == {n}
    assert sum(c.totals.record_count for c, _ in parts) == 20_000
    assert sum(c.totals.amount_fen for c, _ in parts) == sum(amounts)
