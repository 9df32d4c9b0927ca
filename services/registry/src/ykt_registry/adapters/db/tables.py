"""Registry tables as SQLModel models (the migrations in `migrations/` create them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Program(SQLModel, table=True):
    """A subsidy program of the catalogue (Annex 1)."""

    __tablename__ = "programs"
    code: str = Field(primary_key=True)
    name: str
    department_code: str
    frequency: str
    standard_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    rollout: str = "not_yet"
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


class Division(SQLModel, table=True):
    """An administrative division: a town/street, or a village/community under it."""

    __tablename__ = "divisions"
    code: str = Field(primary_key=True)
    name: str
    kind: str
    parent_code: str | None = None


class Bank(SQLModel, table=True):
    """An agent bank and the protocol adapter that serves it."""

    __tablename__ = "banks"
    code: str = Field(primary_key=True)
    name: str
    adapter: str


class Person(SQLModel, table=True):
    """A beneficiary and their one-card account; personal numbers are encrypted at rest."""

    __tablename__ = "persons"
    person_key: str = Field(primary_key=True)
    name: str
    id_number_enc: bytes
    gender: str
    birth_date: date
    phone_enc: bytes | None = None
    town_code: str
    village: str = ""
    bank_code: str
    account_no_enc: bytes
    account_tail: str
    created_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})
    updated_at: datetime | None = Field(default=None, sa_column_kwargs={"server_default": sa.func.now()})


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
BATCHES = Batch.__table__  # type: ignore[attr-defined]
ROUNDS = Round.__table__  # type: ignore[attr-defined]
ROUND_CHUNKS = RoundChunk.__table__  # type: ignore[attr-defined]
RECORDS = BatchRecord.__table__  # type: ignore[attr-defined]
STATUS_HISTORY = BatchStatusHistory.__table__  # type: ignore[attr-defined]
