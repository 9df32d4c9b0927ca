"""Use cases of the bank-gateway. They run inside the caller's transaction and never commit."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts.events import PaymentInstructedV1
from ykt_kit import outbox
from ykt_kit.actor import Actor, Role
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import Forbidden
from ykt_kit.masking import mask_account, mask_name
from ykt_kit.telemetry import continued, current_traceparent

from .adapters.db import repository as repo
from .domain.model import ApplyOutcome, BankResult
from .domain.rules import (
    ChangedInstruction,
    InstructionsRejected,
    check_bank_totals,
    check_chunk,
    result_events,
)

log = logging.getLogger(__name__)

SERVICE = "bank-gateway"
PII_NAME, PII_ID, PII_ACCOUNT = "name", "id_number", "account_no"


def pii_context(field: str, end_to_end_id: str) -> bytes:
    """Associated data binding a ciphertext to its column and row, so blobs cannot be swapped."""
    return f"{field}|{end_to_end_id}".encode()


@dataclass(frozen=True)
class InstructedOutcome:
    """What storing one payment.instructed chunk did."""

    inserted: int
    batch_complete: bool


async def record_instructed(
    session: AsyncSession, payload: PaymentInstructedV1, *, cipher: PiiCipher
) -> InstructedOutcome:
    """Store a chunk of instructions (idempotently) and, once every chunk of the (batch, bank) is in
    and the bank totals reconcile, release the batch to the dispatcher."""
    check_chunk(payload)
    header = await repo.add_bank_batch(
        session,
        {
            "batch_id": payload.batch_id,
            "bank_code": payload.bank_code,
            "unit_code": payload.unit_code,
            "program_code": payload.program_code,
            "period": payload.period,
            "chunk_count": payload.chunk.count,
            "declared_count": payload.bank_totals.record_count,
            "declared_amount_fen": payload.bank_totals.amount_fen,
            "traceparent": current_traceparent(),
        },
    )
    declared = (header.unit_code, header.program_code, header.period, header.chunk_count,
                header.declared_count, header.declared_amount_fen)  # fmt: skip
    carried = (payload.unit_code, payload.program_code, payload.period, payload.chunk.count,
               payload.bank_totals.record_count, payload.bank_totals.amount_fen)  # fmt: skip
    if declared != carried:
        raise InstructionsRejected(
            "CHUNK_HEADER_MISMATCH", "chunk disagrees with earlier chunks of the batch for this bank"
        )

    rows = []
    for ins in payload.instructions:
        e2e = ins.end_to_end_id
        rows.append(
            {
                "end_to_end_id": e2e,
                "record_id": ins.record_id,
                "batch_id": payload.batch_id,
                "bank_code": payload.bank_code,
                "unit_code": payload.unit_code,
                "program_code": payload.program_code,
                "period": payload.period,
                "person_key": ins.person_key,
                "name_enc": cipher.encrypt(ins.name, context=pii_context(PII_NAME, e2e)),
                "id_number_enc": cipher.encrypt(ins.id_number, context=pii_context(PII_ID, e2e)),
                "account_no_enc": cipher.encrypt(ins.account_no, context=pii_context(PII_ACCOUNT, e2e)),
                "amount_fen": ins.amount_fen,
                "town_code": ins.town_code,
                "village": ins.village,
                "status": "new",
                "attempts": 0,
            }
        )
    inserted = await repo.insert_instructions(session, rows)
    if inserted < len(rows):
        # some ids were stored before: fine for a re-sent chunk of this batch, not for another batch's ids
        same = await repo.count_same_instructions(
            session,
            batch_id=payload.batch_id,
            bank_code=payload.bank_code,
            ids=[i.end_to_end_id for i in payload.instructions],
            amounts=[i.amount_fen for i in payload.instructions],
        )
        if same != len(rows):
            raise InstructionsRejected(
                "END_TO_END_ID_REUSED",
                f"{len(rows) - same} end_to_end_ids already belong to other instructions",
            )

    if header.status == "complete":
        if inserted:
            raise InstructionsRejected(
                "BATCH_ALREADY_COMPLETE", "new instructions for a batch whose chunks are all in"
            )
        return InstructedOutcome(inserted=0, batch_complete=True)
    fresh_chunk = await repo.add_chunk(
        session,
        batch_id=payload.batch_id,
        bank_code=payload.bank_code,
        index=payload.chunk.index,
        record_count=payload.chunk.totals.record_count,
        amount_fen=payload.chunk.totals.amount_fen,
    )
    if not fresh_chunk and inserted:
        raise InstructionsRejected(
            "CHUNK_CONTENT_CHANGED", f"chunk {payload.chunk.index} came again with other instructions"
        )
    received = await repo.count_chunks(session, batch_id=payload.batch_id, bank_code=payload.bank_code)
    if received < header.chunk_count:
        return InstructedOutcome(inserted=inserted, batch_complete=False)
    count, amount = await repo.instruction_totals(
        session, batch_id=payload.batch_id, bank_code=payload.bank_code
    )
    check_bank_totals(payload.bank_totals, count, amount)
    await repo.mark_batch_complete(session, batch_id=payload.batch_id, bank_code=payload.bank_code)
    return InstructedOutcome(inserted=inserted, batch_complete=True)


async def apply_results(
    session: AsyncSession, *, bank_code: str, results: Sequence[BankResult], cipher: PiiCipher
) -> ApplyOutcome:
    """Record a bank's final results and write payment.settled / payment.failed for exactly the
    instructions that changed now: duplicates, unknown ids, other banks' ids and results whose
    amount differs from the instruction change nothing and emit nothing."""
    unique: dict[str, BankResult] = {}
    for r in results:
        if r.final:
            unique.setdefault(r.end_to_end_id, r)
    stored = {
        s.end_to_end_id: s
        for s in await repo.lock_for_results(session, bank_code=bank_code, ids=list(unique))
    }
    mismatched = [
        e2e for e2e, r in unique.items() if e2e in stored and stored[e2e].amount_fen != r.amount_fen
    ]
    if mismatched:
        log.warning(
            "bank results with an amount different from the instruction ignored",
            extra={"bank": bank_code, "count": len(mismatched), "end_to_end_ids": sorted(mismatched)[:20]},
        )
    candidates = [
        r
        for e2e, r in unique.items()
        if e2e in stored and stored[e2e].amount_fen == r.amount_fen and stored[e2e].status in ("new", "sent")
    ]
    changed_rows = await repo.record_results(session, bank_code=bank_code, results=candidates)
    changed = [
        ChangedInstruction(
            end_to_end_id=row.end_to_end_id,
            record_id=row.record_id,
            batch_id=row.batch_id,
            person_key=row.person_key,
            name=cipher.decrypt(row.name_enc, context=pii_context(PII_NAME, row.end_to_end_id)),
            id_number=cipher.decrypt(row.id_number_enc, context=pii_context(PII_ID, row.end_to_end_id)),
            program_code=row.program_code,
            period=row.period,
            town_code=row.town_code,
            village=row.village,
            amount_fen=int(row.amount_fen),
            status=row.status,
            reason_code=row.reason_code,
            reason=row.reason,
            bank_txn_id=row.bank_txn_id,
            settled_on=row.settled_on,
        )
        for row in changed_rows
    ]
    by_batch = result_events(bank_code, changed)
    stored_traces = await repo.traceparents(session, bank_code=bank_code, batch_ids=list(by_batch))
    for batch_id, events in by_batch.items():
        # the bank carries no trace context: the events continue the trace the instructions came with
        with continued(
            stored_traces.get(batch_id),
            "bank results",
            tracer_name="ykt.bank-gateway",
            batch_id=batch_id,
            bank=bank_code,
            records=sum(1 for c in changed if c.batch_id == batch_id),
        ):
            await outbox.add_events(session, events, producer=SERVICE, correlation_id=batch_id)
    settled = sum(1 for c in changed if c.status == "settled")
    return ApplyOutcome(
        accepted=len(changed),
        ignored=len(results) - len(changed),
        amount_mismatches=len(mismatched),
        settled=settled,
        failed=len(changed) - settled,
        failed_reasons=dict(Counter(c.reason_code or "UNKNOWN" for c in changed if c.status == "failed")),
    )


# ------------------------------------------------------------------ operators' view

_READ_ALL = (Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)
_READ_UNIT = (Role.DEPARTMENT, Role.TOWN)
BANK_ORG_PREFIX = "BANK-"


def scope_filter(
    actor: Actor, *, batch_id: str | None, bank_code: str | None, status: str | None
) -> repo.InstructionFilter:
    """The actor's data scope, narrowed by the requested filters: a bank sees its own instructions,
    a department or town the batches of its unit, finance/supervisors/admins everything."""
    if actor.role in _READ_ALL:
        return repo.InstructionFilter(batch_id=batch_id, bank_code=bank_code, status=status)
    if actor.role in _READ_UNIT:
        return repo.InstructionFilter(
            batch_id=batch_id, bank_code=bank_code, status=status, unit_code=actor.org_code
        )
    if actor.role == Role.BANK:
        if not actor.org_code.startswith(BANK_ORG_PREFIX):
            raise Forbidden("银行用户未关联银行", code="BANK_ORG_INVALID")
        own = actor.org_code[len(BANK_ORG_PREFIX) :]
        if bank_code is not None and bank_code != own:
            raise Forbidden("只能查看本行的支付指令", code="BANK_SCOPE")
        return repo.InstructionFilter(batch_id=batch_id, bank_code=own, status=status)
    raise Forbidden("当前角色无权查看支付指令", code="ROLE_FORBIDDEN", role=actor.role.value)


async def list_instructions(
    session: AsyncSession,
    *,
    actor: Actor,
    where: repo.InstructionFilter,
    page: int,
    page_size: int,
    cipher: PiiCipher,
) -> dict[str, Any]:
    """One page of instructions in the actor's scope; names and accounts masked."""
    rows, total = await repo.list_instructions(
        session, where=where, limit=page_size, offset=(page - 1) * page_size
    )
    items = [
        {
            "end_to_end_id": r.end_to_end_id,
            "record_id": r.record_id,
            "batch_id": r.batch_id,
            "bank_code": r.bank_code,
            "unit_code": r.unit_code,
            "program_code": r.program_code,
            "period": r.period,
            "name": mask_name(cipher.decrypt(r.name_enc, context=pii_context(PII_NAME, r.end_to_end_id))),
            "account_no": mask_account(
                cipher.decrypt(r.account_no_enc, context=pii_context(PII_ACCOUNT, r.end_to_end_id))
            ),
            "amount_fen": int(r.amount_fen),
            "town_code": r.town_code,
            "village": r.village,
            "status": r.status,
            "reason_code": r.reason_code,
            "reason": r.reason,
            "bank_txn_id": r.bank_txn_id,
            "settled_on": r.settled_on,
            "attempts": r.attempts,
            "sent_at": r.sent_at,
            "result_at": r.result_at,
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}
