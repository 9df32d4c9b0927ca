"""The port every bank protocol implements: one class per protocol (JSON API, 代发 file,
ISO 20022 pain.001), chosen per bank by configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from .model import BankResult, OutgoingInstruction
from .verification import BankVerdict, VerificationItem


class BankError(Exception):
    """A bank request did not go through; the instructions stay unsent and are retried."""

    outcome = "error"


class BankUnavailable(BankError):
    """The bank could not be reached or answered with a server error."""

    outcome = "error"


class BankTimeout(BankError):
    """The bank did not answer in time (it may or may not have taken the request)."""

    outcome = "timeout"


class BankRejected(BankError):
    """The bank refused the request itself (a protocol or configuration problem on our side)."""

    outcome = "rejected"


@runtime_checkable
class BankAdapter(Protocol):
    """Speaks one bank protocol. Sending is idempotent by end-to-end id on the bank side, so a
    request may be repeated after any failure; results come back through callbacks or `query`."""

    name: str

    async def send(self, bank_code: str, batch_ref: str, instructions: Sequence[OutgoingInstruction]) -> None:
        """Hand `instructions` to the bank; raise `BankError` unless the bank accepted them."""
        ...

    async def query(self, bank_code: str, end_to_end_id: str) -> BankResult | None:
        """The bank's current status of one instruction, or None when the bank does not know it."""
        ...


@runtime_checkable
class AccountVerifier(Protocol):
    """A bank protocol that can verify accounts (optional: an adapter without `verify` cannot)."""

    name: str

    async def verify(self, bank_code: str, items: Sequence[VerificationItem]) -> Mapping[str, BankVerdict]:
        """The bank's verdict per item id; an item the bank did not answer is absent. Raise
        `BankError` when the request did not go through (the items stay pending)."""
        ...
