"""Versioned event payloads of the six-step flow.

Every list in a payload is bounded (``MAX_RECORDS_PER_CHUNK``) and every string has a maximum
length, so the largest possible message stays below ``MAX_MESSAGE_BYTES`` whatever the batch
size: a batch of any size travels as numbered chunks with declared totals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from .envelope import ChunkInfo, Contract, Fen, Totals

#: Upper bound of records (verdicts, instructions, results) carried by one message. With the
#: field bounds below (identifiers ASCII, free text at most 4 bytes a character in UTF-8) the
#: largest possible message stays under MAX_MESSAGE_BYTES; a contract test measures it.
MAX_RECORDS_PER_CHUNK = 100

Id = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$", description="Opaque ASCII identifier."
    ),
]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-]+$")]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]
Period = Annotated[
    str,
    Field(
        pattern=r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$",
        description="Program period: YYYY, YYYY-MM or YYYY-Qn.",
        max_length=7,
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=40, description="Person's name as registered.")]
IdNumber = Annotated[
    str,
    Field(
        min_length=15,
        max_length=18,
        pattern=r"^[0-9A-Za-z]+$",
        description="Citizen ID / residence permit number.",
    ),
]
AccountNo = Annotated[
    str,
    Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z\-]+$", description="One-card account number."),
]
PersonKey = Annotated[
    str,
    Field(
        min_length=16,
        max_length=64,
        pattern=r"^[0-9a-f]+$",
        description="Keyed blind index of the ID number (HMAC).",
    ),
]
Village = Annotated[str, Field(max_length=40, description="Village/community name.")]
Reason = Annotated[str, Field(max_length=200)]
Category = Annotated[
    str, Field(min_length=1, max_length=20, description="Tier of a tiered standard, e.g. 一级, C级危房.")
]
Quantity = Annotated[
    Decimal,
    Field(
        gt=0,
        max_digits=18,
        decimal_places=4,
        description="Quantity the amount is paid for (亩, 头, ...) under a per-unit standard.",
    ),
]
RegisterName = Literal["disabled", "state_support", "poverty", "deceased", "state_salaried"]


def _records(description: str) -> object:
    return Field(max_length=MAX_RECORDS_PER_CHUNK, description=description)


class PaymentRecord(Contract):
    """One payment record as submitted by the paying unit."""

    record_id: Id
    seq: int = Field(ge=1, description="Row number in the submission (1-based).")
    person_key: PersonKey
    id_number: IdNumber
    name: Name
    account_no: AccountNo
    bank_code: Code
    amount_fen: Fen
    town_code: Code
    village: Village = ""
    reissue_of_record_id: Id | None = Field(default=None, description="Record this one re-issues.")
    quantity: Quantity | None = Field(default=None, description="Quantity, under a per-unit standard.")
    category: Category | None = Field(default=None, description="Tier, under a tiered standard.")


class _StandardRule(Contract):
    ceiling_fen: Fen | None = Field(default=None, description="Most one person may get per period, in fen.")


class FixedStandardRule(_StandardRule):
    """A fixed amount per person per period."""

    kind: Literal["fixed"] = "fixed"
    amount_fen: Fen


class PerUnitStandardRule(_StandardRule):
    """An amount per unit of the record's quantity (rounded half up to the fen)."""

    kind: Literal["per_unit"] = "per_unit"
    unit: str = Field(min_length=1, max_length=8, description="Unit of quantity, e.g. 亩.")
    amount_fen_per_unit: Fen


class TierRule(Contract):
    category: Category
    amount_fen: Fen


class TieredStandardRule(_StandardRule):
    """An amount per category (tier)."""

    kind: Literal["tiered"] = "tiered"
    tiers: list[TierRule] = Field(min_length=1, max_length=20)


StandardRule = Annotated[
    FixedStandardRule | PerUnitStandardRule | TieredStandardRule, Field(discriminator="kind")
]


class ProgramRules(Contract):
    """What validation needs to know of a batch's program, from the registry's catalogue."""

    code: Code
    frequency: Literal["monthly", "quarterly", "yearly", "once"]
    standard: StandardRule | None = Field(default=None, description="Payment standard; none = not checked.")
    requires_registers: list[RegisterName] = Field(default_factory=list, max_length=5)
    excludes_registers: list[RegisterName] = Field(default_factory=list, max_length=5)
    exclusive_with: list[Code] = Field(
        default_factory=list,
        max_length=64,
        description="Programs not paid to one person for the same period.",
    )


class BatchSubmittedV1(Contract):
    """A submission round of a batch, one chunk of it (registry → validation)."""

    type: Literal["batch.submitted"] = "batch.submitted"
    batch_id: Id
    unit_code: Code
    unit_batch_no: Text64 = Field(description="The unit's own batch number.")
    program_code: Code
    period: Period
    round: int = Field(ge=1, description="Submission round: 1, then one per correction.")
    reissue_of_batch_id: Id | None = None
    round_totals: Totals = Field(description="Declared totals of the whole round.")
    chunk: ChunkInfo
    records: list[PaymentRecord] = _records("Records of this chunk.")  # type: ignore[assignment]
    program: ProgramRules | None = Field(
        default=None,
        description="The program's rules (standard, registers, exclusions); absent from old producers.",
    )


class RecordVerdict(Contract):
    """Validation verdict of one record; passing records carry their data onward."""

    record_id: Id
    outcome: Literal["pass", "reject"]
    code: Code = Field(description="Stable rule code, e.g. `ID_CHECKSUM`; `OK` for a pass.")
    message: Reason = Field(description="Chinese message for the clerk.")
    record: PaymentRecord | None = Field(default=None, description="The record, on a pass.")


class BatchValidatedV1(Contract):
    """Verdicts of one chunk of a submission round (validation → registry, payment)."""

    type: Literal["batch.validated"] = "batch.validated"
    batch_id: Id
    unit_code: Code
    program_code: Code
    period: Period
    round: int = Field(ge=1)
    rule_set_version: Code
    round_totals: Totals
    chunk: ChunkInfo
    verdicts: list[RecordVerdict] = _records("Verdicts of this chunk.")  # type: ignore[assignment]


class BatchSentV1(Contract):
    """The unit sends its validated batch to finance and the agent bank (registry → payment)."""

    type: Literal["batch.sent"] = "batch.sent"
    batch_id: Id
    unit_code: Code
    program_code: Code
    period: Period
    totals: Totals = Field(description="Records to pay: every record that passed validation.")
    sent_by: Id


class RecordReason(Contract):
    """A reason attached to one record."""

    record_id: Id
    reason: Reason


class BatchApprovedV1(Contract):
    """Finance approved the batch after procedural review (payment → registry)."""

    type: Literal["batch.approved"] = "batch.approved"
    batch_id: Id
    totals: Totals
    approved_by: Id


class BatchReturnedV1(Contract):
    """Finance returned the batch to its unit, with reasons (payment → registry, validation)."""

    type: Literal["batch.returned"] = "batch.returned"
    batch_id: Id
    returned_by: Id
    reason: Reason
    record_reasons: list[RecordReason] = _records("Reasons for named records.")  # type: ignore[assignment]


class BankFunding(Contract):
    """Money the treasury paid into one agent bank's special account for this batch."""

    bank_code: Code
    amount_fen: Fen
    voucher_no: Id


class BatchFundedV1(Contract):
    """The treasury confirmed funding of the batch (payment → registry)."""

    type: Literal["batch.funded"] = "batch.funded"
    batch_id: Id
    budget_doc_no: Text64 = Field(description="指标文号 of the payment application.")
    funding: list[BankFunding] = Field(max_length=16)


class Instruction(Contract):
    """One credit instruction; the bank echoes `end_to_end_id` in every answer."""

    end_to_end_id: Id
    record_id: Id
    person_key: PersonKey
    name: Name
    id_number: IdNumber
    account_no: AccountNo
    amount_fen: Fen
    town_code: Code
    village: Village = ""


class PaymentInstructedV1(Contract):
    """Credit instructions for one agent bank, one chunk (payment → bank-gateway)."""

    type: Literal["payment.instructed"] = "payment.instructed"
    batch_id: Id
    unit_code: Code
    program_code: Code
    period: Period
    bank_code: Code
    bank_totals: Totals = Field(description="Totals instructed to this bank for the batch.")
    chunk: ChunkInfo
    instructions: list[Instruction] = _records("Instructions of this chunk.")  # type: ignore[assignment]


class SettledRecord(Contract):
    """A credit the bank confirms as paid into the person's account."""

    end_to_end_id: Id
    record_id: Id
    person_key: PersonKey
    name: Name
    id_number: IdNumber
    program_code: Code
    period: Period
    town_code: Code
    village: Village = ""
    amount_fen: Fen
    settled_on: date
    bank_txn_id: Id


class PaymentSettledV1(Contract):
    """Per-record successes reported by a bank (bank-gateway → payment, registry, disclosure)."""

    type: Literal["payment.settled"] = "payment.settled"
    batch_id: Id
    bank_code: Code
    totals: Totals = Field(description="Totals of the records in this message.")
    records: list[SettledRecord] = _records("Settled records.")  # type: ignore[assignment]


class FailedRecord(Contract):
    """A credit the bank could not make, with the bank's reason."""

    end_to_end_id: Id
    record_id: Id
    person_key: PersonKey
    program_code: Code
    period: Period
    amount_fen: Fen
    reason_code: Code = Field(description="e.g. NAME_MISMATCH, ACCOUNT_CLOSED, ACCOUNT_FROZEN.")
    reason: Reason = Field(description="The bank's reason in Chinese, e.g. 户名不符.")


class PaymentFailedV1(Contract):
    """Per-record failures reported by a bank (bank-gateway → payment, registry, validation)."""

    type: Literal["payment.failed"] = "payment.failed"
    batch_id: Id
    bank_code: Code
    totals: Totals
    records: list[FailedRecord] = _records("Failed records.")  # type: ignore[assignment]


class BatchCompletedV1(Contract):
    """Every instructed record of the batch has a final bank result (payment → registry, disclosure)."""

    type: Literal["batch.completed"] = "batch.completed"
    batch_id: Id
    unit_code: Code
    program_code: Code
    period: Period
    instructed: Totals
    settled: Totals
    failed: Totals


class DisclosurePublishedV1(Contract):
    """A masked list was published for the public (disclosure → registry)."""

    type: Literal["disclosure.published"] = "disclosure.published"
    publication_id: Id
    batch_id: Id
    program_code: Code
    period: Period
    totals: Totals
    window_start: datetime
    window_end: datetime
    path: str = Field(max_length=200, description="Path of the public page on the disclosure site.")
