"""`make bench`: one large batch through the running platform, timed per stage.

Every process runs on this machine, with the embedded broker; the figures are wall-clock times
seen by an operator polling the gateway, so they include event hops and polling granularity."""

from __future__ import annotations

import os
import platform
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table
from ykt_kit import synthetic

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


def main() -> None:
    typer.run(bench)


if __name__ == "__main__":
    main()
