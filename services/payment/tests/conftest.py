"""Fixtures of the payment tests: the service running in-process against the session's real
PostgreSQL and broker, a real HTTP treasury, a watcher of message outcomes (so that tests wait
for a message to be handled instead of sleeping), and builders of input events."""

from __future__ import annotations

import secrets
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from ykt_contracts import (
    MAX_RECORDS_PER_CHUNK,
    BatchSentV1,
    BatchValidatedV1,
    Envelope,
    FailedRecord,
    PaymentFailedV1,
    PaymentRecord,
    PaymentSettledV1,
    RecordVerdict,
    SettledRecord,
    Totals,
)
from ykt_contracts.chunking import chunked, totals_of
from ykt_contracts.reference import TOWNS
from ykt_kit.actor import Role
from ykt_kit.synthetic import population
from ykt_kit.testing import HandledEvents, actor_headers, publish, running
from ykt_payment.config import Settings
from ykt_payment.main import create_app

FINANCE_ORG = "CZJ-500104"
BANKS = ("CQRCB", "ICBC")


# ---------------------------------------------------------------- the treasury


@dataclass
class HttpServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def serve_in_thread(app: FastAPI, name: str) -> HttpServer:
    """Serve `app` with uvicorn in a thread, on a socket bound and listening before it starts
    (so requests queue in the backlog and nobody has to wait for the server to come up)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=name)
    thread.start()
    return HttpServer(f"http://127.0.0.1:{port}", server, thread)


@dataclass
class TreasurySim:
    """The colleague's treasury simulator (ykt_treasurysim), served over real HTTP."""

    url: str

    async def _get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=10) as http:
            return await http.get(path)

    async def for_batch(self, batch_id: str) -> list[dict[str, Any]]:
        """The applications paid for a batch's banks."""
        resp = await self._get("/api/v1/payment-applications")
        return [a for a in resp.json()["applications"] if a["application_ref"].startswith(f"{batch_id}:")]

    async def voucher(self, application_ref: str) -> str:
        resp = await self._get(f"/api/v1/payment-applications/{application_ref}")
        assert resp.status_code == 200, resp.text
        return str(resp.json()["voucher_no"])

    async def apply(self, body: dict[str, Any]) -> httpx.Response:
        """Apply directly, as another system (or an earlier, interrupted attempt) would."""
        async with httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=10) as http:
            return await http.post("/api/v1/payment-applications", json=body)


@pytest.fixture(scope="session")
def treasury() -> Iterator[TreasurySim]:
    from ykt_treasurysim.main import create_app as create_treasury

    srv = serve_in_thread(create_treasury(), "treasury-sim")
    yield TreasurySim(srv.url)
    srv.stop()


@pytest.fixture(scope="session")
def faulty_treasury_url() -> Iterator[str]:
    """A treasury that misbehaves: 503 for budget documents starting with DOWN, a 200 without a
    voucher for GARBLED, and 200 with another amount for SHORT."""
    app = FastAPI()

    @app.post("/api/v1/payment-applications")
    async def pay(request: Request) -> JSONResponse:
        body = await request.json()
        doc = body["budget_doc_no"]
        if doc.startswith("DOWN"):
            return JSONResponse({"error": {"code": "MAINTENANCE", "message": "系统维护中"}}, status_code=503)
        if doc.startswith("GARBLED"):
            return JSONResponse({"status": "paid"})
        if doc.startswith("SHORT"):
            return JSONResponse({"status": "paid", "voucher_no": "GK1", "amount_fen": body["amount_fen"] - 1})
        return JSONResponse({"status": "paid", "voucher_no": "GK2", "amount_fen": body["amount_fen"]})

    srv = serve_in_thread(app, "faulty-treasury")
    yield srv.url
    srv.stop()


@pytest.fixture
def closed_port_url() -> str:
    """A URL nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------- the service


Outcomes = HandledEvents  # what the bus did with each event id; tests wait on it


@dataclass
class Batch:
    """A batch built for a test: its ids and the records that passed validation."""

    batch_id: str
    unit_code: str
    unit_role: Role
    program_code: str
    period: str
    records: list[PaymentRecord]
    rejected: list[str] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return totals_of(self.records, lambda r: r.amount_fen)


@dataclass
class Payment:
    """The running payment service with helpers for the tests."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    outcomes: Outcomes
    bootstrap: str
    treasury: TreasurySim

    # -- actors

    def headers(self, role: Role, org: str, user: str | None = None) -> dict[str, str]:
        return actor_headers(self.settings.service_secret, role, org, user=user or f"{role.value}-user")

    @property
    def finance(self) -> dict[str, str]:
        return self.headers(Role.FINANCE, FINANCE_ORG, "fin-reviewer")

    def unit(self, batch: Batch) -> dict[str, str]:
        return self.headers(batch.unit_role, batch.unit_code, "unit-clerk")

    # -- input events

    def new_batch(
        self,
        n: int,
        *,
        banks: Sequence[str] = BANKS,
        amount: int = 31_500,
        rejected: int = 0,
        unit_role: Role = Role.DEPARTMENT,
        period: str = "2026-11",
        program_code: str = "HM10",
        people: Sequence[PaymentRecord] = (),
    ) -> Batch:
        """A batch of `n` new synthetic people (plus `people` given), none of them real."""
        batch_id = str(uuid.uuid4())
        unit_code = "DEPT-CIVIL" if unit_role == Role.DEPARTMENT else TOWNS[5].code
        towns = [(t.code, f"{t.name}第{i}社区") for i, t in enumerate(TOWNS[:3], 1)]
        folks = population(
            n + rejected, seed=secrets.randbelow(2**31), area="500104", towns=towns, bank_codes=list(banks)
        )
        records = [
            PaymentRecord(
                record_id=str(uuid.uuid4()),
                seq=i,
                # a fresh key per synthetic person: the session's ledger is shared by every test
                person_key=secrets.token_hex(32),
                id_number=p.id_number,
                name=p.name,
                account_no=p.account_no,
                bank_code=p.bank_code,
                amount_fen=amount + i,
                town_code=p.town_code,
                village=p.village,
            )
            for i, p in enumerate(folks, 1)
        ]
        for extra in people:
            records.append(extra.model_copy(update={"record_id": str(uuid.uuid4()), "seq": len(records) + 1}))
        passing = records[rejected:]
        return Batch(
            batch_id=batch_id,
            unit_code=unit_code,
            unit_role=unit_role,
            program_code=program_code,
            period=period,
            records=passing,
            rejected=[r.record_id for r in records[:rejected]],
        )

    def validated_events(
        self, batch: Batch, *, records: Sequence[PaymentRecord] | None = None
    ) -> list[BatchValidatedV1]:
        """Verdicts as validation would send them: chunks of 200, rejects included."""
        chosen = list(batch.records if records is None else records)
        rejects = [
            RecordVerdict(record_id=rid, outcome="reject", code="ID_CHECKSUM", message="身份证号码校验位错误")
            for rid in (batch.rejected if records is None else [])
        ]
        verdicts = rejects + [
            RecordVerdict(record_id=r.record_id, outcome="pass", code="OK", message="通过", record=r)
            for r in chosen
        ]
        round_totals = Totals(record_count=len(verdicts), amount_fen=sum(r.amount_fen for r in chosen))
        return [
            BatchValidatedV1(
                batch_id=batch.batch_id,
                unit_code=batch.unit_code,
                program_code=batch.program_code,
                period=batch.period,
                round=1,
                rule_set_version="test-1",
                round_totals=round_totals,
                chunk=chunk,
                verdicts=list(part),
            )
            for chunk, part in chunked(verdicts, lambda v: v.record.amount_fen if v.record else 0)
        ]

    def sent_event(self, batch: Batch, *, totals: Totals | None = None) -> BatchSentV1:
        return BatchSentV1(
            batch_id=batch.batch_id,
            unit_code=batch.unit_code,
            program_code=batch.program_code,
            period=batch.period,
            totals=totals or batch.totals,
            sent_by="unit-clerk",
        )

    def settled_event(
        self, batch: Batch, records: Sequence[PaymentRecord], bank_code: str
    ) -> PaymentSettledV1:
        rows = [
            SettledRecord(
                end_to_end_id=r.record_id,
                record_id=r.record_id,
                person_key=r.person_key,
                name=r.name,
                id_number=r.id_number,
                program_code=batch.program_code,
                period=batch.period,
                town_code=r.town_code,
                village=r.village,
                amount_fen=r.amount_fen,
                settled_on="2026-11-20",
                bank_txn_id=f"TX{i:08d}",
            )
            for i, r in enumerate(records, 1)
        ]
        return PaymentSettledV1(
            batch_id=batch.batch_id,
            bank_code=bank_code,
            totals=totals_of(rows, lambda r: r.amount_fen),
            records=rows,
        )

    def settled_events(
        self, batch: Batch, records: Sequence[PaymentRecord], bank_code: str
    ) -> list[PaymentSettledV1]:
        """Settlements as a bank-gateway sends them: at most MAX_RECORDS_PER_CHUNK a message."""
        n = MAX_RECORDS_PER_CHUNK
        return [self.settled_event(batch, records[i : i + n], bank_code) for i in range(0, len(records), n)]

    def failed_event(
        self, batch: Batch, records: Sequence[PaymentRecord], bank_code: str, *, code: str = "ACCOUNT_CLOSED"
    ) -> PaymentFailedV1:
        rows = [
            FailedRecord(
                end_to_end_id=r.record_id,
                record_id=r.record_id,
                person_key=r.person_key,
                program_code=batch.program_code,
                period=batch.period,
                amount_fen=r.amount_fen,
                reason_code=code,
                reason="账户已销户",
            )
            for r in records
        ]
        return PaymentFailedV1(
            batch_id=batch.batch_id,
            bank_code=bank_code,
            totals=totals_of(rows, lambda r: r.amount_fen),
            records=rows,
        )

    async def publish(
        self, batch: Batch, *payloads: BaseModel, event_id: uuid.UUID | None = None, times: int = 1
    ) -> list[Envelope]:
        """Publish as the producing service would, and wait until payment handled them (for the
        `times`-th time, when an event id is published again)."""
        envs = await publish(self.bootstrap, *payloads, correlation_id=batch.batch_id, event_id=event_id)
        await self.outcomes.wait(envs, times=times)
        return envs

    async def outbox_count(self, batch: Batch, topic: str) -> int:
        """How many events of `topic` payment has written for the batch (the source of truth)."""
        async with self.app.state.db.transaction() as s:
            n = await s.execute(
                sa.text("SELECT count(*) FROM outbox WHERE topic = :t AND key = :k"),
                {"t": topic, "k": batch.batch_id},
            )
            return int(n.scalar_one())

    # -- reads and steps

    async def batch(self, batch: Batch) -> dict[str, Any]:
        resp = await self.client.get(f"/api/v1/batches/{batch.batch_id}", headers=self.finance)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def pending_review(self, batch: Batch) -> None:
        """Validated, then sent: the batch waits for finance."""
        await self.publish(batch, *self.validated_events(batch))
        await self.publish(batch, self.sent_event(batch))
        assert (await self.batch(batch))["status"] == "pending_review"

    async def approved(self, batch: Batch) -> None:
        await self.pending_review(batch)
        resp = await self.client.post(f"/api/v1/reviews/{batch.batch_id}/approve", headers=self.finance)
        assert resp.status_code == 200, resp.text

    async def fund(self, batch: Batch, budget_doc_no: str = "渡财指〔2026〕101号") -> httpx.Response:
        return await self.client.post(
            f"/api/v1/batches/{batch.batch_id}/funding",
            json={"budget_doc_no": budget_doc_no},
            headers=self.unit(batch),
        )


@pytest.fixture(scope="session")
async def payment_service(
    database_url: str, redis_url: str, kafka_bootstrap: str, treasury: TreasurySim
) -> AsyncIterator[Payment]:
    """One running payment service for the whole session: a consumer group takes tens of seconds
    to settle after each start, so the tests share it (each uses fresh batch ids)."""
    env = {
        # what the root `platform_env` sets, for a fixture that outlives one test
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "YKT_ENV": "development",
        "PAYMENT_TREASURY_URL": treasury.url,
        "PAYMENT_SPECIAL_ACCOUNTS": '{"CQRCB": "ZH-CQRCB-DDK-0001"}',
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        settings = Settings()
    app = create_app(settings)
    async with running(app) as client:
        outcomes = Outcomes(app.state.bus)
        yield Payment(app, client, settings, outcomes, kafka_bootstrap, treasury)


@pytest.fixture
def payment(platform_env: dict[str, str], payment_service: Payment) -> Payment:
    return payment_service
