"""Fixtures of the bank-gateway tests: the real bank simulator served by uvicorn in a thread,
the gateway app run in-process and also served over real HTTP (so that the simulator's signed
callbacks reach it), and a reader of the dead-letter topic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from redis.asyncio import Redis
from ykt_bank_gateway.adapters.db.tables import bank_batches, instructions
from ykt_bank_gateway.config import Settings
from ykt_bank_gateway.dispatcher import Dispatcher
from ykt_bank_gateway.main import create_app
from ykt_bank_gateway.testing import CallbackTap, bound_socket, serve_in_loop, url_of
from ykt_banksim.config import Settings as BankSimSettings
from ykt_banksim.main import create_app as create_banksim
from ykt_contracts import DEAD_LETTER_TOPIC
from ykt_kit.actor import Role
from ykt_kit.outbox import OUTBOX
from ykt_kit.testing import actor_headers, running

CALLBACK_SECRET = "bankgw-test-callback-secret"  # noqa: S105 - test value


@pytest.fixture
def callback_secret() -> str:
    return CALLBACK_SECRET


@contextlib.asynccontextmanager
async def _serve_banksim(settings: BankSimSettings, sock: Any) -> AsyncIterator[str]:
    sock.listen(512)
    config = uvicorn.Config(
        create_banksim(settings),
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="banksim", daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()


StartBankSim = Callable[..., Awaitable[str]]


@pytest.fixture
async def start_banksim(tmp_path: Path) -> AsyncIterator[StartBankSim]:
    """Start the real bank simulator (ykt_banksim) in a thread; stopped after the test.

    `accounts` are account-book entries loaded at start-up; `sock` a socket bound beforehand
    (so a test can point the gateway at the bank before the bank is up)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            *,
            banks: Sequence[str],
            accounts: Sequence[dict[str, Any]] = (),
            sock: Any = None,
            **overrides: Any,
        ) -> str:
            book = tmp_path / f"accounts-{uuid.uuid4().hex[:8]}.json"
            book.write_text(json.dumps(list(accounts), ensure_ascii=False), encoding="utf-8")
            settings = BankSimSettings(
                banks=tuple(banks),
                callback_secret=CALLBACK_SECRET,
                accounts_file=book,
                **{"callback_backoff_initial": 0.05, "callback_backoff_max": 0.2, **overrides},
            )
            return await stack.enter_async_context(_serve_banksim(settings, sock or bound_socket()))

        yield start


@dataclass
class Gateway:
    """A running bank-gateway: in-process client, real URL, the callbacks it answered."""

    app: FastAPI
    client: httpx.AsyncClient
    url: str
    tap: CallbackTap
    settings: Settings

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app.state.dispatcher  # type: ignore[no-any-return]

    async def wait_for_dispatcher(self, predicate: Callable[[Dispatcher], bool], seconds: float = 60) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self.dispatcher.wait_until(predicate)
        except TimeoutError as exc:
            raise AssertionError(
                f"timed out waiting for bank requests; saw {dict(self.dispatcher.outcomes)}"
            ) from exc

    async def rows(self, batch_id: str) -> list[Any]:
        async with self.app.state.db.transaction() as s:
            stmt = sa.select(instructions).where(instructions.c.batch_id == batch_id)
            return list((await s.execute(stmt.order_by(instructions.c.end_to_end_id))).all())

    async def bank_batch(self, batch_id: str, bank_code: str) -> Any:
        async with self.app.state.db.transaction() as s:
            stmt = sa.select(bank_batches).where(
                bank_batches.c.batch_id == batch_id, bank_batches.c.bank_code == bank_code
            )
            return (await s.execute(stmt)).first()

    def service_headers(self, role: Role = Role.ADMIN) -> dict[str, str]:
        """Signed actor headers of a calling service (validation acts as the platform)."""
        return actor_headers(self.settings.service_secret, role, "PLATFORM", user="svc-validation")

    async def verify(self, items: Sequence[dict[str, Any]], *, refresh: bool = False) -> dict[str, Any]:
        """POST /api/v1/account-verifications as the validation service; the answer's body."""
        r = await self.client.post(
            "/api/v1/account-verifications",
            json={"items": list(items), "refresh": refresh},
            headers=self.service_headers(),
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def redis_entries(self) -> dict[str, int]:
        """This gateway's Redis keys (its prefix is unique per test) and their remaining seconds."""
        redis = Redis.from_url(self.settings.redis_url)
        try:
            keys = [k.decode() async for k in redis.scan_iter(match=self.settings.redis_prefix + "*")]
            return {k: int(await redis.ttl(k)) for k in keys}
        finally:
            await redis.aclose()

    async def outbox_count(self, batch_id: str) -> int:
        """Events written for a batch (they are keyed by batch id)."""
        async with self.app.state.db.transaction() as s:
            return int(
                (await s.execute(sa.select(sa.func.count()).where(OUTBOX.c.key == batch_id))).scalar_one()
            )


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_gateway(
    platform_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartGateway]:
    """Start the bank-gateway against the test PostgreSQL and broker; `env` sets BANKGW_<NAME>."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            *, bank_url: str, banks: Sequence[str], public_url: str | None = None, **env: Any
        ) -> Gateway:
            sock = bound_socket()
            values = {
                "public_url": public_url or url_of(sock),
                "bank_sim_url": bank_url,
                "banks": ",".join(banks),
                "callback_secret": CALLBACK_SECRET,
                "retry_base_seconds": 0.05,
                "retry_max_seconds": 0.5,
                "poll_seconds": 0.2,
                "redis_prefix": f"ykt:bankgw-test:{uuid.uuid4().hex[:8]}:",
                **env,
            }
            for name, value in values.items():
                monkeypatch.setenv(f"BANKGW_{name.upper()}", str(value))
            settings = Settings()
            app = create_app(settings)
            tap = CallbackTap(app)
            client = await stack.enter_async_context(running(app))
            url = await stack.enter_async_context(serve_in_loop(tap, sock))
            return Gateway(app=app, client=client, url=url, tap=tap, settings=settings)

        yield start


FindDeadLetter = Callable[..., Awaitable[tuple[dict[str, str], dict[str, Any]]]]


@pytest.fixture
def find_dead_letter(kafka_bootstrap: str) -> FindDeadLetter:
    """Read ykt.dead-letter from the beginning until the message of `event_id` shows up."""

    async def find(event_id: uuid.UUID, seconds: float = 60) -> tuple[dict[str, str], dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            DEAD_LETTER_TOPIC,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"bankgw-dlq-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            async with asyncio.timeout(seconds):
                async for msg in consumer:
                    try:
                        body = json.loads(msg.value)
                    except ValueError:
                        continue
                    if isinstance(body, dict) and body.get("event_id") == str(event_id):
                        return {k: v.decode() for k, v in msg.headers}, body
        except TimeoutError as exc:
            raise AssertionError(f"no dead letter for event {event_id}") from exc
        finally:
            await consumer.stop()
        raise AssertionError("dead-letter consumer stopped")

    return find
