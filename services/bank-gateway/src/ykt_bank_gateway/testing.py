"""Helpers for tests of the bank-gateway and of journeys through it: serve an app over real HTTP
inside the running event loop, watch the bank callbacks it answers, build payment.instructed
chunks from synthetic people, sign callbacks like a bank."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ykt_contracts import MAX_RECORDS_PER_CHUNK, Totals
from ykt_contracts.chunking import chunked, totals_of
from ykt_contracts.events import Instruction, PaymentInstructedV1
from ykt_kit.crypto import PiiCipher
from ykt_kit.synthetic import Person, population


def bound_socket(*, listen: bool = True) -> socket.socket:
    """A socket on a free 127.0.0.1 port. Not listening, connections to it are refused; listening
    but not served, they hang; served, they are answered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    if listen:
        sock.listen(512)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


class InLoopServer(uvicorn.Server):
    """uvicorn in the caller's event loop; leaves signal handling to the test runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_in_loop(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """Serve `app` (lifespan off: the caller runs it) on `sock` in this loop; yield its URL."""
    sock.listen(512)
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=5
    )
    server = InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{sock.getsockname()[1]}")
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


class CallbackTap:
    """ASGI wrapper that lets callers wait for the bank callbacks the app has answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: list[tuple[str, int]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/bank-callbacks/"):
            await self.app(scope, receive, send)
            return
        status = 0

        async def tapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tapped)
        finally:
            async with self._changed:
                self.answers.append((scope["path"], status))
                self._changed.notify_all()

    def answered(self, status: int = 200) -> int:
        return sum(1 for _, s in self.answers if s == status)

    async def wait_for(self, predicate: Callable[[CallbackTap], bool], seconds: float = 60.0) -> None:
        """Wait until `predicate(self)` holds, re-checked after every callback answered."""
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: predicate(self))
        except TimeoutError as exc:
            raise AssertionError(f"timed out waiting for callbacks; answered {self.answers[-5:]}") from exc


def sign(secret: str, body: bytes) -> str:
    """X-Signature of a callback body, as a bank computes it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------ instructions


@dataclass(frozen=True)
class Payee:
    """A synthetic person paid by one instruction."""

    end_to_end_id: str
    person: Person
    person_key: str
    amount_fen: int


def payees(
    n: int, *, bank_code: str, seed: int | None = None, cipher: PiiCipher | None = None
) -> list[Payee]:
    """`n` synthetic payees of one bank, with fresh end-to-end ids and amounts in fen."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    people = population(
        n,
        seed=seed,
        area="500104",
        towns=[("500104101000", "八桥村"), ("500104102000", "建胜村")],
        bank_codes=[bank_code],
    )
    cipher = cipher or PiiCipher.from_hex("00112233445566778899aabbccddeeff", "ff" * 32)
    return [
        Payee(str(uuid.uuid4()), p, cipher.blind_index(p.id_number), rng.randrange(1_000, 200_000))
        for p in people
    ]


def instructed_chunks(
    payees_: Sequence[Payee],
    *,
    batch_id: str,
    bank_code: str,
    unit_code: str = "DEPT-CIVIL",
    program_code: str = "HM10",
    period: str = "2024-05",
    chunk_size: int = MAX_RECORDS_PER_CHUNK,
) -> list[PaymentInstructedV1]:
    """The payment.instructed chunks payment would send to one bank for these payees."""
    instructions = [
        Instruction(
            end_to_end_id=p.end_to_end_id,
            record_id=p.end_to_end_id,
            person_key=p.person_key,
            name=p.person.name,
            id_number=p.person.id_number,
            account_no=p.person.account_no,
            amount_fen=p.amount_fen,
            town_code=p.person.town_code,
            village=p.person.village,
        )
        for p in payees_
    ]
    bank_totals: Totals = totals_of(instructions, lambda i: i.amount_fen)
    return [
        PaymentInstructedV1(
            batch_id=batch_id,
            unit_code=unit_code,
            program_code=program_code,
            period=period,
            bank_code=bank_code,
            bank_totals=bank_totals,
            chunk=chunk,
            instructions=list(part),
        )
        for chunk, part in chunked(instructions, lambda i: i.amount_fen, chunk_size)
    ]


def account_book(
    payees_: Sequence[Payee], *, bank_code: str, overrides: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Bank simulator account-book entries for the payees (all normal accounts, names matching);
    `overrides` maps an end-to-end id to fields to change, or to {} to leave the account out."""
    book = []
    for p in payees_:
        entry: dict[str, Any] = {
            "bank_code": bank_code,
            "account_no": p.person.account_no,
            "holder_name": p.person.name,
            "holder_id_number": p.person.id_number,
            "state": "normal",
        }
        change = (overrides or {}).get(p.end_to_end_id)
        if change is not None and not change:
            continue
        book.append(entry | (change or {}))
    return book
