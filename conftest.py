"""Session fixtures shared by every test folder: a real broker, a scratch database, Redis."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ykt_devstack import infra


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ykt-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def pg_server(run_dir: Path) -> Iterator[str]:
    url, proc = infra.resolve_postgres(run_dir)
    yield url
    if proc is not None:
        proc.terminate()


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    with infra.scratch_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(run_dir: Path) -> Iterator[str]:
    url, proc = infra.resolve_redis(run_dir)
    yield url
    if proc is not None:
        proc.terminate()


@pytest.fixture(scope="session")
def kafka_bootstrap(run_dir: Path) -> Iterator[str]:
    """The embedded Kafka-protocol broker, with every platform topic created."""
    broker = infra.start_broker(log_path=run_dir / "broker.log")
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def platform_env(
    database_url: str, redis_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Environment for building a service's settings against the test infrastructure."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "YKT_ENV": "development",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("YKT_ENV", "development")
