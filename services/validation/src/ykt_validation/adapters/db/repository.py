"""Every query of the validation service; each works on a whole chunk in one statement."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.enjoyment import ExclusionHolder, Holder
from .tables import ENJOYMENT_LEDGER, EXCLUSION_CLAIMS, VERDICTS

# Rows are inserted and locked in person_key order, so two chunks claiming overlapping people
# wait for each other instead of deadlocking.
_CLAIM = sa.text(
    """
    INSERT INTO enjoyment_ledger (person_key, program_code, period, record_id, batch_id, claimed_at)
    SELECT c.person_key, :program_code, :period, c.record_id, :batch_id, now()
    FROM unnest(CAST(:person_keys AS text[]), CAST(:record_ids AS text[])) AS c(person_key, record_id)
    ORDER BY c.person_key
    ON CONFLICT (person_key, program_code, period) DO NOTHING
    RETURNING record_id
    """
)

_HOLDERS = sa.text(
    """
    SELECT person_key, record_id, batch_id
    FROM enjoyment_ledger
    WHERE program_code = :program_code AND period = :period
      AND person_key = ANY(CAST(:person_keys AS text[]))
    ORDER BY person_key
    FOR UPDATE
    """
)

_TAKE_OVER = sa.text(
    """
    UPDATE enjoyment_ledger AS l
    SET record_id = t.new_record_id, batch_id = :batch_id, claimed_at = now()
    FROM unnest(CAST(:person_keys AS text[]), CAST(:old_record_ids AS text[]), CAST(:new_record_ids AS text[]))
         AS t(person_key, old_record_id, new_record_id)
    WHERE l.program_code = :program_code AND l.period = :period
      AND l.person_key = t.person_key AND l.record_id = t.old_record_id
    RETURNING l.record_id
    """
)

# One key per (person, exclusive pair); rows in (person_key, pair) order, as above.
_CLAIM_EXCLUSIONS = sa.text(
    """
    INSERT INTO exclusion_claims (person_key, period, pair, program_code, record_id, batch_id, claimed_at)
    SELECT c.person_key, :period, p.pair, :program_code, c.record_id, :batch_id, now()
    FROM unnest(CAST(:person_keys AS text[]), CAST(:record_ids AS text[])) AS c(person_key, record_id)
    CROSS JOIN unnest(CAST(:pairs AS text[])) AS p(pair)
    ORDER BY c.person_key, p.pair
    ON CONFLICT (person_key, period, pair) DO NOTHING
    RETURNING record_id, pair
    """
)

_EXCLUSION_HOLDERS = sa.text(
    """
    SELECT person_key, pair, program_code, record_id, batch_id
    FROM exclusion_claims
    WHERE period = :period
      AND person_key = ANY(CAST(:person_keys AS text[])) AND pair = ANY(CAST(:pairs AS text[]))
    ORDER BY person_key, pair
    FOR UPDATE
    """
)

_TAKE_OVER_EXCLUSIONS = sa.text(
    """
    UPDATE exclusion_claims AS l
    SET record_id = t.new_record_id, batch_id = :batch_id, claimed_at = now()
    FROM unnest(CAST(:person_keys AS text[]), CAST(:old_record_ids AS text[]), CAST(:new_record_ids AS text[]))
         AS t(person_key, old_record_id, new_record_id)
    WHERE l.period = :period AND l.program_code = :program_code
      AND l.person_key = t.person_key AND l.record_id = t.old_record_id
    RETURNING l.record_id
    """
)

# Claims that records of this chunk hold from an earlier round but may not keep now: the record
# no longer passes the rules, or its ID number (so its person) was corrected. The same for the
# ledger and for the exclusive-pair claims (both carry program, period, person and record).
_RELEASE_STALE_SQL = """
    DELETE FROM {table} AS l
    USING unnest(CAST(:record_ids AS text[])) AS c(record_id)
    WHERE l.record_id = c.record_id
      AND l.program_code = :program_code AND l.period = :period
      AND NOT EXISTS (
        SELECT 1
        FROM unnest(CAST(:keep_record_ids AS text[]), CAST(:keep_person_keys AS text[])) AS k(record_id, person_key)
        WHERE k.record_id = l.record_id AND k.person_key = l.person_key
      )
    """
_RELEASE_STALE = sa.text(_RELEASE_STALE_SQL.format(table="enjoyment_ledger"))
_RELEASE_STALE_EXCLUSIONS = sa.text(_RELEASE_STALE_SQL.format(table="exclusion_claims"))

# A later round re-decides a corrected record; an older round arriving late changes nothing.
_SAVE_VERDICTS = sa.text(
    """
    INSERT INTO verdicts (record_id, batch_id, round, seq, outcome, code, message, rule_set_version, decided_at,
                          register_imports)
    SELECT v.record_id, :batch_id, :round, v.seq, v.outcome, v.code, v.message, :rule_set_version, now(),
           CAST(:register_imports AS jsonb)
    FROM unnest(CAST(:record_ids AS text[]), CAST(:seqs AS integer[]), CAST(:outcomes AS text[]),
                CAST(:codes AS text[]), CAST(:messages AS text[])) AS v(record_id, seq, outcome, code, message)
    ON CONFLICT (record_id) DO UPDATE
    SET batch_id = EXCLUDED.batch_id, round = EXCLUDED.round, seq = EXCLUDED.seq, outcome = EXCLUDED.outcome,
        code = EXCLUDED.code, message = EXCLUDED.message, rule_set_version = EXCLUDED.rule_set_version,
        decided_at = EXCLUDED.decided_at, register_imports = EXCLUDED.register_imports
    WHERE verdicts.round <= EXCLUDED.round
    """
)


@dataclass(frozen=True)
class VerdictRow:
    """A stored verdict as the API shows it (no personal data)."""

    record_id: str
    round: int
    seq: int
    outcome: str
    code: str
    message: str
    rule_set_version: str


@dataclass(frozen=True)
class NewVerdict:
    """A verdict to store for one record of a chunk."""

    record_id: str
    seq: int
    outcome: str
    code: str
    message: str


class Repository:
    """Ledger and verdict queries inside the caller's transaction (never commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---------------------------------------------------------------- ledger

    async def claim(
        self,
        *,
        program_code: str,
        period: str,
        batch_id: str,
        claims: Sequence[tuple[str, str]],
    ) -> set[str]:
        """Claim (person_key, record_id) pairs set-wise; returns the record ids that got a new claim."""
        if not claims:
            return set()
        rows = await self.session.execute(
            _CLAIM,
            {
                "program_code": program_code,
                "period": period,
                "batch_id": batch_id,
                "person_keys": [k for k, _ in claims],
                "record_ids": [r for _, r in claims],
            },
        )
        return {r for (r,) in rows}

    async def release_stale(
        self,
        *,
        program_code: str,
        period: str,
        record_ids: Sequence[str],
        keep: Sequence[tuple[str, str]],
    ) -> int:
        """Release claims held by `record_ids` except the (record_id, person_key) pairs in `keep`."""
        if not record_ids:
            return 0
        params = {
            "program_code": program_code,
            "period": period,
            "record_ids": list(record_ids),
            "keep_record_ids": [r for r, _ in keep],
            "keep_person_keys": [k for _, k in keep],
        }
        result = await self.session.execute(_RELEASE_STALE, params)
        await self.session.execute(_RELEASE_STALE_EXCLUSIONS, params)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def holders(
        self, *, program_code: str, period: str, person_keys: Sequence[str]
    ) -> dict[str, Holder]:
        """Current holders of these people's claims, locked until the transaction ends."""
        if not person_keys:
            return {}
        rows = await self.session.execute(
            _HOLDERS, {"program_code": program_code, "period": period, "person_keys": list(person_keys)}
        )
        return {k: Holder(k, r, b) for k, r, b in rows}

    async def take_over(
        self,
        *,
        program_code: str,
        period: str,
        batch_id: str,
        moves: Sequence[tuple[str, str, str]],
    ) -> set[str]:
        """Move claims (person_key, old_record_id, new_record_id) to re-issued records; returns the new ids moved."""
        if not moves:
            return set()
        rows = await self.session.execute(
            _TAKE_OVER,
            {
                "program_code": program_code,
                "period": period,
                "batch_id": batch_id,
                "person_keys": [k for k, _, _ in moves],
                "old_record_ids": [o for _, o, _ in moves],
                "new_record_ids": [n for _, _, n in moves],
            },
        )
        return {r for (r,) in rows}

    async def release_records(self, record_ids: Sequence[str]) -> int:
        """Delete the claims (and exclusive-pair claims) these records hold; returns how many ledger claims."""
        if not record_ids:
            return 0
        ids = list(record_ids)
        result = await self.session.execute(
            sa.delete(ENJOYMENT_LEDGER).where(ENJOYMENT_LEDGER.c.record_id.in_(ids))
        )
        await self.session.execute(sa.delete(EXCLUSION_CLAIMS).where(EXCLUSION_CLAIMS.c.record_id.in_(ids)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def release_batch(self, batch_id: str) -> int:
        """Delete every claim held by records of this batch; returns how many ledger claims."""
        result = await self.session.execute(
            sa.delete(ENJOYMENT_LEDGER).where(ENJOYMENT_LEDGER.c.batch_id == batch_id)
        )
        await self.session.execute(sa.delete(EXCLUSION_CLAIMS).where(EXCLUSION_CLAIMS.c.batch_id == batch_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- exclusive pairs

    async def claim_exclusions(
        self,
        *,
        program_code: str,
        period: str,
        batch_id: str,
        pairs: Sequence[str],
        claims: Sequence[tuple[str, str]],
    ) -> set[tuple[str, str]]:
        """Claim every pair key for each (person_key, record_id); returns the (record_id, pair) claimed now."""
        if not claims or not pairs:
            return set()
        rows = await self.session.execute(
            _CLAIM_EXCLUSIONS,
            {
                "program_code": program_code,
                "period": period,
                "batch_id": batch_id,
                "pairs": list(pairs),
                "person_keys": [k for k, _ in claims],
                "record_ids": [r for _, r in claims],
            },
        )
        return {(r, p) for r, p in rows}

    async def exclusion_holders(
        self, *, period: str, person_keys: Sequence[str], pairs: Sequence[str]
    ) -> dict[tuple[str, str], ExclusionHolder]:
        """(person_key, pair) → current holder, locked until the transaction ends."""
        if not person_keys or not pairs:
            return {}
        rows = await self.session.execute(
            _EXCLUSION_HOLDERS, {"period": period, "person_keys": list(person_keys), "pairs": list(pairs)}
        )
        return {(k, p): ExclusionHolder(k, p, prog, r, b) for k, p, prog, r, b in rows}

    async def take_over_exclusions(
        self, *, program_code: str, period: str, batch_id: str, moves: Sequence[tuple[str, str, str]]
    ) -> set[str]:
        """Move pair claims (person_key, old_record_id, new_record_id) to re-issued records."""
        if not moves:
            return set()
        rows = await self.session.execute(
            _TAKE_OVER_EXCLUSIONS,
            {
                "program_code": program_code,
                "period": period,
                "batch_id": batch_id,
                "person_keys": [k for k, _, _ in moves],
                "old_record_ids": [o for _, o, _ in moves],
                "new_record_ids": [n for _, _, n in moves],
            },
        )
        return {r for (r,) in rows}

    async def release_claims_of(self, *, program_code: str, period: str, record_ids: Sequence[str]) -> None:
        """Drop the ledger and pair claims these records made, once they are rejected after claiming."""
        if not record_ids:
            return
        ids = list(record_ids)
        await self.session.execute(
            sa.delete(ENJOYMENT_LEDGER).where(
                ENJOYMENT_LEDGER.c.record_id.in_(ids),
                ENJOYMENT_LEDGER.c.program_code == program_code,
                ENJOYMENT_LEDGER.c.period == period,
            )
        )
        await self.session.execute(
            sa.delete(EXCLUSION_CLAIMS).where(
                EXCLUSION_CLAIMS.c.record_id.in_(ids),
                EXCLUSION_CLAIMS.c.program_code == program_code,
                EXCLUSION_CLAIMS.c.period == period,
            )
        )

    # ---------------------------------------------------------------- verdicts

    async def save_verdicts(
        self,
        *,
        batch_id: str,
        round: int,
        rule_set_version: str,
        verdicts: Sequence[NewVerdict],
        register_imports: Mapping[str, str] | None = None,
    ) -> None:
        """Upsert the chunk's verdicts in one statement (one row per record id), each naming the rule
        set and the register imports (kind → import id) they were decided on."""
        if not verdicts:
            return
        await self.session.execute(
            _SAVE_VERDICTS,
            {
                "batch_id": batch_id,
                "round": round,
                "rule_set_version": rule_set_version,
                "register_imports": None if register_imports is None else json.dumps(dict(register_imports)),
                "record_ids": [v.record_id for v in verdicts],
                "seqs": [v.seq for v in verdicts],
                "outcomes": [v.outcome for v in verdicts],
                "codes": [v.code for v in verdicts],
                "messages": [v.message for v in verdicts],
            },
        )

    async def verdict_counts(self, batch_id: str) -> list[tuple[str, str, int]]:
        """(outcome, code, count) of a batch's verdicts."""
        rows = await self.session.execute(
            sa.select(VERDICTS.c.outcome, VERDICTS.c.code, sa.func.count())
            .where(VERDICTS.c.batch_id == batch_id)
            .group_by(VERDICTS.c.outcome, VERDICTS.c.code)
            .order_by(VERDICTS.c.outcome, VERDICTS.c.code)
        )
        return [(o, c, int(n)) for o, c, n in rows]

    async def list_verdicts(
        self, *, batch_id: str, outcome: str | None, limit: int, offset: int
    ) -> list[VerdictRow]:
        """A page of a batch's verdicts in submission order."""
        q = sa.select(
            VERDICTS.c.record_id,
            VERDICTS.c.round,
            VERDICTS.c.seq,
            VERDICTS.c.outcome,
            VERDICTS.c.code,
            VERDICTS.c.message,
            VERDICTS.c.rule_set_version,
        ).where(VERDICTS.c.batch_id == batch_id)
        if outcome is not None:
            q = q.where(VERDICTS.c.outcome == outcome)
        q = q.order_by(VERDICTS.c.seq, VERDICTS.c.record_id).limit(limit).offset(offset)
        return [VerdictRow(*row) for row in await self.session.execute(q)]
