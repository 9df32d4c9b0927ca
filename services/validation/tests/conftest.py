"""Fixtures of the validation tests: synthetic records and submissions, the app running in-process
against the real broker and PostgreSQL, and a tap that says when the app has handled an event."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from ykt_contracts import ChunkInfo, Envelope, Totals
from ykt_contracts.chunking import totals_of
from ykt_contracts.events import BatchSubmittedV1, BatchValidatedV1, PaymentRecord
from ykt_devstack import infra
from ykt_kit import idcard, synthetic
from ykt_kit.actor import Role
from ykt_kit.config import KitSettings
from ykt_kit.testing import EventRecorder, actor_headers, running
from ykt_validation import seed as register_samples
from ykt_validation.config import Settings
from ykt_validation.main import create_app

_CIPHER = KitSettings().pii_cipher()
_serial = itertools.count(1)
_rng = random.Random(20250101)

TOWN = "500104101000"
AREA = "500104"


def new_id_number(*, area: str = AREA) -> str:
    """A valid ID number no other test of this session uses (the ledger outlives each test)."""
    n = next(_serial)
    return idcard.make(area, date(1950, 1, 1) + timedelta(days=n // 1000), n % 1000)


def person_key(id_number: str) -> str:
    return _CIPHER.blind_index(id_number)


def make_record(
    id_number: str | None = None,
    *,
    amount_fen: int = 12_000,
    seq: int = 1,
    record_id: str | None = None,
    reissue_of_record_id: str | None = None,
) -> PaymentRecord:
    """A payment record for a synthetic person (a fresh one unless `id_number` is given)."""
    id_number = id_number or new_id_number()
    p = synthetic.person(_rng, area=AREA, town_code=TOWN, village="胜利村", bank_code="CQRCB", serial=seq)
    return PaymentRecord(
        record_id=record_id or str(uuid.uuid4()),
        seq=seq,
        person_key=person_key(id_number),
        id_number=id_number,
        name=p.name,
        account_no=p.account_no,
        bank_code=p.bank_code,
        amount_fen=amount_fen,
        town_code=TOWN,
        village=p.village,
        reissue_of_record_id=reissue_of_record_id,
    )


def make_submission(
    records: Sequence[PaymentRecord],
    *,
    batch_id: str | None = None,
    program_code: str = "HM10",
    period: str = "2025-01",
    round: int = 1,
    chunk_totals: Totals | None = None,
    round_totals: Totals | None = None,
    index: int = 0,
    count: int = 1,
    reissue_of_batch_id: str | None = None,
) -> BatchSubmittedV1:
    """One chunk of a submission round; totals are the records' own unless given."""
    own = totals_of(records, lambda r: r.amount_fen)
    batch_id = batch_id or str(uuid.uuid4())
    return BatchSubmittedV1(
        batch_id=batch_id,
        unit_code="U-DEPT-CIVIL",
        unit_batch_no=f"B-{batch_id[:8]}",
        program_code=program_code,
        period=period,
        round=round,
        reissue_of_batch_id=reissue_of_batch_id,
        round_totals=round_totals or own,
        chunk=ChunkInfo(index=index, count=count, totals=chunk_totals or own),
        records=list(records),
    )


@dataclass
class HandledTap:
    """Records every message the app's bus has finished handling (committed or not taken), so a test
    can wait for an event that produces no event of its own, such as a release."""

    handled: list[tuple[uuid.UUID | None, str]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def install(self, bus: Any) -> None:
        original = bus.handle_message

        async def tapped(topic: str, model: Any, body: bytes, headers: Any, **kw: Any) -> str:
            outcome: str = await original(topic, model, body, headers, **kw)
            try:
                event_id: uuid.UUID | None = Envelope.model_validate_json(body).event_id
            except ValueError:
                event_id = None
            async with self._changed:
                self.handled.append((event_id, outcome))
                self._changed.notify_all()
            return outcome

        bus.handle_message = tapped

    def outcomes(self, event_id: uuid.UUID) -> list[str]:
        return [o for e, o in self.handled if e == event_id]

    async def wait(self, event_id: uuid.UUID, times: int = 1, within: float = 60.0) -> list[str]:
        """Wait until the event has been handled `times` times; returns the outcomes."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.outcomes(event_id)) >= times)

        await asyncio.wait_for(_wait(), within)
        return self.outcomes(event_id)


@dataclass
class Running:
    """The validation app running in-process."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    tap: HandledTap
    bootstrap: str

    def headers(self, role: Role = Role.TOWN, org: str = TOWN) -> dict[str, str]:
        return actor_headers(self.settings.service_secret, role, org)

    async def holder(self, person_key: str, program_code: str, period: str) -> tuple[str, str] | None:
        """(record_id, batch_id) holding the person's claim on the program period, if any."""
        async with self.app.state.db.transaction() as s:
            row = (
                await s.execute(
                    sa.text(
                        "SELECT record_id, batch_id FROM enjoyment_ledger"
                        " WHERE person_key = :k AND program_code = :p AND period = :pe"
                    ),
                    {"k": person_key, "p": program_code, "pe": period},
                )
            ).first()
        return None if row is None else (row[0], row[1])

    async def outbox_count(self, correlation_id: str) -> int:
        """How many events the service wrote for this correlation id (the outbox key)."""
        async with self.app.state.db.transaction() as s:
            return int(
                (
                    await s.execute(
                        sa.text("SELECT count(*) FROM outbox WHERE key = :k"), {"k": correlation_id}
                    )
                ).scalar_one()
            )


@pytest.fixture(scope="module")
async def validation_app(database_url: str, redis_url: str, kafka_bootstrap: str) -> AsyncIterator[Running]:
    """The app with migrations applied, consuming from the session's broker; one per test module,
    because joining the consumer group takes the broker several rebalances."""
    settings = Settings(
        YKT_ENV="development",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
    )
    app = create_app(settings)
    async with running(app) as client:
        tap = HandledTap()
        tap.install(app.state.bus)
        yield Running(app, client, settings, tap, kafka_bootstrap)


@pytest.fixture
async def validation(platform_env: dict[str, str], validation_app: Running) -> Running:
    """The running app, for a test that also has the platform environment set."""
    assert validation_app.settings.kafka_bootstrap == platform_env["KAFKA_BOOTSTRAP_SERVERS"]
    return validation_app


class Validated:
    """The `batch.validated` events on the broker, read from the beginning."""

    def __init__(self, recorder: EventRecorder) -> None:
        self.recorder = recorder

    def of(self, batch_id: str) -> list[BatchValidatedV1]:
        """The chunks seen so far for this batch (by correlation id and payload), in arrival order."""
        out = [
            BatchValidatedV1.model_validate(e.payload) for e in self.recorder.of("batch.validated", batch_id)
        ]
        return [v for v in out if v.batch_id == batch_id]

    def envelopes(self, batch_id: str) -> list[Envelope]:
        return self.recorder.of("batch.validated", batch_id)

    async def wait(self, batch_id: str, chunks: int = 1, within: float = 60.0) -> list[BatchValidatedV1]:
        """Wait until `chunks` events for this batch have arrived; returns them by chunk index."""
        await self.recorder.wait_for(
            lambda _r: len(self.of(batch_id)) >= chunks, timeout=within, what=f"batch.validated x{chunks}"
        )
        return sorted(self.of(batch_id), key=lambda v: v.chunk.index)


@pytest.fixture(scope="module")
async def validated(kafka_bootstrap: str) -> AsyncIterator[Validated]:
    """Every `batch.validated` on the broker, read from the beginning."""
    async with EventRecorder(kafka_bootstrap, "batch.validated") as recorder:
        yield Validated(recorder)


@pytest.fixture
def factory() -> SimpleNamespace:
    """Builders: `factory.record(...)`, `factory.submission(...)`, `factory.id_number()`, `factory.person_key(...)`."""
    return SimpleNamespace(
        record=make_record, submission=make_submission, id_number=new_id_number, person_key=person_key
    )


# ---------------------------------------------------------------------------- reference registers


@dataclass
class RegistersApp:
    """The validation app serving HTTP only (no consumer), on a database of its own, so the
    register imports of one test module do not meet those of another."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    # from the sample registers' date on, a day per import: real dates (deaths, exit years fit)
    # that are not in the future
    _dates: Iterator[date] = field(
        default_factory=lambda: (register_samples.AS_OF + timedelta(days=n) for n in itertools.count())
    )

    def headers(self, role: Role = Role.ADMIN, org: str = "FIN-500104") -> dict[str, str]:
        return actor_headers(self.settings.service_secret, role, org)

    def as_of(self) -> date:
        """A register date later than every one handed out before in this module (a newer import
        of a kind may not carry an older date)."""
        return next(self._dates)

    async def upload(
        self,
        kind: str,
        content: bytes,
        *,
        as_of: date | None = None,
        source: str = "测试来源单位",
        filename: str = "名册.csv",
        role: Role = Role.ADMIN,
    ) -> httpx.Response:
        params = {
            "kind": kind,
            "as_of": (as_of or self.as_of()).isoformat(),
            "source": source,
            "filename": filename,
        }
        return await self.client.post(
            "/api/v1/registers/imports", params=params, content=content, headers=self.headers(role)
        )


@pytest.fixture(scope="module")
async def registers(pg_server: str) -> AsyncIterator[RegistersApp]:
    with infra.scratch_database(pg_server, prefix="ykt_test_registers") as url:
        settings = Settings(YKT_ENV="development", DATABASE_URL=url)
        app = create_app(settings, messaging=False)
        async with running(app) as client:
            yield RegistersApp(app, client, settings)


@dataclass(frozen=True)
class RegisterPerson:
    """A synthetic person for a register file."""

    id_number: str
    name: str

    @property
    def key(self) -> str:
        return person_key(self.id_number)


def register_people(n: int) -> list[RegisterPerson]:
    """`n` people with ID numbers no other test of the session uses, and invented names."""
    out = []
    for i in range(n):
        p = synthetic.person(_rng, area=AREA, town_code=TOWN, village="", bank_code="CQRCB", serial=i)
        out.append(RegisterPerson(new_id_number(), p.name))
    return out


def register_csv(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, encoding: str = "utf-8-sig"
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)
