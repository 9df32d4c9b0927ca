"""The simulator's use cases: load account books, accept credit transfers, book them in the
background and call the results back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from pydantic import TypeAdapter

from .callbacks import CallbackSender, encode
from .config import Settings
from .domain import china_now
from .ledger import Bank, Transfer
from .schemas import (
    AccountEntry,
    AccountFileEntry,
    CreditInstruction,
    CreditTransferRequest,
    VerificationRequest,
)

log = logging.getLogger("ykt_banksim")

#: Instructions booked between two yields to the event loop, so that queries stay answered.
_BOOK_SLICE = 1000


class UnknownBank(LookupError):
    """The bank code in the path is not served by this process."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class BankSimulator:
    """Every bank this process serves, and the background work of answering their batches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.banks = {code: Bank(code, latency=settings.latency.get(code, 0.0)) for code in settings.banks}
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._sender: CallbackSender | None = None
        if settings.accounts_file is not None:
            self.load_accounts_file(settings.accounts_file.read_bytes())

    def bank(self, code: str) -> Bank:
        try:
            return self.banks[code]
        except KeyError:
            raise UnknownBank(code) from None

    def load_accounts_file(self, raw: bytes) -> None:
        """Fill the account books from a JSON list of entries that each name their bank_code."""
        entries = TypeAdapter(list[AccountFileEntry]).validate_json(raw)
        by_bank: dict[str, list[AccountEntry]] = {}
        for e in entries:
            by_bank.setdefault(e.bank_code, []).append(e)
        for code, group in by_bank.items():
            self.bank(code).upsert_accounts(group)
        log.info("loaded %d account-book entries for %d banks", len(entries), len(by_bank))

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def sender(self) -> CallbackSender:
        if self._sender is None:
            s = self.settings
            # trust_env=False: callbacks go straight to the receiver, never via a proxy from the environment.
            self._client = httpx.AsyncClient(timeout=s.callback_timeout, trust_env=False)
            self._sender = CallbackSender(
                self._client,
                secret=s.callback_secret,
                attempts=s.callback_attempts,
                backoff_initial=s.callback_backoff_initial,
                backoff_max=s.callback_backoff_max,
            )
        return self._sender

    async def close(self) -> None:
        """Cancel unfinished batches and close the HTTP client (at shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._sender = None

    # -- use cases --------------------------------------------------------------------------

    async def answer_delay(self, bank: Bank) -> None:
        """Wait as long as the bank's latency says, counted from now; a change of the latency
        (PUT /banks/{bank}/admin/latency) applies to requests already waiting."""
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        while True:
            remaining = arrived + bank.latency - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(bank.latency_changed.wait(), timeout=remaining)
            except TimeoutError:
                return

    def verify(self, code: str, request: VerificationRequest) -> list[dict[str, Any]]:
        """Answer an account-verification request from the bank's account book."""
        results = self.bank(code).verify(request.items)
        failed = sum(1 for r in results if r["status"] != "ok")
        log.info(
            "bank %s answered verification %s: %d items, %d not verified",
            code,
            request.request_ref,
            len(results),
            failed,
        )
        return results

    def submit(self, code: str, request: CreditTransferRequest) -> tuple[int, int]:
        """Accept a batch (idempotent by end-to-end id) and answer it in the background."""
        bank = self.bank(code)
        accepted, duplicates = bank.accept(request.batch_ref, request.instructions)
        log.info(
            "bank %s accepted batch %s: %d new, %d duplicate instructions",
            code,
            request.batch_ref,
            len(accepted),
            duplicates,
        )
        if accepted:
            task = asyncio.get_running_loop().create_task(
                self._answer(bank, request.batch_ref, request.callback_url, accepted),
                name=f"banksim-{code}-{request.batch_ref}",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(accepted), duplicates

    async def _answer(
        self,
        bank: Bank,
        batch_ref: str,
        callback_url: str,
        accepted: list[tuple[CreditInstruction, Transfer]],
    ) -> None:
        try:
            results = []
            for i, (ins, transfer) in enumerate(accepted, start=1):
                bank.book(ins, transfer, china_now())
                results.append(transfer.result())
                if i % _BOOK_SLICE == 0:
                    await asyncio.sleep(0)  # let other requests in between slices of a large batch
            size = self.settings.callback_chunk_size
            copies = 2 if self.settings.duplicate_callbacks else 1
            for start in range(0, len(results), size):
                body = encode(
                    {"bank_code": bank.code, "batch_ref": batch_ref, "results": results[start : start + size]}
                )
                for _ in range(copies):
                    delivered = await self.sender.deliver(
                        callback_url, bank_code=bank.code, batch_ref=batch_ref, body=body
                    )
                    if delivered:
                        bank.callbacks_delivered += 1
                    else:
                        bank.callbacks_abandoned += 1
            log.info("bank %s answered batch %s: %d results", bank.code, batch_ref, len(results))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("bank %s failed answering batch %s", bank.code, batch_ref)

    def stats(self) -> dict[str, dict[str, int]]:
        return {code: bank.stats() for code, bank in self.banks.items()}
