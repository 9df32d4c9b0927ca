"""Redis: the JSON API's answer cache and the personal query's rate limits."""

from __future__ import annotations

import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from ykt_kit.errors import DomainError

log = logging.getLogger(__name__)

# INCR and, on the first hit, EXPIRE in one atomic step: the window starts at the client's first
# request, so a burst is counted against one window whatever the wall clock says.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""


def digest(value: str) -> str:
    """Keys never carry a client address or an index of personal data in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class TooManyQueries(DomainError):
    status = 429
    code = "RATE_LIMITED"


class LimiterUnavailable(DomainError):
    status = 503
    code = "RATE_LIMIT_UNAVAILABLE"


class Store:
    """The service's Redis: cached API answers (best effort) and rate limits (fail closed)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def cached(self, key: str) -> bytes | None:
        try:
            value = await self.redis.get(self.prefix + "api:" + key)
        except RedisError as exc:
            log.warning("cache read failed", extra={"error": type(exc).__name__})
            return None
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def cache(self, key: str, body: bytes, seconds: int) -> None:
        try:
            await self.redis.set(self.prefix + "api:" + key, body, ex=seconds)
        except RedisError as exc:
            log.warning("cache write failed", extra={"error": type(exc).__name__})

    async def hit(self, scope: str, who: str, *, limit: int, window_seconds: int) -> None:
        """Count one request of `who` in `scope`; 429 beyond `limit` per window. Without Redis the
        query is refused (503): an unlimited personal query would allow enumeration."""
        key = f"{self.prefix}limit:{scope}:{digest(who)}"
        try:
            count, ttl = await self.redis.eval(_HIT, 1, key, window_seconds)
        except RedisError as exc:
            log.error("rate limiter unavailable", extra={"error": type(exc).__name__})
            raise LimiterUnavailable("查询服务暂时不可用，请稍后再试") from exc
        if int(count) > limit:
            retry = max(1, int(ttl))
            raise TooManyQueries("查询过于频繁，请稍后再试", retry_after=retry)
