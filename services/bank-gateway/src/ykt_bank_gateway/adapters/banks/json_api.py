"""The banks' JSON HTTP API (the protocol the bank simulator speaks):

- ``POST {base}/banks/{bank}/api/v1/credit-transfers`` with the instructions and a callback URL,
  answered 202 ``{"accepted": n, "duplicates": m}`` (idempotent by end-to-end id);
- results later POSTed to the callback URL, signed (see ``adapters/api/callbacks.py``);
- ``GET {base}/banks/{bank}/api/v1/credit-transfers/{e2e}`` for one instruction's status, or 404;
- ``POST {base}/banks/{bank}/api/v1/account-verifications`` with up to 1,000 accounts, answered in
  the response; request and answer are signed like callbacks (X-Signature, HMAC-SHA256 of the raw
  body with the bank's shared secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import httpx
from ykt_kit.crypto import constant_time_equal

from ...domain.model import BankResult, OutgoingInstruction
from ...domain.ports import BankRejected, BankTimeout, BankUnavailable
from ...domain.verification import BankVerdict, VerificationItem

log = logging.getLogger(__name__)


class JsonApiAdapter:
    """BankAdapter over the JSON credit-transfer API."""

    name = "json-api"

    def __init__(
        self,
        *,
        base_url: str,
        callback_url: Callable[[str], str],
        client: httpx.AsyncClient,
        secret: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.callback_url = callback_url
        self.client = client
        self.secret = secret

    def _url(self, bank_code: str, suffix: str = "") -> str:
        return f"{self.base_url}/banks/{bank_code}/api/v1/credit-transfers{suffix}"

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise BankTimeout(f"{method} timed out") from exc
        except httpx.TransportError as exc:
            raise BankUnavailable(f"{method} failed: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise BankUnavailable(f"{method} answered HTTP {response.status_code}")
        return response

    async def send(self, bank_code: str, batch_ref: str, instructions: Sequence[OutgoingInstruction]) -> None:
        body = {
            "batch_ref": batch_ref,
            "callback_url": self.callback_url(bank_code),
            "instructions": [
                {
                    "end_to_end_id": i.end_to_end_id,
                    "payee_name": i.payee_name,
                    "payee_account": i.payee_account,
                    "payee_id_number": i.payee_id_number,
                    "amount_fen": i.amount_fen,
                    "memo": i.memo,
                }
                for i in instructions
            ],
        }
        response = await self._call("POST", self._url(bank_code), json=body)
        if response.status_code not in (200, 201, 202):
            raise BankRejected(f"POST answered HTTP {response.status_code}")
        try:
            answer = response.json()
            log.info(
                "bank accepted credit transfers",
                extra={
                    "bank": bank_code,
                    "batch_ref": batch_ref,
                    "accepted": int(answer.get("accepted", 0)),
                    "duplicates": int(answer.get("duplicates", 0)),
                },
            )
        except (ValueError, TypeError, AttributeError):
            log.warning(
                "bank answered without the expected counts", extra={"bank": bank_code, "batch_ref": batch_ref}
            )

    async def query(self, bank_code: str, end_to_end_id: str) -> BankResult | None:
        response = await self._call("GET", self._url(bank_code, f"/{end_to_end_id}"))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise BankRejected(f"GET answered HTTP {response.status_code}")
        try:
            data = response.json()
            status = data["status"]
            if status not in ("processing", "settled", "failed"):
                raise ValueError(status)
            settled_on = data.get("settled_on")
            amount = data.get("amount_fen")
            return BankResult(
                end_to_end_id=str(data.get("end_to_end_id") or end_to_end_id),
                status=status,
                amount_fen=int(amount) if amount is not None else None,
                reason_code=data.get("reason_code"),
                reason=data.get("reason"),
                bank_txn_id=data.get("bank_txn_id"),
                settled_on=date.fromisoformat(settled_on) if settled_on else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BankRejected("GET answered an unreadable status") from exc

    def _sign(self, body: bytes) -> str:
        if not self.secret:
            raise BankRejected("no secret configured to sign verification requests")
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    async def verify(self, bank_code: str, items: Sequence[VerificationItem]) -> Mapping[str, BankVerdict]:
        request_ref = f"V-{uuid.uuid4().hex}"
        body = json.dumps(
            {
                "request_ref": request_ref,
                "items": [
                    {
                        "item_id": i.item_id,
                        "account_no": i.account_no,
                        "holder_name": i.holder_name,
                        "holder_id_number": i.id_number,
                    }
                    for i in items
                ],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        response = await self._call(
            "POST",
            f"{self.base_url}/banks/{bank_code}/api/v1/account-verifications",
            content=body,
            headers={"content-type": "application/json; charset=utf-8", "X-Signature": self._sign(body)},
        )
        if response.status_code != 200:
            raise BankRejected(f"verification answered HTTP {response.status_code}")
        signature = response.headers.get("x-signature", "")
        if not constant_time_equal(self._sign(response.content), signature.strip().lower()):
            raise BankRejected("verification answer with a bad signature")
        asked = {i.item_id for i in items}
        verdicts: dict[str, BankVerdict] = {}
        try:
            answer = response.json()
            if answer.get("bank_code") != bank_code or answer.get("request_ref") != request_ref:
                raise ValueError("answer of another request")
            for r in answer["results"]:
                item_id, status = str(r["item_id"]), r["status"]
                if item_id not in asked or status not in ("ok", "failed"):
                    continue  # not ours, or a status we cannot read: the item stays pending
                code, reason = r.get("reason_code"), r.get("reason")
                verdicts[item_id] = BankVerdict(
                    status=status,
                    reason_code=str(code) if code is not None else None,
                    reason=str(reason) if reason is not None else None,
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BankRejected("verification answer unreadable") from exc
        log.info(
            "bank answered account verification",
            extra={
                "bank": bank_code,
                "request_ref": request_ref,
                "items": len(items),
                "answered": len(verdicts),
            },
        )
        return verdicts
