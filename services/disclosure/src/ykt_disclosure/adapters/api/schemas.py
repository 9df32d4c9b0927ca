"""Shapes of the public JSON API (masked values only; no record id, person key or account)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PublicationOut(BaseModel):
    """A publication open to the public."""

    publication_id: str
    program_code: str
    program_name: str
    period: str
    period_label: str = Field(description="The period in Chinese, e.g. 2025年3月.")
    unit_code: str
    unit_name: str
    department_name: str
    record_count: int
    amount_fen: int
    amount_yuan: str = Field(description="Total in yuan with two decimals, e.g. 1234.50.")
    window_start: datetime
    window_end: datetime
    status: str
    open: bool = Field(description="Whether the public window is open now.")
    url: str = Field(description="Public page of the publication.")


class PublicationsOut(BaseModel):
    items: list[PublicationOut]
    page: int
    page_size: int
    total_pages: int
    total_items: int


class RecordOut(BaseModel):
    """One masked row."""

    town_code: str
    town_name: str
    village: str
    name_masked: str
    id_masked: str
    amount_fen: int
    amount_yuan: str
    settled_on: date


class RecordsOut(BaseModel):
    publication: PublicationOut
    items: list[RecordOut]
    page: int
    page_size: int
    total_pages: int
    total_items: int = Field(description="Rows matching the filter.")
    total_amount_fen: int = Field(description="Amount of the rows matching the filter.")
    total_amount_yuan: str
