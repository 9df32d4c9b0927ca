"""Pure rules: control totals of incoming chunks, the bank memo, back-off, and turning changed
instructions into settled/failed events of at most MAX_RECORDS_PER_CHUNK records each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from ykt_contracts import MAX_RECORDS_PER_CHUNK, Totals
from ykt_contracts.events import (
    FailedRecord,
    PaymentFailedV1,
    PaymentInstructedV1,
    PaymentSettledV1,
    SettledRecord,
)
from ykt_contracts.reference import PROGRAM_NAMES


class InstructionsRejected(Exception):
    """A payment.instructed chunk that no retry will make acceptable; `code` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def check_chunk(payload: PaymentInstructedV1) -> None:
    """The chunk's declared totals must match its instructions; ids must be unique."""
    chunk = payload.chunk
    count = len(payload.instructions)
    amount = sum(i.amount_fen for i in payload.instructions)
    if chunk.index >= chunk.count:
        raise InstructionsRejected("CHUNK_INDEX", f"chunk {chunk.index} of {chunk.count}")
    if (count, amount) != (chunk.totals.record_count, chunk.totals.amount_fen):
        raise InstructionsRejected(
            "CHUNK_TOTALS_MISMATCH",
            f"declared {chunk.totals.record_count} records / {chunk.totals.amount_fen} fen, "
            f"carried {count} records / {amount} fen",
        )
    if len({i.end_to_end_id for i in payload.instructions}) != count:
        raise InstructionsRejected("DUPLICATE_END_TO_END_ID", "an end_to_end_id appears twice in the chunk")


def check_bank_totals(declared: Totals, count: int, amount_fen: int) -> None:
    """Once every chunk is in, the stored instructions must match the bank totals declared."""
    if (count, amount_fen) != (declared.record_count, declared.amount_fen):
        raise InstructionsRejected(
            "BANK_TOTALS_MISMATCH",
            f"declared {declared.record_count} records / {declared.amount_fen} fen, "
            f"received {count} records / {amount_fen} fen",
        )


def memo_for(program_code: str, period: str) -> str:
    """附言 on the citizen's statement: the program's name and the period."""
    name = PROGRAM_NAMES.get(program_code, program_code)
    return f"{name} {period}"[:60]


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Delay before the next try after `attempts` failed tries (exponential, capped)."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class ChangedInstruction:
    """An instruction whose final result was just recorded, decrypted for the event."""

    end_to_end_id: str
    record_id: str
    batch_id: str
    person_key: str
    name: str
    id_number: str
    program_code: str
    period: str
    town_code: str
    village: str
    amount_fen: int
    status: str
    reason_code: str | None
    reason: str | None
    bank_txn_id: str | None
    settled_on: date | None

    def __repr__(self) -> str:
        return f"ChangedInstruction(end_to_end_id={self.end_to_end_id!r}, status={self.status!r})"


T = TypeVar("T")


def _parts(items: Sequence[T], size: int = MAX_RECORDS_PER_CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def result_events(
    bank_code: str, changed: Iterable[ChangedInstruction]
) -> dict[str, list[PaymentSettledV1 | PaymentFailedV1]]:
    """Events per batch id: settled and failed records, at most MAX_RECORDS_PER_CHUNK per event, totals = records."""
    by_batch: dict[str, list[ChangedInstruction]] = defaultdict(list)
    for row in changed:
        by_batch[row.batch_id].append(row)
    out: dict[str, list[PaymentSettledV1 | PaymentFailedV1]] = {}
    for batch_id, rows in by_batch.items():
        rows.sort(key=lambda r: r.end_to_end_id)
        settled = [
            SettledRecord(
                end_to_end_id=r.end_to_end_id,
                record_id=r.record_id,
                person_key=r.person_key,
                name=r.name,
                id_number=r.id_number,
                program_code=r.program_code,
                period=r.period,
                town_code=r.town_code,
                village=r.village,
                amount_fen=r.amount_fen,
                settled_on=r.settled_on,  # settled rows always carry it
                bank_txn_id=r.bank_txn_id,
            )
            for r in rows
            if r.status == "settled"
        ]
        failed = [
            FailedRecord(
                end_to_end_id=r.end_to_end_id,
                record_id=r.record_id,
                person_key=r.person_key,
                program_code=r.program_code,
                period=r.period,
                amount_fen=r.amount_fen,
                reason_code=r.reason_code or "UNKNOWN",
                reason=r.reason or "",
            )
            for r in rows
            if r.status == "failed"
        ]
        events: list[PaymentSettledV1 | PaymentFailedV1] = []
        for part in _parts(settled):
            events.append(
                PaymentSettledV1(
                    batch_id=batch_id,
                    bank_code=bank_code,
                    totals=Totals(record_count=len(part), amount_fen=sum(r.amount_fen for r in part)),
                    records=list(part),
                )
            )
        for fpart in _parts(failed):
            events.append(
                PaymentFailedV1(
                    batch_id=batch_id,
                    bank_code=bank_code,
                    totals=Totals(record_count=len(fpart), amount_fen=sum(r.amount_fen for r in fpart)),
                    records=list(fpart),
                )
            )
        out[batch_id] = events
    return out
