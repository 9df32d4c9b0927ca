"""In-memory state of one agent bank: its account book, the transfers it has seen, its ledger
of credits and the notices it texted. All methods run on the event loop thread and never await,
so each one is atomic with respect to concurrent requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .domain import Account, AccountState, account_tail, bank_name, decide, sms_text, verify
from .schemas import AccountEntry, CreditInstruction, VerificationItem

PROCESSING = "processing"
SETTLED = "settled"
FAILED = "failed"
OK = "ok"


@dataclass(slots=True)
class Transfer:
    """A credit instruction the bank accepted, keyed by its end-to-end id, and its outcome."""

    end_to_end_id: str
    batch_ref: str
    amount_fen: int
    status: str = PROCESSING
    reason_code: str | None = None
    reason: str | None = None
    bank_txn_id: str | None = None
    settled_on: date | None = None

    def result(self) -> dict[str, Any]:
        """The transfer as the bank reports it in callbacks and status queries."""
        return {
            "end_to_end_id": self.end_to_end_id,
            "status": self.status,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "bank_txn_id": self.bank_txn_id,
            "settled_on": self.settled_on.isoformat() if self.settled_on else None,
            "amount_fen": self.amount_fen,
        }


@dataclass(slots=True, frozen=True)
class Credit:
    """One booked credit in the bank's ledger."""

    end_to_end_id: str
    account_no: str
    amount_fen: int
    bank_txn_id: str
    settled_on: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "end_to_end_id": self.end_to_end_id,
            "account_no": self.account_no,
            "amount_fen": self.amount_fen,
            "bank_txn_id": self.bank_txn_id,
            "settled_on": self.settled_on.isoformat(),
        }


@dataclass(slots=True, frozen=True)
class Notice:
    """An SMS the bank sent after a credit; the phone number is the bank's business, not ours."""

    end_to_end_id: str
    account_tail: str
    text: str
    sent_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "end_to_end_id": self.end_to_end_id,
            "account_tail": self.account_tail,
            "text": self.text,
            "sent_at": self.sent_at.isoformat(timespec="seconds"),
        }


class Bank:
    """One agent bank served by the simulator."""

    def __init__(self, code: str, *, latency: float = 0.0) -> None:
        self.code = code
        self.name = bank_name(code)
        self.accounts: dict[str, Account] = {}
        self.transfers: dict[str, Transfer] = {}
        self.credits: list[Credit] = []
        self.notices: list[Notice] = []
        self.settled = 0
        self.failed = 0
        self.amount_fen = 0
        self.callbacks_delivered = 0
        self.callbacks_abandoned = 0
        self.verification_requests = 0
        self.verification_items = 0
        self._txn_seq = 0
        #: seconds the bank takes before answering its API; waiting requests re-read it when it changes
        self.latency = latency
        self.latency_changed = asyncio.Event()

    def set_latency(self, seconds: float) -> None:
        """Change how slow the bank answers; requests already waiting follow the new value."""
        self.latency = seconds
        changed, self.latency_changed = self.latency_changed, asyncio.Event()
        changed.set()

    def upsert_accounts(self, entries: Iterable[AccountEntry]) -> int:
        """Insert or replace account-book entries by account number (one dict write each)."""
        n = 0
        accounts = self.accounts
        for e in entries:
            accounts[e.account_no] = Account(
                e.account_no, e.holder_name, e.holder_id_number, AccountState(e.state)
            )
            n += 1
        return n

    def accept(
        self, batch_ref: str, instructions: Iterable[CreditInstruction]
    ) -> tuple[list[tuple[CreditInstruction, Transfer]], int]:
        """Register new instructions as processing; an end-to-end id seen before is a duplicate."""
        accepted: list[tuple[CreditInstruction, Transfer]] = []
        duplicates = 0
        transfers = self.transfers
        for ins in instructions:
            if ins.end_to_end_id in transfers:
                duplicates += 1
                continue
            transfer = Transfer(ins.end_to_end_id, batch_ref, ins.amount_fen)
            transfers[ins.end_to_end_id] = transfer
            accepted.append((ins, transfer))
        return accepted, duplicates

    def book(self, ins: CreditInstruction, transfer: Transfer, now: datetime) -> None:
        """Decide one accepted instruction like the bank core: fail it, or credit and notify."""
        rejection = decide(self.accounts.get(ins.payee_account), ins.payee_name)
        if rejection is not None:
            transfer.status = FAILED
            transfer.reason_code = rejection.code
            transfer.reason = rejection.reason
            self.failed += 1
            return
        today = now.date()
        self._txn_seq += 1
        transfer.status = SETTLED
        transfer.bank_txn_id = f"{self.code}{today:%Y%m%d}{self._txn_seq:010d}"
        transfer.settled_on = today
        self.credits.append(
            Credit(ins.end_to_end_id, ins.payee_account, ins.amount_fen, transfer.bank_txn_id, today)
        )
        self.settled += 1
        self.amount_fen += ins.amount_fen
        text = sms_text(
            bank_code=self.code,
            account_no=ins.payee_account,
            amount_fen=ins.amount_fen,
            on=today,
            memo=ins.memo,
        )
        self.notices.append(Notice(ins.end_to_end_id, account_tail(ins.payee_account), text, now))

    def verify(self, items: Iterable[VerificationItem]) -> list[dict[str, Any]]:
        """Answer each item from the account book with the reasons credits fail for (and the ID)."""
        results = []
        accounts = self.accounts
        for item in items:
            rejection = verify(accounts.get(item.account_no), item.holder_name, item.holder_id_number)
            results.append(
                {
                    "item_id": item.item_id,
                    "status": OK if rejection is None else FAILED,
                    "reason_code": None if rejection is None else rejection.code,
                    "reason": None if rejection is None else rejection.reason,
                }
            )
        self.verification_requests += 1
        self.verification_items += len(results)
        return results

    def stats(self) -> dict[str, int]:
        return {
            "settled": self.settled,
            "failed": self.failed,
            "amount_fen": self.amount_fen,
            "sms": len(self.notices),
            "callbacks_delivered": self.callbacks_delivered,
            "callbacks_abandoned": self.callbacks_abandoned,
            "verification_requests": self.verification_requests,
            "verification_items": self.verification_items,
        }
