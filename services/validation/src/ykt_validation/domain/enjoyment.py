"""Duplicate enjoyment (重复享受): who may claim a person's program period in the ledger.

The ledger's primary key (person, program, period) is what makes the rule hold under
concurrency; this module only decides, from what the ledger answered, what a record that did
not get a fresh claim is: the holder itself, a re-issue taking over, or a duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from ykt_contracts.events import PaymentRecord, ProgramRules

from .rules import DUPLICATE_ENJOYMENT, DUPLICATE_ENJOYMENT_MESSAGE, Decision, exclusive_program, reject

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


# ------------------------------------------------------------------ mutually exclusive programs
#
# A record of a program that excludes others claims one key per exclusive pair: (person, period,
# "A|B" with the codes sorted). Both programs of the pair claim the same key, so the ledger's
# primary key decides which one a person gets for the period, race-safe like the duplicate rule.


def pair_key(a: str, b: str) -> str:
    """The key both programs of an exclusive pair claim: their codes sorted, joined by "|"."""
    return "|".join(sorted((a, b)))


def exclusion_pairs(program: ProgramRules | None) -> list[str]:
    """The pair keys a record of `program` claims (none for an old producer's event)."""
    if program is None:
        return []
    return sorted(
        {pair_key(program.code, other) for other in program.exclusive_with if other != program.code}
    )


@dataclass(frozen=True)
class ExclusionHolder:
    """The record currently holding a person's claim on an exclusive pair for a period."""

    person_key: str
    pair: str
    program_code: str
    record_id: str
    batch_id: str


def resolve_exclusion(record: PaymentRecord, program_code: str, holder: ExclusionHolder | None) -> Resolution:
    """Decide a pair key the record did not get a fresh claim on, from its current holder: held by
    another program's record means the exclusive program (`Resolution.DUPLICATE` here too; the
    caller names the holder's program)."""
    if holder is None:
        return Resolution.VANISHED
    if holder.record_id == record.record_id:
        return Resolution.HELD_BY_SELF
    if (
        holder.program_code == program_code
        and record.reissue_of_record_id is not None
        and holder.record_id == record.reissue_of_record_id
    ):
        return Resolution.TAKE_OVER
    return Resolution.DUPLICATE


def excluded_by(program_code: str, holder: ExclusionHolder) -> Decision:
    """The rejection of a record whose pair key `holder` holds: the other program, or a duplicate
    of its own program (which the program's own ledger key should already have caught)."""
    if holder.program_code == program_code:
        return DUPLICATE
    return exclusive_program(holder.program_code)


__all__ = [
    "DUPLICATE",
    "Decision",
    "ExclusionHolder",
    "Holder",
    "Resolution",
    "excluded_by",
    "exclusion_pairs",
    "first_per_person",
    "pair_key",
    "resolve",
    "resolve_exclusion",
]
