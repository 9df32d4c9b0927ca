"""Signed result callbacks, delivered until the receiver answers 2xx (bounded, with backoff)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

log = logging.getLogger("ykt_banksim.callbacks")

SIGNATURE_HEADER = "X-Signature"
BANK_CODE_HEADER = "X-Bank-Code"


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does with X-Signature (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), signature.strip().lower())


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (UTF-8 JSON, Chinese left readable)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class CallbackSender:
    """Posts signed callbacks; retries on transport errors and non-2xx answers."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        secret: str,
        attempts: int,
        backoff_initial: float,
        backoff_max: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._secret = secret
        self._attempts = attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._sleep = sleep

    def delay(self, failed_attempts: int) -> float:
        """Wait before the next attempt: doubling from the initial delay, capped."""
        return min(self._backoff_max, self._backoff_initial * 2 ** (failed_attempts - 1))

    async def deliver(self, url: str, *, bank_code: str, batch_ref: str, body: bytes) -> bool:
        """Send one callback; True once a 2xx came back, False when every attempt failed."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            BANK_CODE_HEADER: bank_code,
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            else:
                if response.is_success:
                    return True
                outcome = f"HTTP {response.status_code}"
            log.warning(
                "callback of bank %s batch %s failed (attempt %d/%d): %s",
                bank_code,
                batch_ref,
                attempt,
                self._attempts,
                outcome,
            )
            if attempt < self._attempts:
                await self._sleep(self.delay(attempt))
        log.error(
            "callback of bank %s batch %s abandoned after %d attempts", bank_code, batch_ref, self._attempts
        )
        return False
