"""The background job that hands unsent instructions to the banks and chases overdue results.

Each pass picks, per bank, one (bank, batch) group of due 'new' instructions from batches whose
chunks are all in, claims up to ``send_batch_size`` of them with ``FOR UPDATE SKIP LOCKED`` and a
lease (so replicas never send the same rows at once and no row lock is held during the bank
request), decrypts them, calls the bank's adapter and marks them 'sent'. A failed request leaves
them 'new' with one more attempt and an exponential, capped back-off. Banks are served
concurrently, so one slow bank does not hold up the others. Sent instructions without a result
after ``query_after_seconds`` are queried; a bank that does not know one gets it again.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from ykt_kit.crypto import PiiCipher
from ykt_kit.telemetry import continued

from . import service
from .adapters.banks import build_adapters
from .adapters.db import repository as repo
from .config import Settings
from .domain.model import ApplyOutcome, BankResult, OutgoingInstruction
from .domain.ports import BankAdapter, BankError
from .domain.rules import backoff_seconds, memo_for
from .metrics import (
    BANK_REQUEST_SECONDS,
    BANK_REQUESTS,
    BANK_RESULTS,
    RESULT_AMOUNT_MISMATCHES,
    count_failures,
)
from .service import PII_ACCOUNT, PII_ID, PII_NAME, pii_context

log = logging.getLogger(__name__)


class Dispatcher:
    """Sends instructions to banks; woken by `notify()` (after a chunk commits) or every poll period."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        #: bank requests made by this dispatcher, by (bank, outcome); observable with `wait_until`
        self.outcomes: collections.Counter[tuple[str, str]] = collections.Counter()

    def notify(self) -> None:
        self._wake.set()

    async def wait_until(self, predicate: Callable[[Dispatcher], bool]) -> None:
        """Wait until `predicate(self)` holds; re-checked after every bank request."""
        async with self._progress:
            await self._progress.wait_for(lambda: predicate(self))

    async def _count(self, bank: str, outcome: str, seconds: float) -> None:
        BANK_REQUESTS.labels(bank, outcome).inc()
        BANK_REQUEST_SECONDS.labels(bank).observe(seconds)
        async with self._progress:
            self.outcomes[(bank, outcome)] += 1
            self._progress.notify_all()

    @property
    def _lease_seconds(self) -> float:
        # longer than any request can take, so a lease only expires if this process died mid-request
        return self.settings.bank_timeout_seconds * 2 + 30

    async def run(self, app: FastAPI) -> None:
        """Background loop (see module docstring); ends only when cancelled."""
        timeout = httpx.Timeout(
            self.settings.bank_timeout_seconds, connect=min(10.0, self.settings.bank_timeout_seconds)
        )
        async with httpx.AsyncClient(timeout=timeout) as client:
            adapters = build_adapters(self.settings, client)
            cipher = self.settings.pii_cipher()
            while True:
                try:
                    busy = await self.pass_once(app, adapters, cipher)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("dispatcher pass failed", extra={"error": type(exc).__name__})
                    busy = False
                if busy:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def pass_once(self, app: FastAPI, adapters: dict[str, BankAdapter], cipher: PiiCipher) -> bool:
        """One round over every bank; True when something moved and another round may find more."""
        async with app.state.db.transaction() as s:
            groups = await repo.due_groups(s, banks=sorted(adapters))
        sent = await asyncio.gather(
            *(self._send_group(app, adapters[bank], bank, batch_id, cipher) for bank, batch_id in groups),
            return_exceptions=True,
        )
        for (bank, batch_id), result in zip(groups, sent, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "sending a group failed",
                    extra={"bank": bank, "batch_id": batch_id, "error": type(result).__name__},
                )
        chased = await self._chase_results(app, adapters, cipher)
        return any(r is True for r in sent) or chased

    async def _send_group(
        self, app: FastAPI, adapter: BankAdapter, bank: str, batch_id: str, cipher: PiiCipher
    ) -> bool:
        db = app.state.db
        async with db.transaction() as s:
            rows = await repo.claim_new(
                s,
                bank_code=bank,
                batch_id=batch_id,
                limit=self.settings.send_batch_size,
                lease_seconds=self._lease_seconds,
            )
            stored_trace = (await repo.traceparents(s, bank_code=bank, batch_ids=[batch_id])).get(batch_id)
        if not rows:
            return False
        ids = [r.end_to_end_id for r in rows]
        batch = [
            OutgoingInstruction(
                end_to_end_id=r.end_to_end_id,
                payee_name=cipher.decrypt(r.name_enc, context=pii_context(PII_NAME, r.end_to_end_id)),
                payee_account=cipher.decrypt(
                    r.account_no_enc, context=pii_context(PII_ACCOUNT, r.end_to_end_id)
                ),
                payee_id_number=cipher.decrypt(r.id_number_enc, context=pii_context(PII_ID, r.end_to_end_id)),
                amount_fen=int(r.amount_fen),
                memo=memo_for(r.program_code, r.period),
            )
            for r in rows
        ]
        started = time.perf_counter()
        error: str | None = None
        outcome = "ok"
        attempts = 0
        try:
            with continued(
                stored_trace,
                "bank send",
                tracer_name="ykt.bank-gateway",
                batch_id=batch_id,
                bank=bank,
                records=len(ids),
            ):
                await adapter.send(bank, batch_id, batch)
        except BankError as exc:
            outcome, error = exc.outcome, str(exc)
        except Exception as exc:  # an adapter bug must not stop the loop; its message may carry data
            outcome, error = "error", type(exc).__name__
        elapsed = time.perf_counter() - started
        del batch
        async with db.transaction() as s:
            if outcome == "ok":
                await repo.mark_sent(s, ids=ids, query_after_seconds=self.settings.query_after_seconds)
            else:
                attempts = await repo.mark_send_failed(
                    s, ids=ids, base=self.settings.retry_base_seconds, cap=self.settings.retry_max_seconds
                )
        await self._count(bank, outcome, elapsed)  # after the commit: observers see the rows as counted
        if outcome == "ok":
            log.info(
                "instructions sent", extra={"bank": bank, "batch_id": batch_id, "instructions": len(ids)}
            )
            return True
        log.warning(
            "bank request failed; instructions kept for retry",
            extra={
                "bank": bank,
                "batch_id": batch_id,
                "instructions": len(ids),
                "outcome": outcome,
                "error": error,
                "attempts": attempts,
                "retry_in_seconds": backoff_seconds(
                    attempts, base=self.settings.retry_base_seconds, cap=self.settings.retry_max_seconds
                ),
            },
        )
        return False

    async def _chase_results(self, app: FastAPI, adapters: dict[str, BankAdapter], cipher: PiiCipher) -> bool:
        """Query the banks for sent instructions whose result is overdue (a lost callback)."""
        db = app.state.db
        async with db.transaction() as s:
            due = await repo.claim_unanswered(
                s,
                banks=sorted(adapters),
                limit=self.settings.query_batch_size,
                lease_seconds=self.settings.query_after_seconds,
            )
        if not due:
            return False
        limit = asyncio.Semaphore(8)

        async def ask(bank: str, e2e: str) -> tuple[str, str, BankResult | None | str]:
            async with limit:
                started = time.perf_counter()
                try:
                    answer: BankResult | None | str = await adapters[bank].query(bank, e2e)
                    outcome = "ok"
                except BankError as exc:
                    answer, outcome = "error", exc.outcome
                except Exception as exc:
                    answer, outcome = "error", "error"
                    log.warning("bank status query failed", extra={"bank": bank, "error": type(exc).__name__})
                await self._count(bank, outcome, time.perf_counter() - started)
                return bank, e2e, answer

        answers = await asyncio.gather(*(ask(bank, e2e) for bank, e2e in due))
        final: dict[str, list[BankResult]] = collections.defaultdict(list)
        unknown: list[str] = []
        for bank, e2e, answer in answers:
            if answer is None:
                unknown.append(e2e)
            elif isinstance(answer, BankResult) and answer.final:
                final[bank].append(dataclasses.replace(answer, end_to_end_id=e2e))
        if not final and not unknown:
            return False
        outcomes: dict[str, ApplyOutcome] = {}
        async with db.transaction() as s:
            for bank, results in final.items():
                outcomes[bank] = await service.apply_results(
                    s, bank_code=bank, results=results, cipher=cipher
                )
            resent = await repo.resend(s, ids=unknown)
        app.state.bus.relay.notify()
        for bank, out in outcomes.items():
            count_results(bank, out)
        if resent:
            log.warning("bank did not know sent instructions; sending them again", extra={"count": resent})
        return True


def count_results(bank: str, outcome: ApplyOutcome) -> None:
    """Metrics of one applied result set (after its transaction committed)."""
    BANK_RESULTS.labels(bank, "settled").inc(outcome.settled)
    BANK_RESULTS.labels(bank, "failed").inc(outcome.failed)
    BANK_RESULTS.labels(bank, "ignored").inc(outcome.ignored)
    if outcome.amount_mismatches:
        RESULT_AMOUNT_MISMATCHES.labels(bank).inc(outcome.amount_mismatches)
    count_failures(bank, outcome.failed_reasons)
