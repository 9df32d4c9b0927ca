"""Fixtures of the disclosure tests: the service running in-process against the session's real
PostgreSQL and broker, a watcher of message outcomes, and builders of input events."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from ykt_contracts import (
    MAX_RECORDS_PER_CHUNK,
    BatchCompletedV1,
    Envelope,
    FailedRecord,
    PaymentFailedV1,
    PaymentSettledV1,
    SettledRecord,
    Totals,
)
from ykt_contracts.reference import TOWNS
from ykt_disclosure.config import Settings
from ykt_disclosure.main import create_app
from ykt_kit.actor import Role
from ykt_kit.config import DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY
from ykt_kit.crypto import PiiCipher
from ykt_kit.messaging import EventBus
from ykt_kit.synthetic import Person, population
from ykt_kit.testing import EventRecorder, actor_headers, publish, running

#: The development keys every service uses in tests: person_key = CIPHER.blind_index(id number),
#: as registry computes it.
CIPHER = PiiCipher.from_hex(DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY)


class Outcomes:
    """Records what the service's bus did with each event id (processed, duplicate,
    dead_lettered), so a test can wait until a message was handled instead of sleeping."""

    def __init__(self, bus: EventBus) -> None:
        self._handle = bus.handle_message
        self.seen: dict[uuid.UUID, list[str]] = defaultdict(list)
        self._changed = asyncio.Condition()
        bus.handle_message = self._observed  # type: ignore[method-assign]

    async def _observed(
        self, topic: str, model: type[BaseModel], body: bytes, headers: dict[str, str], **kw: Any
    ) -> str:
        outcome = await self._handle(topic, model, body, headers, **kw)
        try:
            event_id = Envelope.model_validate_json(body).event_id
        except ValidationError:
            return outcome
        async with self._changed:
            self.seen[event_id].append(outcome)
            self._changed.notify_all()
        return outcome

    async def wait(self, envelopes: Sequence[Envelope], *, times: int = 1, seconds: float = 60.0) -> None:
        """Wait until every envelope's event id was handled at least `times` times."""
        ids = [e.event_id for e in envelopes]

        def done() -> bool:
            return all(len(self.seen[i]) >= times for i in ids)

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(done)

        try:
            await asyncio.wait_for(_wait(), seconds)
        except TimeoutError as exc:
            raise AssertionError(f"events not handled: {[str(i) for i in ids if not done()]}") from exc

    def last(self, envelope: Envelope) -> str:
        return self.seen[envelope.event_id][-1]


@dataclass
class Service:
    """The running service: its app, an HTTP client, the outcome watcher and the broker."""

    app: FastAPI
    client: httpx.AsyncClient
    outcomes: Outcomes
    bootstrap: str

    async def publish(
        self, *payloads: BaseModel, batch_id: str, event_id: uuid.UUID | None = None
    ) -> list[Envelope]:
        return await publish(self.bootstrap, *payloads, correlation_id=batch_id, event_id=event_id)

    async def handled(self, *payloads: BaseModel, batch_id: str) -> list[Envelope]:
        """Publish and wait until the service has handled every message."""
        envs = await self.publish(*payloads, batch_id=batch_id)
        await self.outcomes.wait(envs)
        return envs

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.app.state.db.transaction() as s:
            return (await s.execute(sa.text(sql), params)).scalar_one()

    async def publish_batch(self, batch: Batch, *extra: BaseModel) -> dict[str, Any]:
        """Publish a batch's settled chunks, `extra` events and batch.completed; return the
        disclosure.published payload once it is out."""
        async with EventRecorder(self.bootstrap, "disclosure.published") as rec:
            await self.publish(*batch.settled(), *extra, batch.completed(), batch_id=batch.batch_id)
            await rec.wait_for(
                lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
            )
        [env] = rec.of("disclosure.published", batch.batch_id)
        return dict(env.payload)

    def as_actor(self, role: Role, org: str, user: str = "tester") -> dict[str, str]:
        """Signed actor headers, as the gateway sends them."""
        return actor_headers(self.app.state.settings.service_secret, role, org, user)

    async def published_count(self, batch_id: str) -> int:
        """disclosure.published rows the service ever wrote to its outbox for `batch_id`."""
        return int(
            await self.scalar(
                "SELECT count(*) FROM outbox WHERE topic = 'ykt.disclosure.published' AND key = :b",
                b=batch_id,
            )
        )


#: The tests name their client in this header, so rate limits count per test, not per process.
CLIENT_HEADER = "x-test-client"


@asynccontextmanager
async def service_running(bootstrap: str, **overrides: Any) -> AsyncIterator[Service]:
    """The service running in-process with settings overridden (env from `platform_env`)."""
    app = create_app(Settings(**({"client_ip_header": CLIENT_HEADER} | overrides)))
    async with running(app) as client:
        yield Service(app=app, client=client, outcomes=Outcomes(app.state.bus), bootstrap=bootstrap)


@pytest.fixture
async def disclosure(platform_env: dict[str, str], kafka_bootstrap: str) -> AsyncIterator[Service]:
    """The service running in-process for one test, against the session's PostgreSQL and broker."""
    async with service_running(kafka_bootstrap) as svc:
        yield svc


# ------------------------------------------------------------------ input builders

VILLAGES = ("新山村社区", "双山社区", "跃进村社区")


@dataclass
class Batch:
    """A synthetic settled batch: people, their settled records, and the events carrying them."""

    batch_id: str
    people: list[Person]
    records: list[SettledRecord]
    program_code: str = "HM10"
    period: str = "2025-03"
    unit_code: str = "DEPT-CIVIL"

    @property
    def amount_fen(self) -> int:
        return sum(r.amount_fen for r in self.records)

    def settled(self, size: int = MAX_RECORDS_PER_CHUNK) -> list[PaymentSettledV1]:
        out = []
        for i in range(0, len(self.records), size):
            part = self.records[i : i + size]
            out.append(
                PaymentSettledV1(
                    batch_id=self.batch_id,
                    bank_code="B001",
                    totals=Totals(record_count=len(part), amount_fen=sum(r.amount_fen for r in part)),
                    records=part,
                )
            )
        return out

    def completed(self, *, settled: Totals | None = None) -> BatchCompletedV1:
        settled = settled or Totals(record_count=len(self.records), amount_fen=self.amount_fen)
        return BatchCompletedV1(
            batch_id=self.batch_id,
            unit_code=self.unit_code,
            program_code=self.program_code,
            period=self.period,
            instructed=settled,
            settled=settled,
            failed=Totals(record_count=0, amount_fen=0),
        )


def failed(
    batch_id: str,
    people: Sequence[Person],
    *,
    program_code: str = "HM10",
    period: str = "2025-03",
    amount_fen: int = 50_000,
    reason_code: str = "NAME_MISMATCH",
    reason: str = "户名不符",
) -> PaymentFailedV1:
    """payment.failed for `people` (their records in `batch_id` failed at the bank)."""
    records = [
        FailedRecord(
            end_to_end_id=(rid := str(uuid.uuid4())),
            record_id=rid,
            person_key=CIPHER.blind_index(p.id_number),
            program_code=program_code,
            period=period,
            amount_fen=amount_fen,
            reason_code=reason_code,
            reason=reason,
        )
        for p in people
    ]
    return PaymentFailedV1(
        batch_id=batch_id,
        bank_code="B001",
        totals=Totals(record_count=len(records), amount_fen=sum(r.amount_fen for r in records)),
        records=records,
    )


def make_batch(
    n: int,
    *,
    places: Sequence[tuple[str, str]] | None = None,
    seed: int | None = None,
    people: Sequence[Person] | None = None,
) -> Batch:
    """`n` settled records of fresh synthetic people spread over `places` [(town code, village)]."""
    places = list(places or [(TOWNS[0].code, VILLAGES[0]), (TOWNS[5].code, VILLAGES[1])])
    seed = seed if seed is not None else random.randrange(1 << 30)
    people = (
        list(people)
        if people is not None
        else population(n, seed=seed, area="500104", towns=places, bank_codes=["B001"])
    )
    batch_id = str(uuid.uuid4())
    records = [
        SettledRecord(
            end_to_end_id=(rid := str(uuid.uuid4())),
            record_id=rid,
            person_key=CIPHER.blind_index(p.id_number),
            name=p.name,
            id_number=p.id_number,
            program_code="HM10",
            period="2025-03",
            town_code=p.town_code,
            village=p.village,
            amount_fen=50_000 + i,
            settled_on=date(2025, 3, 20),
            bank_txn_id=f"T{i:08d}",
        )
        for i, p in enumerate(people)
    ]
    return Batch(batch_id=batch_id, people=people, records=records)


@pytest.fixture
def batch_of() -> Callable[..., Batch]:
    return make_batch
