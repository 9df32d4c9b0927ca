"""`make bench`: one large batch through the running platform, timed per stage; and
`python -m ykt_devstack.bench intake --records 1000000`: batch intake alone, at city scale.

Every process runs on this machine, with the embedded broker; the figures are wall-clock times
seen by an operator polling the gateway, so they include event hops and polling granularity."""

from __future__ import annotations

import contextlib
import csv
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import typer
from rich.console import Console
from rich.table import Table
from ykt_contracts.reference import TOWNS
from ykt_kit import synthetic
from ykt_kit.actor import Actor, Role
from ykt_kit.config import KitSettings
from ykt_registry import seed
from ykt_registry.intake.fixtures import BENEFICIARY_HEADER, beneficiary_rows, write_csv

from . import infra
from .demo import Operator, seed_reference, wait_review
from .stack import Stack

console = Console(width=140)


def bench(records: int = typer.Option(20_000, help="Records in the batch.")) -> None:
    """Submit, validate, send, approve, fund, pay and disclose one batch of `records` records."""
    run_dir = Path("var/bench").resolve()
    stack = Stack(run_dir)
    stack.start(database=f"ykt_bench_{uuid.uuid4().hex[:6]}", fixed_ports=False)
    try:
        admin = Operator(stack.urls["gateway"], "admin")
        seed_reference(admin)
        civil = Operator(stack.urls["gateway"], "civil")
        finance = Operator(stack.urls["gateway"], "finance")
        pop = synthetic.population(
            records, seed=4242, area="500104", towns=[("500104101000", "团结村")], bank_codes=["CQRCB"]
        )
        book = [{"account_no": p.account_no, "holder_name": p.name} for p in pop]
        httpx.post(
            f"{stack.urls['bank-sim']}/banks/CQRCB/admin/accounts", json=book, timeout=300
        ).raise_for_status()
        amount = 10_000
        body = {
            "unit_batch_no": f"BENCH-{random.randrange(10**9)}",
            "program_code": "HM13",
            "period": "2026-09",
            "declared": {"record_count": records, "amount_fen": records * amount},
            "records": [
                {
                    "id_number": p.id_number,
                    "name": p.name,
                    "account_no": p.account_no,
                    "bank_code": "CQRCB",
                    "amount_fen": amount,
                    "town_code": p.town_code,
                    "village": p.village,
                }
                for p in pop
            ],
        }
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        bid = civil.call("POST", "/api/v1/batches", json=body)["batch_id"]
        marks.append(("1 intake (gateway → registry, stored, outbox)", time.perf_counter()))
        civil.wait_batch(bid, "validated", timeout=3600)
        marks.append(("2 validation (all verdicts back in registry)", time.perf_counter()))
        civil.call("POST", f"/api/v1/batches/{bid}/sending")
        wait_review(finance, bid, timeout=3600)
        marks.append(("3 send → in finance's review list", time.perf_counter()))
        finance.call("POST", f"/api/v1/reviews/{bid}/approve")
        civil.wait_batch(bid, "approved", timeout=3600)
        civil.call("POST", f"/api/v1/batches/{bid}/funding", json={"budget_doc_no": "BENCH"})
        marks.append(("4 approve + fund + instruct", time.perf_counter()))
        civil.wait_batch(bid, "completed", "disclosed", timeout=3600)
        marks.append(("5 bank pays, results settled in registry", time.perf_counter()))
        civil.wait_batch(bid, "disclosed", timeout=3600)
        marks.append(("6 disclosed", time.perf_counter()))
    finally:
        stack.stop()

    t = Table("stage", "seconds", "records/s")
    prev = t0
    for name, at in marks:
        t.add_row(name, f"{at - prev:.1f}", f"{records / max(at - prev, 1e-9):,.0f}")
        prev = at
    total = marks[-1][1] - t0
    t.add_row("total, submit → disclosed", f"{total:.1f}", f"{records / total:,.0f}")
    console.print(
        f"[bold]bench[/] {records:,} records · {datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()}"
    )
    console.print(t)


# ------------------------------------------------------------------ intake alone


def intake(
    records: int = typer.Option(1_000_000, help="Records in the synthetic batch file."),
    people: int = typer.Option(
        1_000_000, help="Rows of the synthetic collection form (Annex 2) imported first."
    ),
    seed: int = typer.Option(4242, help="Seed of the synthetic population."),
) -> None:
    """Import `people` beneficiaries, then upload one batch CSV of `records` records, to a registry
    process; report records/s of each and the process's peak RSS."""
    run_dir = Path("var/bench-intake").resolve()
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    path = run_dir / f"batch-{records}-{seed}.csv"
    t0 = time.perf_counter()
    amount = _write_batch(path, records, seed) if not path.exists() else _amount_of(path)
    people_path = run_dir / f"people-{people}.csv"
    if not people_path.exists():
        write_csv(people_path.with_suffix(".part"), BENEFICIARY_HEADER, beneficiary_rows(people)).rename(
            people_path
        )
    gen = time.perf_counter() - t0
    pg_server, pg_proc = infra.resolve_postgres(run_dir)
    broker = infra.start_broker(log_path=run_dir / "logs" / "broker.log")
    db_url = infra.create_database(pg_server, f"ykt_bench_intake_{uuid.uuid4().hex[:6]}", drop_first=True)
    port = infra.free_port()
    env = {
        **os.environ,
        "YKT_ENV": "development",
        "DATABASE_URL": db_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "REGISTRY_PORT": str(port),
        "REGISTRY_HOST": "127.0.0.1",
        "REGISTRY_UPLOAD_DIR": str(run_dir),
        "PYTHONUNBUFFERED": "1",
    }
    log = (run_dir / "logs" / "registry.log").open("ab")
    registry = subprocess.Popen(
        [sys.executable, "-m", "ykt_registry"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(registry, base)
        secret = KitSettings().service_secret
        with httpx.Client(base_url=base, timeout=3600) as client:
            _seed_registry(client, Actor("bench-admin", Role.ADMIN, "FIN-500104").headers(secret))
            rss_idle = _proc_kib(registry.pid, "VmRSS")
            admin = Actor("bench-admin", Role.ADMIN, "FIN-500104").headers(secret)
            tp = time.perf_counter()
            r = client.post(
                "/api/v1/beneficiaries/imports",
                params={"filename": people_path.name, "policy": "reject_all"},
                content=_chunks(people_path),
                headers={**admin, "content-type": "text/csv"},
            )
            took_people = time.perf_counter() - tp
            if r.status_code != 200 or r.json()["registered"] != people:
                raise SystemExit(f"people import refused: {r.status_code} {r.text[:500]}")
            hwm_people = _proc_kib(registry.pid, "VmHWM")
            unit = Actor("bench-civil", Role.DEPARTMENT, "DEPT-CIVIL").headers(secret)
            t1 = time.perf_counter()
            r = client.post(
                "/api/v1/batches/files",
                params={
                    "unit_batch_no": f"BENCH-{uuid.uuid4().hex[:8]}",
                    "program_code": "HM13",
                    "period": "2026-09",
                    "declared_count": records,
                    "declared_amount_fen": amount,
                    "filename": path.name,
                },
                content=_chunks(path),
                headers={**unit, "content-type": "text/csv"},
            )
            took = time.perf_counter() - t1
            if r.status_code != 201:
                raise SystemExit(f"upload refused: {r.status_code} {r.text[:500]}")
            hwm_intake = _proc_kib(registry.pid, "VmHWM")
            t2 = time.perf_counter()
            chunks = _wait_outbox_drained(db_url, registry)
            relay = time.perf_counter() - t2
            hwm_all = _proc_kib(registry.pid, "VmHWM")
    finally:
        _stop(registry)
        broker.stop()
        with contextlib.suppress(psycopg.Error):
            infra.drop_database(pg_server, db_url.rsplit("/", 1)[-1])
        if pg_proc is not None:
            pg_proc.terminate()

    size = path.stat().st_size
    t = Table("measure", "value")
    t.add_row("records / file size", f"{records:,} / {size / 2**20:,.0f} MiB (generated in {gen:.0f} s)")
    t.add_row("intake: upload → stored, checked, encrypted, chunked into the outbox", f"{took:.1f} s")
    t.add_row(
        "[bold]intake rate", f"[bold]{records / took:,.0f} records/s[/] ({size / 2**20 / took:,.1f} MiB/s)"
    )
    t.add_row("registry RSS idle before upload", f"{rss_idle / 1024:,.0f} MiB")
    t.add_row(
        "[bold]people import rate[/] (Annex 2 CSV: checked, encrypted, registered with accounts)",
        f"[bold]{people / took_people:,.0f} rows/s[/] ({people:,} rows in {took_people:.1f} s)",
    )
    t.add_row("[bold]registry peak RSS (VmHWM) after people import", f"[bold]{hwm_people / 1024:,.0f} MiB")
    t.add_row("[bold]registry peak RSS (VmHWM) after intake", f"[bold]{hwm_intake / 1024:,.0f} MiB")
    t.add_row(f"relay: {chunks:,} chunk events published to the broker", f"{relay:.1f} s")
    t.add_row("registry peak RSS (VmHWM) after relay drained", f"{hwm_all / 1024:,.0f} MiB")
    console.print(
        f"[bold]bench intake[/] · {datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()}"
    )
    console.print(t)


def _write_batch(path: Path, records: int, seed: int) -> int:
    """A synthetic batch file, written row by row (valid ID numbers, invented people)."""
    rng = random.Random(seed)
    towns = [(t.code, "团结村") for t in TOWNS]
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id_number", "name", "account_no", "bank_code", "amount_fen", "town_code", "village"])
        for serial in range(1, records + 1):
            town, village = towns[serial % len(towns)]
            p = synthetic.person(
                rng, area="500104", town_code=town, village=village, bank_code="CQRCB", serial=serial
            )
            w.writerow([p.id_number, p.name, p.account_no, "CQRCB", 10_000, town, village])
    tmp.rename(path)
    return records * 10_000


def _amount_of(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as f:
        return sum(int(row["amount_fen"]) for row in csv.DictReader(f))


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            yield chunk


def _seed_registry(client: httpx.Client, admin: dict[str, str]) -> None:
    """Dadukou's reference set, as `make run` loads it."""
    for method, path, kwargs in seed.requests():
        headers = {**admin, **kwargs.pop("headers", {})}
        client.request(method, path, headers=headers, **kwargs).raise_for_status()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"registry exited with {proc.returncode}; see var/bench-intake/logs/registry.log"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("registry not ready")


def _wait_outbox_drained(db_url: str, proc: subprocess.Popen[bytes], timeout: float = 3600.0) -> int:
    """Wait until the registry's relay has published every outbox row; returns how many there are."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM registry.outbox"
            ).fetchone()
            assert row is not None
            if row[1] == 0:
                return int(row[0])
            if proc.poll() is not None:
                raise SystemExit("registry exited while publishing")
            time.sleep(0.5)
    raise SystemExit("outbox not drained")


def _proc_kib(pid: int, field: str) -> int:
    """A figure of /proc/<pid>/status in KiB (VmRSS now, VmHWM the peak resident set)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def main() -> None:
    """`bench [--records N]`: the whole cycle; `bench intake [--records N]`: intake alone."""
    if len(sys.argv) > 1 and sys.argv[1] == "intake":
        del sys.argv[1]
        typer.run(intake)
    else:
        typer.run(bench)


if __name__ == "__main__":
    main()
