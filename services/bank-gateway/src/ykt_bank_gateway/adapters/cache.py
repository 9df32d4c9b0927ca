"""Redis: the banks' verification answers, reused for a while.

Keys are `<prefix>verify:<blind index of (bank, account, holder, ID number)>`: no personal data
in clear, and nobody without the index key can test a guess. Values hold only the status, the
bank's reason and when the bank answered. The cache is best effort: when Redis fails, every item
is asked of the bank and nothing is stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..domain.verification import Answer

log = logging.getLogger(__name__)


class VerificationCache:
    """Verified and rejected answers by cache key, each with its own expiry."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix + "verify:"

    async def get_many(self, keys: Sequence[str]) -> dict[str, Answer]:
        if not keys:
            return {}
        try:
            values = await self.redis.mget([self.prefix + k for k in keys])
        except RedisError as exc:
            log.warning("verification cache read failed", extra={"error": type(exc).__name__})
            return {}
        found: dict[str, Answer] = {}
        for key, raw in zip(keys, values, strict=True):
            if raw is None:
                continue
            try:
                v = orjson.loads(raw)
                found[key] = Answer(
                    status=v["status"],
                    reason_code=v.get("reason_code"),
                    reason=v.get("reason"),
                    checked_at=datetime.fromisoformat(v["checked_at"]),
                    cached=True,
                )
            except (ValueError, KeyError, TypeError):
                continue  # unreadable (another version wrote it): ask the bank again
        return found

    async def put_many(self, answers: Mapping[str, tuple[Answer, int]]) -> None:
        """Store `key → (answer, ttl seconds)`; a ttl of 0 stores nothing."""
        todo = {k: v for k, v in answers.items() if v[1] > 0}
        if not todo:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, (answer, ttl) in todo.items():
                    value = {
                        "status": answer.status,
                        "reason_code": answer.reason_code,
                        "reason": answer.reason,
                        "checked_at": answer.checked_at.isoformat() if answer.checked_at else None,
                    }
                    pipe.set(self.prefix + key, orjson.dumps(value), ex=ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("verification cache write failed", extra={"error": type(exc).__name__})
