"""Shapes of the public JSON API (masked values only; no record id, person key or account)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime

from pydantic import BaseModel, Field


class CorrectionOut(BaseModel):
    """A correction as the public sees it: when, and the statement (更正说明)."""

    at: datetime
    statement: str


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
    status: str = Field(description="published | withdrawn")
    open: bool = Field(description="Whether the public window is open now.")
    url: str = Field(description="Public page of the publication.")
    notice_url: str = Field(description="Printable A4 notice (PDF) of the whole publication.")
    places_url: str = Field(description="Villages of the publication, each with its notice PDF.")
    corrected_at: datetime | None = Field(default=None, description="Last correction (更正于 …).")
    corrections: list[CorrectionOut] = Field(default_factory=list)


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


class PlaceOut(BaseModel):
    """One village (or community) of a publication, with its printable notice."""

    town_code: str
    town_name: str
    village: str
    record_count: int
    amount_fen: int
    amount_yuan: str
    notice_url: str = Field(description="Printable A4 notice (PDF) of this village.")


class PlacesOut(BaseModel):
    publication: PublicationOut
    items: list[PlaceOut]


class PersonalQueryIn(BaseModel):
    """Name and ID number of the person asking about their own payments."""

    name: str = Field(max_length=100, description="姓名")
    id_number: str = Field(max_length=40, description="身份证号码")


class PersonalItemOut(BaseModel):
    program_code: str
    program_name: str
    period: str
    period_label: str
    amount_fen: int
    amount_yuan: str
    date: dt.date = Field(description="Payment date, or the date the bank reported the failure.")
    status: str = Field(description="settled | reissued_settled | failed_reissued | failed")
    status_label: str
    reason: str | None = Field(description="The bank's reason, for a failure.")


class PersonalQueryOut(BaseModel):
    """The same shape whether or not the person is known: no way to tell them apart."""

    items: list[PersonalItemOut]
    total: int
    notice: str


# ------------------------------------------------------------------ operators


class ChangeOut(BaseModel):
    """An audited change of a publication."""

    change_id: int
    kind: str = Field(description="withdrawal | correction")
    actor_user: str
    actor_role: str
    actor_org: str
    reason: str
    statement: str
    window_end_before: datetime
    window_end_after: datetime
    at: datetime


class OperatorPublicationOut(BaseModel):
    publication_id: str
    batch_id: str
    program_code: str
    program_name: str
    period: str
    unit_code: str
    unit_name: str
    record_count: int
    amount_fen: int
    window_start: datetime
    window_end: datetime
    status: str
    corrected_at: datetime | None
    withdrawn_at: datetime | None
    url: str
    changes: list[ChangeOut]


class OperatorPublicationsOut(BaseModel):
    items: list[OperatorPublicationOut]
    page: int
    page_size: int
    total_pages: int
    total_items: int


class WithdrawalIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="撤回原因（内部审计用，不公开）")
    statement: str = Field(default="", max_length=500, description="公开说明（显示在公示页面上）")


class CorrectionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="更正原因（内部审计用，不公开）")
    statement: str = Field(min_length=1, max_length=500, description="更正说明（显示在公示页面和公告上）")
    window_end: datetime | None = Field(default=None, description="新的公示截止时间（含时区），可选")


class MaskingRuleOut(BaseModel):
    channel: str
    channel_label: str
    name: str
    id: str
    looser_than_default: bool


class MaskingChangeOut(BaseModel):
    change_id: int
    channel: str
    name_before: str
    id_before: str
    name_after: str
    id_after: str
    looser_than_default: bool
    actor_user: str
    actor_role: str
    actor_org: str
    reason: str
    at: datetime


class MaskingOut(BaseModel):
    rules: list[MaskingRuleOut]
    changes: list[MaskingChangeOut]


class MaskingIn(BaseModel):
    name: str = Field(description="hidden | surname | default | full")
    id: str = Field(description="hidden | default | region_last4")
    reason: str = Field(min_length=1, max_length=500, description="变更原因（审计）")
