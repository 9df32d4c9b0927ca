"""The whole platform as local processes: broker, every service, the bank and treasury simulators."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from . import infra

# (name, module, env prefix, default port, health path)
PROCESSES: tuple[tuple[str, str, str, int, str], ...] = (
    ("bank-sim", "ykt_banksim", "BANKSIM", 8201, "/health/live"),
    ("treasury-sim", "ykt_treasurysim", "TREASURYSIM", 8202, "/health/live"),
    ("registry", "ykt_registry", "REGISTRY", 8101, "/health/ready"),
    ("validation", "ykt_validation", "VALIDATION", 8102, "/health/ready"),
    ("payment", "ykt_payment", "PAYMENT", 8103, "/health/ready"),
    ("bank-gateway", "ykt_bank_gateway", "BANKGW", 8104, "/health/ready"),
    ("disclosure", "ykt_disclosure", "DISCLOSURE", 8105, "/health/ready"),
    ("gateway", "ykt_gateway", "GATEWAY", 8000, "/health/ready"),
)


@dataclass
class Stack:
    """A running platform; `urls[name]` is each process's base URL."""

    run_dir: Path
    database_url: str = ""
    redis_url: str = ""
    bootstrap: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    _infra: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _broker: infra.Broker | None = None

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    def start(self, *, database: str = "ykt_demo", fixed_ports: bool = True, timeout: float = 180.0) -> None:
        """Bring everything up and wait until every process is ready."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pg_server, pg_proc = infra.resolve_postgres(self.run_dir)
        if pg_proc is not None:
            self._infra.append(pg_proc)
        self.database_url = infra.create_database(pg_server, database, drop_first=True)
        self.redis_url, redis_proc = infra.resolve_redis(self.run_dir)
        if redis_proc is not None:
            self._infra.append(redis_proc)
        broker_port = 9092 if fixed_ports and not infra.port_open("127.0.0.1", 9092) else infra.free_port()
        self._broker = infra.start_broker(broker_port, log_path=self.log_dir / "broker.log")
        self.bootstrap = self._broker.bootstrap

        ports = {}
        for name, _, _, port, _ in PROCESSES:
            ports[name] = (
                port if fixed_ports and not infra.port_open("127.0.0.1", port) else infra.free_port()
            )
        self.urls = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
        env = self._env(ports)
        for name, module, prefix, _, _ in PROCESSES:
            penv = {**env, f"{prefix}_PORT": str(ports[name]), f"{prefix}_HOST": "127.0.0.1"}
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env=penv,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._write_pids()
        self.wait_ready(timeout)

    def _env(self, ports: dict[str, int]) -> dict[str, str]:
        u = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
        env = {
            **os.environ,
            "YKT_ENV": "development",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PYTHONUNBUFFERED": "1",
            "PAYMENT_TREASURY_URL": u["treasury-sim"],
            "BANKGW_BANK_SIM_URL": u["bank-sim"],
            "BANKGW_PUBLIC_URL": u["bank-gateway"],
            "DISCLOSURE_PUBLIC_BASE_URL": u["disclosure"],
            "GATEWAY_REGISTRY_URL": u["registry"],
            "GATEWAY_VALIDATION_URL": u["validation"],
            "GATEWAY_PAYMENT_URL": u["payment"],
            "GATEWAY_BANK_GATEWAY_URL": u["bank-gateway"],
            "GATEWAY_DISCLOSURE_URL": u["disclosure"],
            **self.extra_env,
        }
        return env

    def _write_pids(self) -> None:
        pids = [p.pid for p in self.procs.values()] + [p.pid for p in self._infra]
        if self._broker is not None:
            pids.append(self._broker.process.pid)
        lines = [f"main {os.getpid()}"] + [f"group {p}" for p in pids]
        (self.run_dir / "pids").write_text("\n".join(lines) + "\n")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {name: path for name, _, _, _, path in PROCESSES}
        with httpx.Client(timeout=2) as client:
            while pending:
                for name, path in list(pending.items()):
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(self.urls[name] + path).status_code == 200:
                            del pending[name]
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"not ready after {timeout:.0f}s: {', '.join(pending)} (logs in {self.log_dir})"
                    )
                if pending:
                    time.sleep(0.2)

    def stop(self) -> None:
        """Stop every process this stack started; nothing is left behind."""
        for proc in self.procs.values():
            _terminate(proc)
        if self._broker is not None:
            self._broker.stop()
        for proc in self._infra:
            _terminate(proc)
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / "pids").unlink()


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def stop_from_pidfile(run_dir: Path) -> int:
    """`make stop`: ask the running `make run` to stop, then end every process group it recorded."""
    pidfile = run_dir / "pids"
    if not pidfile.exists():
        return 0
    entries = [line.split() for line in pidfile.read_text().splitlines() if line.strip()]
    main = [int(pid) for kind, pid in entries if kind == "main"]
    groups = [int(pid) for kind, pid in entries if kind == "group"]
    for pid in main:  # it stops its own children in order and removes the pidfile
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    _wait_gone(main + groups, 30)
    for pid in groups:  # whatever is left, e.g. after `make run` itself was killed hard
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()
    return len(groups)


def _wait_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
