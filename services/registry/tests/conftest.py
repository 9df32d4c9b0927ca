"""Registry test fixtures: the app in-process against the session's database and broker, with
Dadukou's reference data loaded through the API as an administrator (per module for the
registry-model tests, per test for the batch intake tests), batch files written the way units
write them, and a look into the registry's outbox."""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from ykt_contracts.reference import TOWNS
from ykt_kit import synthetic
from ykt_kit.actor import Role
from ykt_kit.testing import actor_headers, running
from ykt_registry import seed
from ykt_registry.config import Settings
from ykt_registry.main import create_app


async def seed_reference(c: httpx.AsyncClient) -> None:
    """The whole Dadukou reference set, in dependency order, as the demo loads it."""
    admin = actor_headers(Settings().service_secret, Role.ADMIN, "FIN-500104", user="admin")
    for method, path, kwargs in seed.requests():
        headers = {**admin, **kwargs.pop("headers", {})}
        r = await c.request(method, path, headers=headers, **kwargs)
        assert r.status_code == 200, (path, r.text)


@pytest.fixture(scope="module")
async def registry(
    database_url: str, redis_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    mp = pytest.MonkeyPatch()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "YKT_ENV": "development",
    }
    for k, v in env.items():
        mp.setenv(k, v)
    app = create_app(Settings())
    async with running(app) as c:
        await seed_reference(c)
        yield app, c
    mp.undo()


TOWN = TOWNS[0].code
DEPT = "DEPT-CIVIL"
AMOUNT = 50_000
#: HM01 (耕地地力保护补贴) is priced per mu in these tests; HM12 has no standard.
HM01_STANDARD_FEN = 10_500  # the seeded HM01 standard: 105 元 per 亩
COLUMNS = ("id_number", "name", "account_no", "bank_code", "amount_fen", "town_code", "village")


def people(n: int, *, seed: int, amount: int = AMOUNT) -> Iterator[dict[str, Any]]:
    """`n` synthetic payment rows (valid ID numbers, invented names), generated as needed."""
    rng = random.Random(seed)
    for serial in range(1, n + 1):
        p = synthetic.person(
            rng, area="500104", town_code=TOWN, village="新山村社区", bank_code="CQRCB", serial=serial
        )
        yield {
            "id_number": p.id_number,
            "name": p.name,
            "account_no": p.account_no,
            "bank_code": "CQRCB",
            "amount_fen": amount,
            "town_code": TOWN,
            "village": p.village,
        }


def write_csv(
    path: Path, rows: Iterable[dict[str, Any]], *, columns: tuple[str, ...] = COLUMNS, encoding: str = "utf-8"
) -> Path:
    """Write rows as a CSV with a heading row, streaming."""
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
    return path


def new_no() -> str:
    return f"T-{uuid.uuid4().hex[:12]}"


@dataclass
class Intake:
    """The registry app and an HTTP client to it, with helpers for uploads and look-ups."""

    app: FastAPI
    client: httpx.AsyncClient
    town = TOWN
    dept = DEPT
    amount = AMOUNT
    hm01_standard_fen = HM01_STANDARD_FEN
    columns = COLUMNS
    people = staticmethod(people)
    write_csv = staticmethod(write_csv)
    new_no = staticmethod(new_no)

    def headers(self, role: Role = Role.DEPARTMENT, org: str = DEPT) -> dict[str, str]:
        return actor_headers(Settings().service_secret, role, org, user=f"{role}-{org}")

    async def upload(
        self,
        path: Path,
        *,
        unit_batch_no: str,
        declared_count: int,
        declared_amount_fen: int | None = None,
        program_code: str = "HM10",
        period: str = "2026-11",
        content_type: str = "text/csv",
        headers: dict[str, str] | None = None,
        **extra: str,
    ) -> httpx.Response:
        """POST the file as the request body, read from disk in pieces (never whole in memory)."""

        async def body() -> AsyncIterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(256 * 1024):
                    yield chunk

        params: dict[str, Any] = {
            "unit_batch_no": unit_batch_no,
            "program_code": program_code,
            "period": period,
            "declared_count": declared_count,
            **extra,
        }
        if declared_amount_fen is not None:
            params["declared_amount_fen"] = declared_amount_fen
        return await self.client.post(
            "/api/v1/batches/files",
            params=params,
            content=body(),
            headers={**(headers or self.headers()), "content-type": content_type},
            timeout=600,
        )

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.app.state.db.transaction() as s:
            return (await s.execute(sa.text(sql), params)).scalar_one()

    async def chunks(self, batch_id: str) -> dict[str, int]:
        """What the outbox holds for the batch's `batch.submitted` events, summed in SQL."""
        sql = """
            WITH e AS (SELECT convert_from(payload, 'UTF8')::jsonb AS j FROM outbox
                       WHERE key = :b AND convert_from(payload, 'UTF8')::jsonb ->> 'type' = 'batch.submitted')
            SELECT count(*) AS events,
                   count(DISTINCT (j #>> '{payload,chunk,index}')) AS indexes,
                   coalesce(min((j #>> '{payload,chunk,count}')::int), 0) AS declared_chunks,
                   coalesce(sum((j #>> '{payload,chunk,totals,record_count}')::bigint), 0) AS record_count,
                   coalesce(sum((j #>> '{payload,chunk,totals,amount_fen}')::bigint), 0) AS amount_fen,
                   coalesce(sum(jsonb_array_length(j #> '{payload,records}')), 0) AS records,
                   coalesce(max(jsonb_array_length(j #> '{payload,records}')), 0) AS largest
            FROM e
        """
        async with self.app.state.db.transaction() as s:
            row = (await s.execute(sa.text(sql), {"b": batch_id})).one()
        return {k: int(v) for k, v in row._mapping.items()}


@pytest.fixture
async def intake(platform_env: dict[str, str]) -> AsyncIterator[Intake]:
    app = create_app(Settings())
    async with running(app) as client:
        await seed_reference(client)
        yield Intake(app, client)
