"""Registry tables as SQLModel models (the migrations in `migrations/` create them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class Program(SQLModel, table=True):
    """A subsidy program of the catalogue (Annex 1); `standard` is a `domain.reference.Standard`."""

    __tablename__ = "programs"
    code: str = Field(primary_key=True)
    name: str
    department_code: str
    frequency: str
    standard: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    requires_registers: list[str] = Field(default_factory=list, sa_type=ARRAY(sa.Text))
    excludes_registers: list[str] = Field(default_factory=list, sa_type=ARRAY(sa.Text))
    exclusive_with: list[str] = Field(default_factory=list, sa_type=ARRAY(sa.Text))
    rollout: str = "not_yet"
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class Division(SQLModel, table=True):
    """An administrative division: a district, a town/street, or a village/community under it."""

    __tablename__ = "divisions"
    code: str = Field(primary_key=True)
    name: str
    kind: str
    parent_code: str | None = None


class Bank(SQLModel, table=True):
    """An agent bank, its financial institution code and the protocol adapter that serves it."""

    __tablename__ = "banks"
    code: str = Field(primary_key=True)
    name: str
    institution_code: str | None = None
    adapter: str


class Organisation(SQLModel, table=True):
    """A department, town, finance bureau, bank or supervisor: the `org_code` of operators."""

    __tablename__ = "organisations"
    code: str = Field(primary_key=True)
    name: str
    kind: str
    division_code: str | None = None
    bank_code: str | None = None
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class AgencyAgreement(SQLModel, table=True):
    """A 代发协议: the agent bank a paying unit chose; at most one active per unit."""

    __tablename__ = "agency_agreements"
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    unit_code: str
    bank_code: str
    agreement_no: str
    effective_date: date
    status: str = "active"
    ended_on: date | None = None
    created_by: str
    created_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class ReferenceChange(SQLModel, table=True):
    """Append-only audit of every change of reference data (old and new values)."""

    __tablename__ = "reference_changes"
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    actor: str
    role: str
    org_code: str
    entity: str
    key: str
    old: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    new: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


class Person(SQLModel, table=True):
    """A beneficiary (Annex 2); ID number and phone are encrypted, `person_key` is their blind index."""

    __tablename__ = "persons"
    person_key: str = Field(primary_key=True)
    name: str
    id_number_enc: bytes
    gender: str
    birth_date: date
    phone_enc: bytes | None = None
    town_code: str
    village: str = ""
    village_code: str | None = None
    household_no: str | None = None
    status: str = "active"
    status_reason: str | None = None
    created_by: str | None = None
    created_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class Account(SQLModel, table=True):
    """A one-card account: never edited in place (a trigger refuses), only closed and replaced."""

    __tablename__ = "accounts"
    account_id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    person_key: str
    carrier: str
    bank_code: str
    account_no_enc: bytes
    account_key: str
    account_tail: str
    holder_name: str
    status: str = "active"
    opened_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    closed_at: datetime | None = None
    opened_by: str | None = None
    change_id: str | None = None


class AccountChange(SQLModel, table=True):
    """A re-application for another account; approval closes the old and opens the new one."""

    __tablename__ = "account_changes"
    change_id: str = Field(primary_key=True)
    person_key: str
    town_code: str
    old_account_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    carrier: str
    bank_code: str
    account_no_enc: bytes
    account_key: str
    account_tail: str
    holder_name: str
    reason: str
    requested_by: str
    requested_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    status: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    new_account_id: int | None = Field(default=None, sa_type=sa.BigInteger)


class PiiAccess(SQLModel, table=True):
    """Append-only record of who saw a person's full personal data, and why."""

    __tablename__ = "pii_access_log"
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    actor: str
    role: str
    org_code: str
    person_key: str
    fields: list[str] = Field(sa_type=ARRAY(sa.Text))
    purpose: str


class Batch(SQLModel, table=True):
    """A payment batch submitted by a paying unit."""

    __tablename__ = "batches"
    batch_id: str = Field(primary_key=True)
    unit_code: str
    unit_batch_no: str
    content_hash: str
    program_code: str
    period: str
    status: str
    current_round: int = 1
    declared_count: int
    declared_amount_fen: int = Field(sa_type=sa.BigInteger)
    reissue_of_batch_id: str | None = None
    publication_path: str | None = None
    expected_results: int | None = None
    file_sha256: str | None = None
    file_format: str | None = None
    file_name: str | None = None
    file_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_by: str
    created_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class Round(SQLModel, table=True):
    """A submission round of a batch: the first submission, then one per correction."""

    __tablename__ = "rounds"
    batch_id: str = Field(primary_key=True)
    round: int = Field(primary_key=True)
    chunk_count: int
    record_count: int
    amount_fen: int = Field(sa_type=sa.BigInteger)


class RoundChunk(SQLModel, table=True):
    """A chunk of a round whose verdicts have come back."""

    __tablename__ = "round_chunks"
    batch_id: str = Field(primary_key=True)
    round: int = Field(primary_key=True)
    chunk_index: int = Field(primary_key=True)


class BatchRecord(SQLModel, table=True):
    """One payment record of a batch and where it stands."""

    __tablename__ = "batch_records"
    record_id: str = Field(primary_key=True)
    batch_id: str
    seq: int
    person_key: str
    name: str
    id_number_enc: bytes
    account_no_enc: bytes
    account_tail: str
    bank_code: str
    amount_fen: int = Field(sa_type=sa.BigInteger)
    quantity: Decimal | None = Field(default=None, sa_type=sa.Numeric(18, 4))
    town_code: str
    village: str = ""
    reissue_of_record_id: str | None = None
    round: int
    status: str
    code: str | None = None
    message: str | None = None
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class BatchStatusHistory(SQLModel, table=True):
    """One change of a batch's status, with the moment it happened."""

    __tablename__ = "batch_status_history"
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    batch_id: str
    from_status: str | None = None
    status: str
    round: int | None = None
    at: datetime | None = Field(
        default=None, sa_column_kwargs={"server_default": sa.text("clock_timestamp()")}
    )


PROGRAMS = Program.__table__  # type: ignore[attr-defined]
DIVISIONS = Division.__table__  # type: ignore[attr-defined]
BANKS = Bank.__table__  # type: ignore[attr-defined]
PERSONS = Person.__table__  # type: ignore[attr-defined]
ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
AGREEMENTS = AgencyAgreement.__table__  # type: ignore[attr-defined]
REFERENCE_CHANGES = ReferenceChange.__table__  # type: ignore[attr-defined]
ACCOUNTS = Account.__table__  # type: ignore[attr-defined]
ACCOUNT_CHANGES = AccountChange.__table__  # type: ignore[attr-defined]
PII_ACCESS = PiiAccess.__table__  # type: ignore[attr-defined]
BATCHES = Batch.__table__  # type: ignore[attr-defined]
ROUNDS = Round.__table__  # type: ignore[attr-defined]
ROUND_CHUNKS = RoundChunk.__table__  # type: ignore[attr-defined]
RECORDS = BatchRecord.__table__  # type: ignore[attr-defined]


class PersonImport(SQLModel, table=True):
    """A collection-form file (Annex 2) a unit imported, with what became of its rows."""

    __tablename__ = "person_imports"
    import_id: str = Field(primary_key=True)
    org_code: str
    file_hash: str
    filename: str
    policy: str
    status: str
    rows: int
    registered: int
    refused_rows: int
    errors: int
    warnings: int
    created_by: str
    created_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class PersonImportIssue(SQLModel, table=True):
    """One row issue of an import (masked value only), for the downloadable report."""

    __tablename__ = "person_import_issues"
    import_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    row: int
    column_label: str
    code: str
    message: str
    severity: str
    value: str = ""


PERSON_IMPORTS = PersonImport.__table__  # type: ignore[attr-defined]
PERSON_IMPORT_ISSUES = PersonImportIssue.__table__  # type: ignore[attr-defined]
STATUS_HISTORY = BatchStatusHistory.__table__  # type: ignore[attr-defined]
