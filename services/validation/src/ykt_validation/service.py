"""Use cases of the validation service. Each runs inside the caller's transaction and never commits;
everything is done per chunk, set-wise: a few statements per chunk, none per record."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import ChunkInfo
from ykt_contracts.chunking import totals_of
from ykt_contracts.events import (
    BatchReturnedV1,
    BatchSubmittedV1,
    BatchValidatedV1,
    PaymentFailedV1,
    PaymentRecord,
    RecordVerdict,
)
from ykt_kit.metrics import AMOUNT_FEN, RECORDS

from .adapters.db.registers import memberships, register_versions
from .adapters.db.repository import NewVerdict, Repository, VerdictRow
from .domain.enjoyment import (
    DUPLICATE,
    Resolution,
    excluded_by,
    exclusion_pairs,
    first_per_person,
    resolve,
    resolve_exclusion,
)
from .domain.registers import Memberships, RegisterImportRef, RegisterKind
from .domain.rules import CURRENT, PASS, Decision, RuleContext, RuleSet
from .metrics import LEDGER_RELEASES, REJECTIONS, WARNINGS_PASSED

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ykt.validation")

SERVICE = "validation"
STAGE = "validation"
# China keeps UTC+8 all year; a fixed offset needs no tz database in the container image.
CHINA = timezone(timedelta(hours=8), "CST")
#: Tries at claiming a key whose holder was released between our insert and our look-up.
MAX_CLAIM_ATTEMPTS = 5


class Emit(Protocol):
    """Writes follow-up events to the outbox in the current transaction (`EventContext.emit`)."""

    async def __call__(self, *payloads: BaseModel, correlation_id: str | None = None) -> None: ...


class LedgerContention(RuntimeError):
    """Claims kept vanishing under a concurrent release; the message is retried as a whole."""


def today_in_china() -> date:
    return datetime.now(CHINA).date()


def after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Run `fn` once the session's transaction has committed (not on rollback or retry)."""
    event.listen(session.sync_session, "after_commit", lambda _s: fn(), once=True)


# ---------------------------------------------------------------------------- batch.submitted


async def validate_chunk(
    session: AsyncSession,
    *,
    submitted: BatchSubmittedV1,
    emit: Emit,
    rule_set: RuleSet = CURRENT,
    today: date | None = None,
) -> BatchValidatedV1:
    """Decide every record of one chunk, claim the ledger for those that pass, store the verdicts
    and emit one `batch.validated` for the chunk."""
    records = submitted.records
    with tracer.start_as_current_span("validation.validate_chunk") as span:
        span.set_attribute("ykt.batch_id", submitted.batch_id)
        span.set_attribute("ykt.chunk_index", submitted.chunk.index)
        span.set_attribute("ykt.records", len(records))
        registers, members = await _registers_for(session, submitted)
        ctx = RuleContext(
            submitted.program_code,
            submitted.period,
            today or today_in_china(),
            registers=registers,
            program=submitted.program,
            memberships=members,
        )
        decisions = _pass_warnings(submitted, rule_set.evaluate(submitted.chunk.totals, records, ctx))
        repo = Repository(session)
        if rule_set.ledger:
            await _claim_enjoyment(repo, submitted, decisions)
        if rule_set.exclusions:
            await _claim_exclusions(repo, submitted, decisions)

        await repo.save_verdicts(
            batch_id=submitted.batch_id,
            round=submitted.round,
            rule_set_version=rule_set.version,
            verdicts=_unique_by_record(records, decisions),
            register_imports={k.value: r.import_id for k, r in registers.items()} if registers else None,
        )
        validated = BatchValidatedV1(
            batch_id=submitted.batch_id,
            unit_code=submitted.unit_code,
            program_code=submitted.program_code,
            period=submitted.period,
            round=submitted.round,
            rule_set_version=rule_set.version,
            round_totals=submitted.round_totals,
            chunk=ChunkInfo(
                index=submitted.chunk.index,
                count=submitted.chunk.count,
                totals=totals_of(records, lambda r: r.amount_fen),
            ),
            verdicts=[
                RecordVerdict(
                    record_id=r.record_id,
                    outcome=d.outcome,
                    code=d.code,
                    message=d.message,
                    record=r if d.passed else None,
                )
                for r, d in zip(records, decisions, strict=True)
            ],
        )
        await emit(validated)

        passed = sum(1 for d in decisions if d.passed)
        span.set_attribute("ykt.passed", passed)
        span.set_attribute("ykt.rejected", len(records) - passed)
        after_commit(session, lambda: _count(records, decisions))
        log.info(
            "chunk validated",
            extra={
                "batch_id": submitted.batch_id,
                "round": submitted.round,
                "chunk_index": submitted.chunk.index,
                "chunk_count": submitted.chunk.count,
                "passed": passed,
                "rejected": len(records) - passed,
                "rule_set_version": rule_set.version,
            },
        )
        return validated


async def _registers_for(
    session: AsyncSession, submitted: BatchSubmittedV1
) -> tuple[dict[RegisterKind, RegisterImportRef], Memberships]:
    """The current register imports and the chunk's people's memberships, once per chunk, when
    the program names registers it requires or excludes (else nothing is read)."""
    program = submitted.program
    if program is None or not (program.requires_registers or program.excludes_registers):
        return {}, {}
    versions = await register_versions(session)
    members = await memberships(session, [r.person_key for r in submitted.records])
    return versions, members


def _pass_warnings(submitted: BatchSubmittedV1, decisions: list[Decision]) -> list[Decision]:
    """Warnings pass as plain passes for now, counted and logged.

    TODO(issue 4): carry warnings to the clerk (a `warn` verdict and its confirmation) instead of
    passing them silently."""
    warned = [d for d in decisions if d.warned]
    if not warned:
        return decisions
    by_code: dict[str, int] = {}
    for d in warned:
        by_code[d.code] = by_code.get(d.code, 0) + 1
    for code, n in by_code.items():
        WARNINGS_PASSED.labels(code).inc(n)
    log.warning(
        "warnings passed without confirmation",
        extra={"batch_id": submitted.batch_id, "chunk_index": submitted.chunk.index, "warnings": by_code},
    )
    return [PASS if d.warned else d for d in decisions]


async def _claim_exclusions(repo: Repository, submitted: BatchSubmittedV1, decisions: list[Decision]) -> None:
    """Claim each exclusive pair {program, other} for every record still passing; a record whose
    person holds (or is being paid) an exclusive program for the period is rejected, naming it,
    and gives back the claims it made. The pair key's primary key decides races between chunks
    of two exclusive programs, as the ledger's does for one program."""
    program = submitted.program
    pairs = exclusion_pairs(program)
    if program is None or not pairs:
        return
    records = submitted.records
    where = {"program_code": program.code, "period": submitted.period}
    rejected: list[int] = []
    pending = [i for i, d in enumerate(decisions) if d.passed]
    for _ in range(MAX_CLAIM_ATTEMPTS):
        if not pending:
            break
        claimed = await repo.claim_exclusions(
            **where,
            batch_id=submitted.batch_id,
            pairs=pairs,
            claims=[(records[i].person_key, records[i].record_id) for i in pending],
        )
        short = {i: [p for p in pairs if (records[i].record_id, p) not in claimed] for i in pending}
        unclaimed = [i for i in pending if short[i]]
        pending = []
        if not unclaimed:
            break
        holders = await repo.exclusion_holders(
            period=submitted.period, person_keys=[records[i].person_key for i in unclaimed], pairs=pairs
        )
        moves: list[int] = []
        for i in unclaimed:
            found = [(p, holders.get((records[i].person_key, p))) for p in short[i]]
            resolutions = {p: resolve_exclusion(records[i], program.code, h) for p, h in found}
            taken = [h for p, h in found if h is not None and resolutions[p] is Resolution.DUPLICATE]
            if taken:
                decisions[i] = excluded_by(program.code, taken[0])
                rejected.append(i)
            elif Resolution.VANISHED in resolutions.values():
                pending.append(i)
            elif Resolution.TAKE_OVER in resolutions.values():
                moves.append(i)
        moved = await repo.take_over_exclusions(
            **where,
            batch_id=submitted.batch_id,
            moves=[
                (records[i].person_key, str(records[i].reissue_of_record_id), records[i].record_id)
                for i in moves
            ],
        )
        for i in moves:
            if records[i].record_id not in moved:
                decisions[i] = DUPLICATE
                rejected.append(i)
    if pending:
        raise LedgerContention(
            f"{len(pending)} exclusion claims of batch {submitted.batch_id} kept being released"
        )
    await repo.release_claims_of(**where, record_ids=[records[i].record_id for i in rejected])


async def _claim_enjoyment(repo: Repository, submitted: BatchSubmittedV1, decisions: list[Decision]) -> None:
    """Claim the ledger for every record that passed the other rules; reject those already claimed.

    The ledger's primary key decides races: of two chunks claiming one person's program period,
    the second one's insert waits for the first to commit and then finds the key taken."""
    records = submitted.records
    where = {"program_code": submitted.program_code, "period": submitted.period}
    first, later = first_per_person(records, [i for i, d in enumerate(decisions) if d.passed])
    for i in later:
        decisions[i] = DUPLICATE
    if submitted.round > 1:
        # A later round re-decides its records: a claim is kept only by a record that still
        # passes for the same person, so the ledger follows the latest verdict. (A first round's
        # records are new; a first round delivered again is decided the same way.)
        await repo.release_stale(
            **where,
            record_ids=[r.record_id for r in records],
            keep=[(records[i].record_id, records[i].person_key) for i in first],
        )

    pending = first
    for _ in range(MAX_CLAIM_ATTEMPTS):
        if not pending:
            return
        claimed = await repo.claim(
            **where,
            batch_id=submitted.batch_id,
            claims=[(records[i].person_key, records[i].record_id) for i in pending],
        )
        unclaimed = [i for i in pending if records[i].record_id not in claimed]
        if not unclaimed:
            return
        holders = await repo.holders(**where, person_keys=[records[i].person_key for i in unclaimed])
        moves: list[int] = []
        pending = []
        for i in unclaimed:
            resolution = resolve(records[i], holders.get(records[i].person_key))
            if resolution is Resolution.TAKE_OVER:
                moves.append(i)
            elif resolution is Resolution.DUPLICATE:
                decisions[i] = DUPLICATE
            elif resolution is Resolution.VANISHED:
                pending.append(i)
        moved = await repo.take_over(
            **where,
            batch_id=submitted.batch_id,
            moves=[
                (records[i].person_key, str(records[i].reissue_of_record_id), records[i].record_id)
                for i in moves
            ],
        )
        for i in moves:
            if records[i].record_id not in moved:  # holder rows are locked, so this should not happen
                decisions[i] = DUPLICATE
    if pending:
        raise LedgerContention(f"{len(pending)} claims of batch {submitted.batch_id} kept being released")


def _unique_by_record(records: Sequence[PaymentRecord], decisions: Sequence[Decision]) -> list[NewVerdict]:
    """One verdict row per record id (the first, should a chunk repeat a record id)."""
    out: dict[str, NewVerdict] = {}
    for r, d in zip(records, decisions, strict=True):
        out.setdefault(r.record_id, NewVerdict(r.record_id, r.seq, d.outcome, d.code, d.message))
    return list(out.values())


def _count(records: Sequence[PaymentRecord], decisions: Sequence[Decision]) -> None:
    for outcome in ("passed", "rejected"):
        chosen = [r for r, d in zip(records, decisions, strict=True) if d.passed == (outcome == "passed")]
        RECORDS.labels(SERVICE, STAGE, outcome).inc(len(chosen))
        AMOUNT_FEN.labels(SERVICE, STAGE, outcome).inc(sum(r.amount_fen for r in chosen))
    for d in decisions:
        if not d.passed:
            REJECTIONS.labels(d.code).inc()


# ---------------------------------------------------------------------------- releases


async def release_failed_payments(session: AsyncSession, *, failed: PaymentFailedV1) -> int:
    """A bank failure releases the records' claims, so a corrected re-issue can be paid."""
    n = await Repository(session).release_records([r.record_id for r in failed.records])
    after_commit(session, lambda: LEDGER_RELEASES.labels("payment_failed").inc(n))
    log.info("claims released after bank failure", extra={"batch_id": failed.batch_id, "released": n})
    return n


async def release_returned_batch(session: AsyncSession, *, returned: BatchReturnedV1) -> int:
    """A batch returned by finance releases every claim its records hold."""
    n = await Repository(session).release_batch(returned.batch_id)
    after_commit(session, lambda: LEDGER_RELEASES.labels("batch_returned").inc(n))
    log.info("claims released after return", extra={"batch_id": returned.batch_id, "released": n})
    return n


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class VerdictPage:
    """A batch's verdict counts and one page of its verdicts."""

    batch_id: str
    counts: dict[str, int]
    by_code: dict[str, int]
    verdicts: list[VerdictRow]


async def verdicts_of_batch(
    session: AsyncSession, *, batch_id: str, outcome: str | None, limit: int, offset: int
) -> VerdictPage:
    """Counts over the whole batch (pass/reject and per code) and a page of verdicts."""
    repo = Repository(session)
    counts = {"pass": 0, "reject": 0}
    by_code: dict[str, int] = {}
    for o, code, n in await repo.verdict_counts(batch_id):
        counts[o] = counts.get(o, 0) + n
        by_code[code] = by_code.get(code, 0) + n
    rows = await repo.list_verdicts(batch_id=batch_id, outcome=outcome, limit=limit, offset=offset)
    return VerdictPage(batch_id, counts, by_code, rows)


def describe_rule_set(rule_set: RuleSet = CURRENT) -> dict[str, Any]:
    """The current rule set's version and every code it may answer."""
    return {"version": rule_set.version, "rules": rule_set.describe()}
