"""Use cases of the payment service (steps 3-5). Each runs in its caller's transaction and never
commits; events go to the outbox through the `emit` it is given."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import Totals
from ykt_contracts.chunking import chunked, totals_of
from ykt_contracts.events import (
    BankFunding,
    BatchApprovedV1,
    BatchCompletedV1,
    BatchFundedV1,
    BatchReturnedV1,
    BatchSentV1,
    BatchValidatedV1,
    Instruction,
    PaymentFailedV1,
    PaymentInstructedV1,
    PaymentRecord,
    PaymentSettledV1,
    RecordReason,
)
from ykt_kit import masking
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import DomainError
from ykt_kit.messaging import PermanentError
from ykt_kit.outbox import add_events

from . import metrics
from .adapters.db import repository as repo
from .adapters.treasury import PaymentApplication, Treasury
from .config import Settings
from .domain.model import (
    BATCH_STATUS_ZH,
    DUPLICATE_PAYMENT,
    DUPLICATE_PAYMENT_REASON,
    RECHECK_ON_RECORDS,
    RETURNABLE,
    SENDABLE,
    BatchNotFound,
    BatchStatus,
    OrderStatus,
    Sums,
    TotalsChanged,
    UnknownRecords,
    WrongBatchState,
    readiness,
)

log = logging.getLogger(__name__)

SERVICE = "payment"
#: BatchFundedV1 carries at most this many banks.
MAX_BANKS = 16
#: The treasury takes application references of at most this many characters.
MAX_REF = 64

READERS = (Role.FINANCE, Role.SUPERVISOR, Role.ADMIN, Role.DEPARTMENT, Role.TOWN)
REVIEW_READERS = (Role.FINANCE, Role.SUPERVISOR, Role.ADMIN)
UNIT_SCOPED = (Role.DEPARTMENT, Role.TOWN)


class Emit(Protocol):
    """Writes events to the outbox in the current transaction (`EventContext.emit` is one)."""

    async def __call__(self, *payloads: BaseModel, correlation_id: str | None = None) -> None: ...


def outbox_emitter(session: AsyncSession) -> Emit:
    """An `Emit` for requests: events are correlated with the batch they concern."""

    async def emit(*payloads: BaseModel, correlation_id: str | None = None) -> None:
        if correlation_id is None:
            raise ValueError("correlation_id is required")
        await add_events(session, list(payloads), producer=SERVICE, correlation_id=correlation_id)

    return emit


@dataclass(frozen=True)
class FundingPlan:
    """What a funding request will ask of the treasury: one application per bank."""

    batch_id: str
    budget_doc_no: str
    payer_account: str
    banks: dict[str, Sums]


def _application_ref(batch_id: str, bank_code: str) -> str:
    """The treasury's idempotency key: one application per batch and bank."""
    return f"{batch_id}:{bank_code}"


def _totals(s: Sums) -> Totals:
    return Totals(record_count=s.record_count, amount_fen=s.amount_fen)


def _sums_dict(s: Sums) -> dict[str, int]:
    return {"record_count": s.record_count, "amount_fen": s.amount_fen}


def _aad(field: str, record_id: str) -> bytes:
    """Binds each ciphertext to its field and record, so that blobs cannot be swapped around."""
    return f"payment.orders.{field}:{record_id}".encode()


_EVENT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def _actor_id(actor: Actor) -> str:
    """The operator's id as events carry it (the contracts' ASCII identifier)."""
    if _EVENT_ID.fullmatch(actor.user_id) is None:
        raise DomainError(
            "操作人标识不符合要求（仅限字母、数字和._:-，最长64位）", code="ACTOR_ID_INVALID", status=422
        )
    return actor.user_id


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class PaymentService:
    """Review, funding, instructions and the settlement ledger."""

    def __init__(self, *, settings: Settings, cipher: PiiCipher, treasury: Treasury) -> None:
        self.settings = settings
        self.cipher = cipher
        self.treasury = treasury

    # ------------------------------------------------------------ step 2 → 3: records and sending

    async def record_validated(self, session: AsyncSession, p: BatchValidatedV1) -> None:
        """Keep the passing records of a chunk of verdicts as (immutable) payment orders."""
        batch = await self._batch_for_event(session, p)
        rows = [
            self._order_row(p, v.record) for v in p.verdicts if v.outcome == "pass" and v.record is not None
        ]
        inserted = await repo.insert_orders(session, rows)
        log.info(
            "validated records kept",
            extra={"batch_id": p.batch_id, "chunk": p.chunk.index, "passed": len(rows), "inserted": inserted},
        )
        if inserted and batch.status in RECHECK_ON_RECORDS:
            await self._check_readiness(session, batch)

    async def _batch_for_event(self, session: AsyncSession, p: BatchValidatedV1 | BatchSentV1) -> Row[Any]:
        """The batch an event names, created (collecting) if this is the first word of it, and
        locked: events of one batch on different topics may be handled concurrently."""
        created = await repo.ensure_batch(
            session,
            batch_id=p.batch_id,
            unit_code=p.unit_code,
            program_code=p.program_code,
            period=p.period,
            status=BatchStatus.COLLECTING,
        )
        if created:
            metrics.transition(BatchStatus.COLLECTING)
        batch = await repo.lock_batch(session, p.batch_id)
        assert batch is not None
        return batch

    def _order_row(self, p: BatchValidatedV1, r: PaymentRecord) -> dict[str, Any]:
        enc = self.cipher.encrypt
        return {
            "record_id": r.record_id,
            "batch_id": p.batch_id,
            "unit_code": p.unit_code,
            "program_code": p.program_code,
            "period": p.period,
            "person_key": r.person_key,
            "name_enc": enc(r.name, context=_aad("name", r.record_id)),
            "id_number_enc": enc(r.id_number, context=_aad("id_number", r.record_id)),
            "account_no_enc": enc(r.account_no, context=_aad("account_no", r.record_id)),
            "bank_code": r.bank_code,
            "amount_fen": r.amount_fen,
            "town_code": r.town_code,
            "village": r.village,
            "reissue_of_record_id": r.reissue_of_record_id,
            "status": OrderStatus.VALIDATED,
        }

    async def record_sent(self, session: AsyncSession, p: BatchSentV1) -> None:
        """The unit sent the batch: keep its declared totals and see whether review can start."""
        batch = await self._batch_for_event(session, p)
        if batch.status not in SENDABLE:
            log.warning("batch.sent ignored", extra={"batch_id": p.batch_id, "status": batch.status})
            return
        await repo.set_batch(
            session,
            p.batch_id,
            sent_count=p.totals.record_count,
            sent_amount_fen=p.totals.amount_fen,
            sent_by=p.sent_by,
        )
        await self._check_readiness(session, await self._batch_for_event(session, p))

    async def _check_readiness(self, session: AsyncSession, batch: Row[Any]) -> None:
        """Compare the orders held with the declared totals of a sent (and locked) batch."""
        held = await repo.order_sums(session, batch.batch_id)
        status = readiness(held, Sums(batch.sent_count, batch.sent_amount_fen))
        if status != batch.status:
            await repo.set_batch(session, batch.batch_id, status=status)
            metrics.transition(status)
        log.info(
            "batch readiness",
            extra={
                "batch_id": batch.batch_id,
                "status": status.value,
                "held": held.record_count,
                "sent": batch.sent_count,
            },
        )

    # ------------------------------------------------------------ step 3: reads for reviewers and units

    def _visible(self, actor: Actor, batch: Row[Any] | None, batch_id: str) -> Row[Any]:
        if batch is None or (actor.role in UNIT_SCOPED and batch.unit_code != actor.org_code):
            raise BatchNotFound(batch_id)
        return batch

    async def list_reviews(
        self, session: AsyncSession, actor: Actor, *, status: BatchStatus, limit: int, offset: int
    ) -> dict[str, Any]:
        require(actor, *REVIEW_READERS)
        rows, total = await repo.list_batches(
            session, status=status, unit_code=None, limit=limit, offset=offset
        )
        banks = await repo.bank_breakdown(session, [r.batch_id for r in rows])
        items = []
        for r in rows:
            per_bank = banks[r.batch_id]
            items.append(
                {
                    **self._summary(r),
                    "orders": {
                        "record_count": sum(b["records"] for b in per_bank.values()),
                        "amount_fen": sum(b["amount_fen"] for b in per_bank.values()),
                    },
                    "banks": per_bank,
                }
            )
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    def _summary(self, b: Row[Any]) -> dict[str, Any]:
        return {
            "batch_id": b.batch_id,
            "unit_code": b.unit_code,
            "program_code": b.program_code,
            "period": b.period,
            "status": b.status,
            "status_name": BATCH_STATUS_ZH.get(b.status, b.status),
            "sent": None
            if b.sent_count is None
            else {"record_count": int(b.sent_count), "amount_fen": int(b.sent_amount_fen)},
            "sent_by": b.sent_by,
            "approved_by": b.approved_by,
            "returned_by": b.returned_by,
            "return_reason": b.return_reason,
            "budget_doc_no": b.budget_doc_no,
            "created_at": _iso(b.created_at),
            "updated_at": _iso(b.updated_at),
        }

    async def batch_view(self, session: AsyncSession, actor: Actor, batch_id: str) -> dict[str, Any]:
        require(actor, *READERS)
        batch = self._visible(actor, await repo.get_batch(session, batch_id), batch_id)
        counts = await repo.status_counts(session, batch_id)
        held = Sums(sum(s.record_count for s in counts.values()), sum(s.amount_fen for s in counts.values()))
        return {
            **self._summary(batch),
            "orders": _sums_dict(held),
            "order_status": {status: _sums_dict(s) for status, s in sorted(counts.items())},
            "banks": await repo.bank_detail(session, batch_id),
        }

    async def list_orders(
        self,
        session: AsyncSession,
        actor: Actor,
        batch_id: str,
        *,
        status: OrderStatus | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """Orders of a batch with personal data masked: every reader here sees masks only."""
        require(actor, *READERS)
        self._visible(actor, await repo.get_batch(session, batch_id), batch_id)
        rows, total = await repo.list_orders(session, batch_id, status=status, limit=limit, offset=offset)
        dec = self.cipher.decrypt
        items = [
            {
                "record_id": r.record_id,
                "name_masked": masking.mask_name(dec(r.name_enc, context=_aad("name", r.record_id))),
                "id_number_masked": masking.mask_id(
                    dec(r.id_number_enc, context=_aad("id_number", r.record_id))
                ),
                "account_no_masked": masking.mask_account(
                    dec(r.account_no_enc, context=_aad("account_no", r.record_id))
                ),
                "bank_code": r.bank_code,
                "amount_fen": int(r.amount_fen),
                "town_code": r.town_code,
                "village": r.village,
                "reissue_of_record_id": r.reissue_of_record_id,
                "status": r.status,
                "reason_code": r.reason_code,
                "reason": r.reason,
            }
            for r in rows
        ]
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    # ------------------------------------------------------------ step 3: finance's review

    async def approve(
        self, session: AsyncSession, actor: Actor, batch_id: str, *, emit: Emit
    ) -> dict[str, Any]:
        require(actor, Role.FINANCE)
        user_id = _actor_id(actor)
        batch = await repo.lock_batch(session, batch_id)
        if batch is None:
            raise BatchNotFound(batch_id)
        if batch.status != BatchStatus.PENDING_REVIEW:
            raise WrongBatchState(batch.status, "复核通过")
        await repo.set_batch(session, batch_id, status=BatchStatus.APPROVED, approved_by=user_id)
        await emit(
            BatchApprovedV1(
                batch_id=batch_id,
                totals=Totals(record_count=batch.sent_count, amount_fen=batch.sent_amount_fen),
                approved_by=user_id,
            ),
            correlation_id=batch_id,
        )
        metrics.transition(BatchStatus.APPROVED)
        log.info("batch approved", extra={"batch_id": batch_id})
        return await self.batch_view(session, actor, batch_id)

    async def return_batch(
        self,
        session: AsyncSession,
        actor: Actor,
        batch_id: str,
        *,
        reason: str,
        record_reasons: list[tuple[str, str]],
        emit: Emit,
    ) -> dict[str, Any]:
        require(actor, Role.FINANCE)
        user_id = _actor_id(actor)
        batch = await repo.lock_batch(session, batch_id)
        if batch is None:
            raise BatchNotFound(batch_id)
        if batch.status not in RETURNABLE:
            raise WrongBatchState(batch.status, "退回")
        named = {record_id for record_id, _ in record_reasons}
        unknown = named - await repo.existing_record_ids(session, batch_id, named)
        if unknown:
            raise UnknownRecords("退回原因中含有不属于本批次的记录", record_ids=sorted(unknown)[:20])
        await repo.set_batch(
            session, batch_id, status=BatchStatus.RETURNED, returned_by=user_id, return_reason=reason
        )
        await emit(
            BatchReturnedV1(
                batch_id=batch_id,
                returned_by=user_id,
                reason=reason,
                record_reasons=[RecordReason(record_id=i, reason=r) for i, r in record_reasons],
            ),
            correlation_id=batch_id,
        )
        metrics.transition(BatchStatus.RETURNED)
        log.info("batch returned", extra={"batch_id": batch_id, "named_records": len(named)})
        return await self.batch_view(session, actor, batch_id)

    # ------------------------------------------------------------ step 4: funding and instructions

    async def plan_funding(
        self,
        session: AsyncSession,
        actor: Actor,
        batch_id: str,
        *,
        budget_doc_no: str,
        payer_account: str | None,
    ) -> FundingPlan:
        """Check that the unit may fund this approved batch and what each bank is to receive."""
        require(actor, *UNIT_SCOPED)
        batch = self._visible(actor, await repo.get_batch(session, batch_id), batch_id)
        if batch.status != BatchStatus.APPROVED:
            raise WrongBatchState(batch.status, "申请拨付资金")
        held = await repo.order_sums(session, batch_id, status=[OrderStatus.VALIDATED])
        if held != Sums(batch.sent_count, batch.sent_amount_fen):
            raise TotalsChanged("批次支付数据与复核时的汇总数不一致，不能拨付", batch_id=batch_id)
        banks = await repo.bank_sums(session, batch_id, status=OrderStatus.VALIDATED)
        if len(banks) > MAX_BANKS:
            raise DomainError(f"一个批次的代发银行不能超过{MAX_BANKS}家", code="TOO_MANY_BANKS", status=422)
        if any(len(_application_ref(batch_id, bank)) > MAX_REF for bank in banks):
            raise DomainError("银行代码过长，无法生成支付申请编号", code="BANK_CODE_TOO_LONG", status=422)
        return FundingPlan(
            batch_id=batch_id,
            budget_doc_no=budget_doc_no,
            payer_account=payer_account or self.settings.payer_account,
            banks=banks,
        )

    def applications(self, plan: FundingPlan) -> list[PaymentApplication]:
        return [
            PaymentApplication(
                application_ref=_application_ref(plan.batch_id, bank),
                budget_doc_no=plan.budget_doc_no,
                payer_account=plan.payer_account,
                payee_bank_code=bank,
                payee_account=self.settings.special_account(bank),
                amount_fen=s.amount_fen,
            )
            for bank, s in plan.banks.items()
        ]

    async def fund_at_treasury(self, plan: FundingPlan) -> dict[str, str]:
        """Ask the treasury to pay each bank's special account; bank code → voucher number.

        Called outside any transaction. The treasury is idempotent by application reference,
        so a request repeated after a partial failure pays nobody twice."""
        vouchers = {}
        for application in self.applications(plan):
            vouchers[application.payee_bank_code] = await self.treasury.pay(application)
        log.info("treasury paid", extra={"batch_id": plan.batch_id, "banks": len(vouchers)})
        return vouchers

    async def record_funding(
        self, session: AsyncSession, actor: Actor, plan: FundingPlan, vouchers: dict[str, str], *, emit: Emit
    ) -> dict[str, Any]:
        """In one transaction: record the funding, then instruct the banks (ledger claimed)."""
        batch_id = plan.batch_id
        batch = self._visible(actor, await repo.lock_batch(session, batch_id), batch_id)
        if batch.status != BatchStatus.APPROVED:
            raise WrongBatchState(batch.status, "申请拨付资金")
        if await repo.bank_sums(session, batch_id, status=OrderStatus.VALIDATED) != plan.banks:
            raise TotalsChanged("批次支付数据在拨付过程中发生变化，请重新申请", batch_id=batch_id)
        await repo.insert_funding(
            session,
            batch_id,
            [
                {"bank_code": b, "funded_fen": s.amount_fen, "voucher_no": vouchers[b]}
                for b, s in plan.banks.items()
            ],
        )
        await repo.set_batch(session, batch_id, status=BatchStatus.FUNDED, budget_doc_no=plan.budget_doc_no)
        await emit(
            BatchFundedV1(
                batch_id=batch_id,
                budget_doc_no=plan.budget_doc_no,
                funding=[
                    BankFunding(bank_code=b, amount_fen=s.amount_fen, voucher_no=vouchers[b])
                    for b, s in plan.banks.items()
                ],
            ),
            correlation_id=batch_id,
        )
        metrics.transition(BatchStatus.FUNDED)
        instructed, blocked = await self._instruct(session, batch, emit=emit)
        await repo.set_batch(session, batch_id, status=BatchStatus.INSTRUCTED)
        metrics.transition(BatchStatus.INSTRUCTED)
        log.info(
            "batch instructed",
            extra={
                "batch_id": batch_id,
                "instructed": instructed.record_count,
                "blocked": blocked.record_count,
            },
        )
        await self._complete_if_done(session, batch, emit=emit)
        return {
            **await self.batch_view(session, actor, batch_id),
            "instructed": _sums_dict(instructed),
            "blocked": _sums_dict(blocked),
        }

    async def _instruct(self, session: AsyncSession, batch: Row[Any], *, emit: Emit) -> tuple[Sums, Sums]:
        batch_id = batch.batch_id
        await repo.claim_ledger(session, batch_id)
        per_bank = await repo.mark_claimed_instructed(session, batch_id)
        blocked = await repo.mark_unclaimed_blocked(
            session, batch_id, code=DUPLICATE_PAYMENT, reason=DUPLICATE_PAYMENT_REASON
        )
        raised = await repo.raise_instructed(
            session, batch_id, {b: s.amount_fen for b, s in per_bank.items()}
        )
        if raised != len(per_bank):
            # every bank instructed was funded just before, in this transaction: this is a bug
            raise RuntimeError("instructed a bank that has no funding row")
        by_bank: dict[str, list[Instruction]] = defaultdict(list)
        for r in await repo.orders_in_status(session, batch_id, OrderStatus.INSTRUCTED):
            by_bank[r.bank_code].append(self._instruction(r))
        events = []
        for bank, instructions in sorted(by_bank.items()):
            bank_totals = totals_of(instructions, lambda i: i.amount_fen)
            for chunk, part in chunked(instructions, lambda i: i.amount_fen):
                events.append(
                    PaymentInstructedV1(
                        batch_id=batch_id,
                        unit_code=batch.unit_code,
                        program_code=batch.program_code,
                        period=batch.period,
                        bank_code=bank,
                        bank_totals=bank_totals,
                        chunk=chunk,
                        instructions=list(part),
                    )
                )
        if events:
            await emit(*events, correlation_id=batch_id)
        instructed = Sums(
            sum(s.record_count for s in per_bank.values()), sum(s.amount_fen for s in per_bank.values())
        )
        metrics.records("instructed", instructed)
        metrics.records("blocked", blocked)
        return instructed, blocked

    def _instruction(self, r: Row[Any]) -> Instruction:
        dec = self.cipher.decrypt
        return Instruction(
            end_to_end_id=r.record_id,
            record_id=r.record_id,
            person_key=r.person_key,
            name=dec(r.name_enc, context=_aad("name", r.record_id)),
            id_number=dec(r.id_number_enc, context=_aad("id_number", r.record_id)),
            account_no=dec(r.account_no_enc, context=_aad("account_no", r.record_id)),
            amount_fen=int(r.amount_fen),
            town_code=r.town_code,
            village=r.village,
        )

    # ------------------------------------------------------------ step 5: the banks' results

    async def apply_settled(self, session: AsyncSession, p: PaymentSettledV1, *, emit: Emit) -> None:
        _check_totals(p.totals, totals_of(p.records, lambda r: r.amount_fen))
        batch = await repo.lock_batch(session, p.batch_id)
        if batch is None:
            log.warning("settlement for an unknown batch ignored", extra={"batch_id": p.batch_id})
            return
        done = await repo.settle(session, p.batch_id, p.bank_code, [r.record_id for r in p.records])
        metrics.records("settled", done)
        self._log_results("settled", p.batch_id, len(p.records), done)
        await self._complete_if_done(session, batch, emit=emit)

    async def apply_failed(self, session: AsyncSession, p: PaymentFailedV1, *, emit: Emit) -> None:
        _check_totals(p.totals, totals_of(p.records, lambda r: r.amount_fen))
        batch = await repo.lock_batch(session, p.batch_id)
        if batch is None:
            log.warning("failures for an unknown batch ignored", extra={"batch_id": p.batch_id})
            return
        done = await repo.fail(
            session, p.batch_id, p.bank_code, [(r.record_id, r.reason_code, r.reason) for r in p.records]
        )
        metrics.records("failed", done)
        self._log_results("failed", p.batch_id, len(p.records), done)
        await self._complete_if_done(session, batch, emit=emit)

    @staticmethod
    def _log_results(outcome: str, batch_id: str, reported: int, done: Sums) -> None:
        extra = {"batch_id": batch_id, "outcome": outcome, "reported": reported, "applied": done.record_count}
        if done.record_count != reported:
            log.warning("bank results partly ignored (not instructed here, or already final)", extra=extra)
        else:
            log.info("bank results applied", extra=extra)

    async def _complete_if_done(self, session: AsyncSession, batch: Row[Any], *, emit: Emit) -> None:
        """Once no order is left instructed, the instructed batch completes, exactly once."""
        batch_id = batch.batch_id
        if (await repo.order_sums(session, batch_id, status=[OrderStatus.INSTRUCTED])).record_count:
            return
        if not await repo.set_batch(
            session, batch_id, only_from=[BatchStatus.INSTRUCTED], status=BatchStatus.COMPLETED
        ):
            return
        settled = await repo.order_sums(session, batch_id, status=[OrderStatus.SETTLED])
        failed = await repo.order_sums(session, batch_id, status=[OrderStatus.FAILED])
        instructed = Sums(settled.record_count + failed.record_count, settled.amount_fen + failed.amount_fen)
        await emit(
            BatchCompletedV1(
                batch_id=batch_id,
                unit_code=batch.unit_code,
                program_code=batch.program_code,
                period=batch.period,
                instructed=_totals(instructed),
                settled=_totals(settled),
                failed=_totals(failed),
            ),
            correlation_id=batch_id,
        )
        metrics.transition(BatchStatus.COMPLETED)
        log.info(
            "batch completed",
            extra={"batch_id": batch_id, "settled": settled.record_count, "failed": failed.record_count},
        )


def _check_totals(declared: Totals, actual: Totals) -> None:
    """A message whose declared totals disagree with its own records is corrupt: dead-letter it."""
    if declared != actual:
        raise PermanentError(
            f"declared totals {declared.record_count}/{declared.amount_fen} != records "
            f"{actual.record_count}/{actual.amount_fen}"
        )
