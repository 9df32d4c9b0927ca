"""Turning read models into the public JSON shapes (the HTML templates read them directly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ...domain import display
from ...domain.publication import Change, ChangeKind, Publication
from ...service import STATUS_LABELS, DisclosedLine, PersonalItem
from .schemas import (
    ChangeOut,
    CorrectionOut,
    OperatorPublicationOut,
    PersonalItemOut,
    PlaceOut,
    PublicationOut,
    RecordOut,
)


def notice_path(pub: Publication, *, town: str | None = None, village: str | None = None) -> str:
    """Path of the printable notice of a publication (for one village when given)."""
    query = urlencode({k: v for k, v in (("town", town), ("village", village)) if v})
    return f"{pub.path}/notice.pdf" + (f"?{query}" if query else "")


def publication_out(
    pub: Publication, *, base_url: str, now: datetime, changes: Sequence[Change] = ()
) -> PublicationOut:
    base = base_url.rstrip("/")
    return PublicationOut(
        publication_id=str(pub.publication_id),
        program_code=pub.program_code,
        program_name=display.program_name(pub.program_code),
        period=pub.period,
        period_label=display.period_label(pub.period),
        unit_code=pub.unit_code,
        unit_name=display.unit_name(pub.unit_code, pub.program_code),
        department_name=display.department_name(pub.program_code),
        record_count=pub.record_count,
        amount_fen=pub.amount_fen,
        amount_yuan=display.yuan_plain(pub.amount_fen),
        window_start=pub.window_start,
        window_end=pub.window_end,
        status=pub.status,
        open=pub.is_open(now),
        url=base + pub.path,
        notice_url=base + notice_path(pub),
        places_url=f"{base}/api/public/v1/publications/{pub.publication_id}/places",
        corrected_at=pub.corrected_at,
        corrections=[
            CorrectionOut(at=c.at, statement=c.statement) for c in changes if c.kind is ChangeKind.CORRECTION
        ],
    )


def record_out(line: DisclosedLine) -> RecordOut:
    return RecordOut(
        town_code=line.town_code,
        town_name=display.town_name(line.town_code),
        village=line.village,
        name_masked=line.name_masked,
        id_masked=line.id_masked,
        amount_fen=line.amount_fen,
        amount_yuan=display.yuan_plain(line.amount_fen),
        settled_on=line.settled_on,
    )


def place_out(pub: Publication, m: Mapping[str, Any], *, base_url: str) -> PlaceOut:
    return PlaceOut(
        town_code=m["town_code"],
        town_name=display.town_name(m["town_code"]),
        village=m["village"],
        record_count=int(m["record_count"]),
        amount_fen=int(m["amount_fen"]),
        amount_yuan=display.yuan_plain(int(m["amount_fen"])),
        notice_url=base_url.rstrip("/") + notice_path(pub, town=m["town_code"], village=m["village"] or None),
    )


def personal_item_out(item: PersonalItem) -> PersonalItemOut:
    return PersonalItemOut(
        program_code=item.program_code,
        program_name=display.program_name(item.program_code),
        period=item.period,
        period_label=display.period_label(item.period),
        amount_fen=item.amount_fen,
        amount_yuan=display.yuan_plain(item.amount_fen),
        date=item.on,
        status=item.status,
        status_label=STATUS_LABELS[item.status],
        reason=item.reason,
    )


def change_out(c: Change) -> ChangeOut:
    return ChangeOut(
        change_id=c.change_id,
        kind=c.kind.value,
        actor_user=c.actor_user,
        actor_role=c.actor_role,
        actor_org=c.actor_org,
        reason=c.reason,
        statement=c.statement,
        window_end_before=c.window_end_before,
        window_end_after=c.window_end_after,
        at=c.at,
    )


def operator_publication_out(
    pub: Publication, changes: Sequence[Change], *, base_url: str
) -> OperatorPublicationOut:
    return OperatorPublicationOut(
        publication_id=str(pub.publication_id),
        batch_id=pub.batch_id,
        program_code=pub.program_code,
        program_name=display.program_name(pub.program_code),
        period=pub.period,
        unit_code=pub.unit_code,
        unit_name=display.unit_name(pub.unit_code, pub.program_code),
        record_count=pub.record_count,
        amount_fen=pub.amount_fen,
        window_start=pub.window_start,
        window_end=pub.window_end,
        status=pub.status,
        corrected_at=pub.corrected_at,
        withdrawn_at=pub.withdrawn_at,
        url=base_url.rstrip("/") + pub.path,
        changes=[change_out(c) for c in changes],
    )
