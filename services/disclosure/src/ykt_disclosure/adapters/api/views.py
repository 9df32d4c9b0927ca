"""Turning read models into the public JSON shapes (the HTML templates read them directly)."""

from __future__ import annotations

from datetime import datetime

from ...domain import display
from ...domain.publication import Publication
from ...service import DisclosedLine
from .schemas import PublicationOut, RecordOut


def publication_out(pub: Publication, *, base_url: str, now: datetime) -> PublicationOut:
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
        url=base_url.rstrip("/") + pub.path,
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
