"""Registry use cases. They work inside the caller's transaction and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import (
    BatchSentV1,
    Totals,
)
from ykt_kit import masking
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import NotFound
from ykt_kit.metrics import RECORDS
from ykt_kit.outbox import add_events

from . import batches
from .adapters.api.schemas import BatchIn, CorrectionIn
from .adapters.db import repository as repo
from .domain.model import (
    BATCH_STATUS_ZH,
    BatchStatus,
    InvalidRecords,
    OutOfScope,
    RecordStatus,
    RowError,
    WrongState,
)

SERVICE = "registry"
UNIT_ROLES = (Role.DEPARTMENT, Role.TOWN)
READ_ALL_ROLES = (Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)


def unit_scope(actor: Actor) -> str | None:
    """The unit whose batches the actor may see; None = all units (read-only roles)."""
    if actor.role in READ_ALL_ROLES:
        return None
    if actor.role in UNIT_ROLES:
        return actor.org_code
    raise OutOfScope("当前角色无权查看发放批次")


# ------------------------------------------------------------------ batches


async def submit_batch(
    session: AsyncSession, actor: Actor, body: BatchIn, cipher: PiiCipher
) -> dict[str, Any]:
    """Step 1 (提交数据) through the JSON API (small batches); files go to `batches.submit`."""
    return await batches.submit(session, actor, batches.submission_of_body(body), cipher)


async def _scoped_batch(session: AsyncSession, actor: Actor, batch_id: str, *, lock: bool = False) -> Any:
    row = await repo.batch(session, batch_id, unit=unit_scope(actor), lock=lock)
    if row is None:
        raise NotFound("批次不存在或不在本单位权限范围内", code="BATCH_NOT_FOUND")
    return row


async def batch_view(session: AsyncSession, actor: Actor, batch_id: str) -> dict[str, Any]:
    b = await _scoped_batch(session, actor, batch_id)
    counts = await repo.counts_by_status(session, batch_id)
    return {
        "batch_id": b.batch_id,
        "unit_code": b.unit_code,
        "unit_batch_no": b.unit_batch_no,
        "program_code": b.program_code,
        "period": b.period,
        "status": b.status,
        "status_zh": BATCH_STATUS_ZH.get(b.status, b.status),
        "round": b.current_round,
        "declared": {"record_count": b.declared_count, "amount_fen": b.declared_amount_fen},
        "records_by_status": {
            s: {"record_count": n, "amount_fen": a} for s, (n, a) in sorted(counts.items())
        },
        "reissue_of_batch_id": b.reissue_of_batch_id,
        "publication_path": b.publication_path,
        "file": {
            "sha256": b.file_sha256,
            "format": b.file_format,
            "name": b.file_name,
            "bytes": b.file_bytes,
        },
        "created_at": b.created_at.isoformat() if b.created_at else None,
    }


async def batch_history(session: AsyncSession, actor: Actor, batch_id: str) -> list[dict[str, Any]]:
    """The batch's lifecycle: every change of status, with its moment."""
    await _scoped_batch(session, actor, batch_id)
    return [
        {
            "status": h.status,
            "status_zh": BATCH_STATUS_ZH.get(h.status, h.status),
            "from_status": h.from_status,
            "round": h.round,
            "at": h.at.isoformat(),
        }
        for h in await repo.history(session, batch_id)
    ]


async def list_batches(
    session: AsyncSession, actor: Actor, *, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await repo.batches(session, unit=unit_scope(actor), status=status, limit=limit, offset=offset)
    return [
        {
            "batch_id": b.batch_id,
            "unit_code": b.unit_code,
            "unit_batch_no": b.unit_batch_no,
            "program_code": b.program_code,
            "period": b.period,
            "status": b.status,
            "status_zh": BATCH_STATUS_ZH.get(b.status, b.status),
            "declared": {"record_count": b.declared_count, "amount_fen": b.declared_amount_fen},
            "reissue_of_batch_id": b.reissue_of_batch_id,
        }
        for b in rows
    ]


async def list_records(
    session: AsyncSession,
    actor: Actor,
    batch_id: str,
    cipher: PiiCipher,
    *,
    status: str | None,
    limit: int,
    offset: int,
    after_seq: int | None = None,
) -> list[dict[str, Any]]:
    """A page of the batch's records (masked), by `offset` or, for deep pages, after `after_seq`."""
    await _scoped_batch(session, actor, batch_id)
    rows = await repo.records(
        session,
        batch_id,
        status=[status] if status else None,
        limit=limit,
        offset=offset,
        after_seq=after_seq,
    )
    return [
        {
            "record_id": r.record_id,
            "seq": r.seq,
            "name": masking.mask_name(r.name),
            "id_number": masking.mask_id(cipher.decrypt(r.id_number_enc)),
            "account_no": "*" * 12 + r.account_tail,
            "bank_code": r.bank_code,
            "amount_fen": r.amount_fen,
            "quantity": str(r.quantity) if r.quantity is not None else None,
            "town_code": r.town_code,
            "village": r.village,
            "round": r.round,
            "status": r.status,
            "code": r.code,
            "message": r.message,
            "reissue_of_record_id": r.reissue_of_record_id,
        }
        for r in rows
    ]


async def correct_record(
    session: AsyncSession, actor: Actor, batch_id: str, record_id: str, body: CorrectionIn, cipher: PiiCipher
) -> dict[str, Any]:
    """Fix a record that validation rejected or the bank failed; it goes through validation again."""
    require(actor, *UNIT_ROLES)
    b = await _scoped_batch(session, actor, batch_id, lock=True)
    r = await repo.record(session, batch_id, record_id)
    if r is None:
        raise NotFound("记录不存在", code="RECORD_NOT_FOUND")
    if r.status not in (RecordStatus.REJECTED, RecordStatus.FAILED, RecordStatus.CORRECTED):
        raise WrongState("只有校验未通过或发放失败的记录可以修正", status_now=r.status)
    if r.status == RecordStatus.REJECTED and b.status != BatchStatus.NEEDS_CORRECTION:
        raise WrongState("批次当前状态不允许修正记录", status_now=b.status)
    values: dict[str, Any] = {"status": RecordStatus.CORRECTED, "code": None, "message": None}
    if body.id_number is not None:
        values["id_number_enc"] = cipher.encrypt(body.id_number.upper())
        values["person_key"] = cipher.blind_index(body.id_number)
    if body.account_no is not None:
        values["account_no_enc"] = cipher.encrypt(body.account_no)
        values["account_tail"] = body.account_no[-4:]
    for field in ("name", "bank_code", "amount_fen", "village"):
        v = getattr(body, field)
        if v is not None:
            values[field] = v
    if body.bank_code is not None and body.bank_code not in await repo.bank_codes(session):
        raise InvalidRecords(
            "代发银行不存在",
            errors=[RowError(r.seq, "bank_code", "BANK_UNKNOWN", "代发银行不存在").as_dict()],
        )
    await repo.update_record(session, record_id, **values)
    return {"record_id": record_id, "status": RecordStatus.CORRECTED}


async def withdraw_record(
    session: AsyncSession, actor: Actor, batch_id: str, record_id: str
) -> dict[str, Any]:
    """Take a rejected record out of the batch (it will not be paid in this batch)."""
    require(actor, *UNIT_ROLES)
    b = await _scoped_batch(session, actor, batch_id, lock=True)
    r = await repo.record(session, batch_id, record_id)
    if r is None:
        raise NotFound("记录不存在", code="RECORD_NOT_FOUND")
    if (
        r.status not in (RecordStatus.REJECTED, RecordStatus.CORRECTED)
        or b.status != BatchStatus.NEEDS_CORRECTION
    ):
        raise WrongState("只有待修正批次中未通过校验的记录可以撤回", status_now=r.status)
    await repo.update_record(session, record_id, status=RecordStatus.WITHDRAWN)
    await _settle_validation_state(session, batch_id)
    return {"record_id": record_id, "status": RecordStatus.WITHDRAWN}


async def resubmit(session: AsyncSession, actor: Actor, batch_id: str, cipher: PiiCipher) -> dict[str, Any]:
    """Send the corrected records (only those) through validation again, as a new round."""
    require(actor, *UNIT_ROLES)
    b = await _scoped_batch(session, actor, batch_id, lock=True)
    if b.status != BatchStatus.NEEDS_CORRECTION:
        raise WrongState("只有待修正的批次可以重新提交", status_now=b.status)
    round_ = b.current_round + 1
    if not await repo.start_round_for_corrected(session, batch_id, round_):
        raise WrongState("没有已修正的记录可提交")
    await repo.set_batch(session, batch_id, status=BatchStatus.VALIDATING, current_round=round_)
    await batches.emit_round(
        session,
        batch_id=batch_id,
        unit=b.unit_code,
        unit_batch_no=b.unit_batch_no,
        program_code=b.program_code,
        period=b.period,
        round_=round_,
        reissue_of=b.reissue_of_batch_id,
        cipher=cipher,
    )
    return await batch_view(session, actor, batch_id)


async def send(session: AsyncSession, actor: Actor, batch_id: str) -> dict[str, Any]:
    """Step 3 (发送数据): the unit sends its validated batch to finance and the agent bank."""
    require(actor, *UNIT_ROLES)
    b = await _scoped_batch(session, actor, batch_id, lock=True)
    if b.status != BatchStatus.VALIDATED:
        raise WrongState("批次须全部校验通过（或撤回未通过记录）后才能发送", status_now=b.status)
    counts = await repo.counts_by_status(session, batch_id)
    n, amount = counts.get(RecordStatus.PASSED, (0, 0))
    if n == 0:
        raise WrongState("批次没有可发放的记录")
    await repo.set_batch(session, batch_id, status=BatchStatus.SENT)
    await add_events(
        session,
        [
            BatchSentV1(
                batch_id=batch_id,
                unit_code=b.unit_code,
                program_code=b.program_code,
                period=b.period,
                totals=Totals(record_count=n, amount_fen=amount),
                sent_by=actor.user_id,
            )
        ],
        producer=SERVICE,
        correlation_id=batch_id,
    )
    return await batch_view(session, actor, batch_id)


async def reissue(session: AsyncSession, actor: Actor, batch_id: str, cipher: PiiCipher) -> dict[str, Any]:
    """Step 5 (重新发放): corrected failures become a new batch linked to the original."""
    require(actor, *UNIT_ROLES)
    b = await _scoped_batch(session, actor, batch_id, lock=True)
    if b.status not in (BatchStatus.COMPLETED, BatchStatus.DISCLOSED):
        raise WrongState("银行反馈完成后才能重新发放失败记录", status_now=b.status)
    k = await repo.count_reissues(session, batch_id) + 1
    new_id = str(uuid.uuid4())
    unit_batch_no = f"{b.unit_batch_no}-R{k}"
    await repo.insert_batch(
        session,
        {
            "batch_id": new_id,
            "unit_code": b.unit_code,
            "unit_batch_no": unit_batch_no,
            "content_hash": "",
            "program_code": b.program_code,
            "period": b.period,
            "status": BatchStatus.SUBMITTED,
            "current_round": 1,
            "declared_count": 0,
            "declared_amount_fen": 0,
            "reissue_of_batch_id": batch_id,
            "created_by": actor.user_id,
        },
    )
    n, total, digest = await repo.copy_corrected_into(session, batch_id, new_id)
    if n == 0:
        raise WrongState("没有已修正的发放失败记录")
    await repo.add_history(session, new_id, BatchStatus.SUBMITTED, from_status=None, round_=1)
    await repo.set_batch(session, new_id, content_hash=digest, declared_count=n, declared_amount_fen=total)
    await repo.set_status_of_batch(
        session, batch_id, RecordStatus.REISSUED, only_from=[RecordStatus.CORRECTED]
    )
    await batches.emit_round(
        session,
        batch_id=new_id,
        unit=b.unit_code,
        unit_batch_no=unit_batch_no,
        program_code=b.program_code,
        period=b.period,
        round_=1,
        reissue_of=batch_id,
        cipher=cipher,
        totals=(n, total),
    )
    await repo.set_batch(session, new_id, status=BatchStatus.VALIDATING)
    RECORDS.labels(SERVICE, "intake", "reissued").inc(n)
    return await batch_view(session, actor, new_id)


async def _settle_validation_state(session: AsyncSession, batch_id: str) -> None:
    """After verdicts or a withdrawal: validated when nothing is left to fix, else needs_correction."""
    counts = await repo.counts_by_status(session, batch_id)
    open_ = sum(
        counts.get(s, (0, 0))[0]
        for s in (RecordStatus.REJECTED, RecordStatus.CORRECTED, RecordStatus.SUBMITTED)
    )
    await repo.set_batch(
        session,
        batch_id,
        only_from=[BatchStatus.VALIDATING, BatchStatus.NEEDS_CORRECTION],
        status=BatchStatus.NEEDS_CORRECTION if open_ else BatchStatus.VALIDATED,
    )


# ------------------------------------------------------------------ what the other steps report


async def apply_verdicts(session: AsyncSession, payload: Any) -> None:
    """batch.validated: record each verdict; when the round is complete, settle the batch state."""
    b = await repo.batch(session, payload.batch_id, unit=None, lock=True)
    if b is None or payload.round != b.current_round:
        return  # a late chunk of a superseded round changes nothing
    updates = [
        (
            v.record_id,
            RecordStatus.PASSED if v.outcome == "pass" else RecordStatus.REJECTED,
            v.code,
            v.message,
        )
        for v in payload.verdicts
    ]
    await repo.set_record_states(session, updates, only_from=[RecordStatus.SUBMITTED])
    passed = [v for v in payload.verdicts if v.outcome == "pass"]
    RECORDS.labels(SERVICE, "verdicts", "passed").inc(len(passed))
    RECORDS.labels(SERVICE, "verdicts", "rejected").inc(len(payload.verdicts) - len(passed))
    done = await repo.mark_chunk_done(session, payload.batch_id, payload.round, payload.chunk.index)
    if done >= payload.chunk.count:
        await _settle_validation_state(session, payload.batch_id)


async def mark_batch(
    session: AsyncSession, batch_id: str, status: BatchStatus, *, only_from: Sequence[str], **values: Any
) -> None:
    await repo.set_batch(session, batch_id, only_from=only_from, status=status, **values)


async def apply_returned(session: AsyncSession, payload: Any) -> None:
    """batch.returned: back to the unit, with finance's reasons on the named records."""
    await repo.set_batch(session, payload.batch_id, only_from=[BatchStatus.SENT], status=BatchStatus.RETURNED)
    await repo.set_record_states(
        session, [(rr.record_id, RecordStatus.PASSED, "RETURNED", rr.reason) for rr in payload.record_reasons]
    )


async def apply_settled(session: AsyncSession, payload: Any) -> None:
    ids = [r.record_id for r in payload.records]
    await repo.set_status_for(session, ids, RecordStatus.SETTLED, only_from=[RecordStatus.PASSED])
    await _maybe_complete(session, payload.batch_id)


async def apply_failed(session: AsyncSession, payload: Any) -> None:
    await repo.set_record_states(
        session,
        [(r.record_id, RecordStatus.FAILED, r.reason_code, r.reason) for r in payload.records],
        only_from=[RecordStatus.PASSED],
    )
    await _maybe_complete(session, payload.batch_id)


async def apply_completed(session: AsyncSession, payload: Any) -> None:
    """batch.completed: payment says every instructed record has a result; registry completes
    the batch once it holds those results itself (they travel on other topics, in any order)."""
    expected = payload.settled.record_count + payload.failed.record_count
    await repo.set_batch(session, payload.batch_id, expected_results=expected)
    await _maybe_complete(session, payload.batch_id)


async def apply_published(session: AsyncSession, payload: Any) -> None:
    """disclosure.published: remembered at once, shown as disclosed once the batch is complete."""
    await repo.set_batch(session, payload.batch_id, publication_path=payload.path)
    await _maybe_complete(session, payload.batch_id)


async def _maybe_complete(session: AsyncSession, batch_id: str) -> None:
    b = await repo.batch(session, batch_id, unit=None, lock=True)
    if b is None or b.expected_results is None:
        return
    if b.status in (BatchStatus.COMPLETED, BatchStatus.DISCLOSED):
        if b.status == BatchStatus.COMPLETED and b.publication_path:
            await repo.set_batch(session, batch_id, status=BatchStatus.DISCLOSED)
        return
    if b.status not in (BatchStatus.APPROVED, BatchStatus.FUNDED):
        return
    counts = await repo.counts_by_status(session, batch_id)
    held = sum(counts.get(s, (0, 0))[0] for s in (RecordStatus.SETTLED, RecordStatus.FAILED))
    if held >= b.expected_results:
        status = BatchStatus.DISCLOSED if b.publication_path else BatchStatus.COMPLETED
        await repo.set_batch(session, batch_id, status=status)
