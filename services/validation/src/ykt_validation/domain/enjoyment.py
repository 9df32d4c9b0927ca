"""Duplicate enjoyment (重复享受): who may claim a person's program period in the ledger.

The ledger's primary key (person, program, period) is what makes the rule hold under
concurrency; this module only decides, from what the ledger answered, what a record that did
not get a fresh claim is: the holder itself, a re-issue taking over, or a duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from ykt_contracts.events import PaymentRecord

from .rules import DUPLICATE_ENJOYMENT, DUPLICATE_ENJOYMENT_MESSAGE, Decision, reject

DUPLICATE = reject(DUPLICATE_ENJOYMENT, DUPLICATE_ENJOYMENT_MESSAGE)


@dataclass(frozen=True)
class Holder:
    """The record currently holding a person's claim on a program period."""

    person_key: str
    record_id: str
    batch_id: str


class Resolution(Enum):
    """What to do with a record whose claim insert found the key taken."""

    HELD_BY_SELF = "held_by_self"  # the same record claimed it before: idempotent pass
    TAKE_OVER = "take_over"  # the holder is the record this one re-issues: move the claim
    DUPLICATE = "duplicate"  # someone else holds it: 重复享受
    VANISHED = "vanished"  # the holder was released meanwhile: try to claim again


def resolve(record: PaymentRecord, holder: Holder | None) -> Resolution:
    """Decide a record that did not get a fresh claim, from the current holder of its key."""
    if holder is None:
        return Resolution.VANISHED
    if holder.record_id == record.record_id:
        return Resolution.HELD_BY_SELF
    if record.reissue_of_record_id is not None and holder.record_id == record.reissue_of_record_id:
        return Resolution.TAKE_OVER
    return Resolution.DUPLICATE


def first_per_person(
    records: Sequence[PaymentRecord], candidates: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Split candidate indices into the first record of each person (who may claim) and the later
    records of a person already seen in this chunk (rejected as duplicates)."""
    seen: set[str] = set()
    first: list[int] = []
    later: list[int] = []
    for i in candidates:
        key = records[i].person_key
        if key in seen:
            later.append(i)
        else:
            seen.add(key)
            first.append(i)
    return first, later


__all__ = ["DUPLICATE", "Decision", "Holder", "Resolution", "first_per_person", "resolve"]
