"""The one place where the disclosure service masks personal data.

Rows are masked when they arrive, so the full name and ID number never reach this service's
database, its pages or its API. Every channel (web list, JSON API, later kiosks, PDF notices and
the personal query) reads the stored masked values; a channel that must be stricter masks the
stored values further here, never from the originals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ykt_contracts import SettledRecord
from ykt_kit.masking import mask_id, mask_name


@dataclass(frozen=True)
class DisclosedRow:
    """A settled record as the public may see it: masked, without account or full ID."""

    record_id: str
    batch_id: str
    program_code: str
    period: str
    town_code: str
    village: str
    name_masked: str
    id_masked: str
    amount_fen: int
    settled_on: date
    person_key: str

    def as_row(self) -> dict[str, object]:
        return {
            "record_id": self.record_id,
            "batch_id": self.batch_id,
            "program_code": self.program_code,
            "period": self.period,
            "town_code": self.town_code,
            "village": self.village,
            "name_masked": self.name_masked,
            "id_masked": self.id_masked,
            "amount_fen": self.amount_fen,
            "settled_on": self.settled_on,
            "person_key": self.person_key,
        }


def masked_name(name: str) -> str:
    """2 chars → 张*, 3 → 张*丰, 4 or more → first + ** + last (characters, not UTF-16 units)."""
    return mask_name(name)


def masked_id(id_number: str) -> str:
    """First and last character only: 5****************2."""
    return mask_id(id_number)


def disclose(batch_id: str, record: SettledRecord) -> DisclosedRow:
    """Mask one settled record for publication; the returned row holds nothing in full."""
    return DisclosedRow(
        record_id=record.record_id,
        batch_id=batch_id,
        program_code=record.program_code,
        period=record.period,
        town_code=record.town_code,
        village=record.village.strip(),
        name_masked=masked_name(record.name),
        id_masked=masked_id(record.id_number),
        amount_fen=record.amount_fen,
        settled_on=record.settled_on,
        person_key=record.person_key,
    )
