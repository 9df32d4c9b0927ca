"""Account verification with the agent banks, for other services (validation): answer a set of
items from the cache where the bank's word is still fresh, ask each bank for the rest through
the adapter that verifies for it (its requests in parallel, at most `verify_batch_size` items
each), cache what the banks said, and report `pending` for what they did not say in time.

Nothing here is stored in PostgreSQL: the answer goes back to the caller, who owns the record
and decides when to ask again about pending items. Logs and metrics name banks and counts only."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from ykt_kit.crypto import PiiCipher
from ykt_kit.telemetry import tracer

from .adapters.cache import VerificationCache
from .config import Settings
from .domain.ports import AccountVerifier, BankError
from .domain.verification import (
    PENDING_BY_OUTCOME,
    Answer,
    VerificationItem,
    cache_key,
    from_bank,
    pending,
    ttl_seconds,
    unsupported,
)
from .metrics import (
    VERIFICATION_ITEMS,
    VERIFICATION_REJECTIONS,
    VERIFICATION_REQUEST_SECONDS,
    VERIFICATION_REQUESTS,
)

log = logging.getLogger(__name__)

#: metrics label of bank codes this gateway does not serve (callers choose them: bounded cardinality)
OTHER_BANK = "other"
#: blind-index purpose of cache keys: the same index key gives unrelated digests for other purposes
CACHE_PURPOSE = "bankgw-account-verification"


class AccountVerifications:
    """The use case behind POST /api/v1/account-verifications."""

    def __init__(
        self,
        settings: Settings,
        *,
        verifiers: dict[str, AccountVerifier | None],
        cache: VerificationCache,
        cipher: PiiCipher,
    ) -> None:
        self.settings = settings
        self.verifiers = verifiers
        self.cache = cache
        self.cipher = cipher
        self._limits = {bank: asyncio.Semaphore(settings.verify_concurrency) for bank in verifiers}
        #: bank requests made, by (bank, outcome): lets tests wait without sleeping
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def key(self, item: VerificationItem) -> str:
        return cache_key(item, lambda material: self.cipher.blind_index(material, purpose=CACHE_PURPOSE))

    async def verify(self, items: Sequence[VerificationItem], *, refresh: bool = False) -> list[Answer]:
        """One answer per item, in order. `refresh`: ask the banks even when an answer is cached."""
        answers: list[Answer | None] = [None] * len(items)
        keys: dict[int, str] = {}
        for n, item in enumerate(items):
            if item.bank_code not in self.verifiers:
                answers[n] = unsupported("BANK_NOT_CONFIGURED")
            elif self.verifiers[item.bank_code] is None:
                answers[n] = unsupported("VERIFICATION_UNSUPPORTED")
            else:
                keys[n] = self.key(item)

        known: dict[str, Answer] = {}
        if not refresh:
            known = await self.cache.get_many(sorted(set(keys.values())))
        # the same account of the same person asked twice is asked of the bank once
        todo: dict[str, dict[str, VerificationItem]] = defaultdict(dict)
        for n, key in keys.items():
            if key not in known:
                todo[items[n].bank_code].setdefault(key, items[n])

        size = self.settings.verify_batch_size
        requests = [
            (bank, list(group.items())[start : start + size])
            for bank, group in todo.items()
            for start in range(0, len(group), size)
        ]
        results = await asyncio.gather(*(self._ask(bank, part) for bank, part in requests))
        fresh: dict[str, Answer] = {k: a for result in results for k, a in result.items()}
        s = self.settings
        await self.cache.put_many(
            {
                k: (
                    a,
                    ttl_seconds(
                        a, verified=s.verify_ttl_verified_seconds, rejected=s.verify_ttl_rejected_seconds
                    ),
                )
                for k, a in fresh.items()
                if a.final
            }
        )
        out: list[Answer] = []
        for n, item in enumerate(items):
            answer = answers[n] or fresh.get(keys[n]) or known[keys[n]]
            source = "cache" if answer.cached else ("bank" if answer.final else "none")
            VERIFICATION_ITEMS.labels(self._label(item.bank_code), answer.status, source).inc()
            out.append(answer)
        return out

    def _label(self, bank: str) -> str:
        return bank if bank in self.verifiers else OTHER_BANK

    async def _ask(self, bank: str, part: list[tuple[str, VerificationItem]]) -> dict[str, Answer]:
        """One request to one bank; every item without the bank's word comes back pending."""
        verifier = self.verifiers[bank]
        assert verifier is not None
        outcome, error = "ok", None
        async with self._limits[bank]:
            started = time.perf_counter()
            with tracer("ykt.bank-gateway").start_as_current_span(
                "bank verify accounts", attributes={"ykt.bank": bank, "ykt.records": len(part)}
            ):
                try:
                    async with asyncio.timeout(self.settings.verify_timeout_seconds):
                        verdicts = await verifier.verify(bank, [item for _, item in part])
                except (BankError, TimeoutError) as exc:
                    verdicts = {}
                    outcome = exc.outcome if isinstance(exc, BankError) else "timeout"
                    error = str(exc) if isinstance(exc, BankError) else "timed out"
                except Exception as exc:  # an adapter bug: its message may carry data, log its type
                    verdicts, outcome, error = {}, "error", type(exc).__name__
            elapsed = time.perf_counter() - started
        VERIFICATION_REQUESTS.labels(bank, outcome).inc()
        VERIFICATION_REQUEST_SECONDS.labels(bank).observe(elapsed)
        self.outcomes[(bank, outcome)] += 1
        now = datetime.now(UTC)
        missing = (
            PENDING_BY_OUTCOME.get(outcome, "BANK_UNAVAILABLE") if outcome != "ok" else "BANK_INCOMPLETE"
        )
        answers: dict[str, Answer] = {}
        rejected: Counter[str] = Counter()
        for key, item in part:
            verdict = verdicts.get(item.item_id)
            answers[key] = from_bank(verdict, now) if verdict is not None else pending(missing)
            if answers[key].status == "rejected":
                rejected[answers[key].reason_code or "UNKNOWN"] += 1
        for reason, n in rejected.items():
            VERIFICATION_REJECTIONS.labels(bank, reason).inc(n)
        extra = {"bank": bank, "items": len(part), "outcome": outcome, "answered": len(verdicts)}
        if outcome == "ok":
            log.info("accounts verified with the bank", extra=extra | {"rejected": sum(rejected.values())})
        else:
            log.warning("bank did not answer the verification; items pending", extra=extra | {"error": error})
        return answers
