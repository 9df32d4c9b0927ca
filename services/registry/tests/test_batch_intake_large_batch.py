"""A district-scale batch (100,000 records) goes in through one upload in bounded memory and
leaves as exactly ceil(n/100) chunk events whose records sum to the declared totals."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

N = 100_000
#: Python heap the upload may add at its peak. Holding the batch (records, their events) would
#: take several hundred MB; streaming holds a few slices of 5,000 rows.
PEAK_BUDGET = 64 * 1024 * 1024


async def test_a_hundred_thousand_record_csv_is_taken_in_bounded_memory(intake: Any, tmp_path: Path) -> None:
    path = intake.write_csv(tmp_path / "district.csv", intake.people(N, seed=random.randrange(10**6)))
    no = intake.new_no()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        r = await intake.upload(
            path, unit_batch_no=no, declared_count=N, declared_amount_fen=N * intake.amount
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 201, r.text
    assert peak - base < PEAK_BUDGET, f"peak grew by {(peak - base) / 2**20:.0f} MiB"
    assert r.json()["records_by_status"] == {
        "submitted": {"record_count": N, "amount_fen": N * intake.amount}
    }
    assert await intake.chunks(r.json()["batch_id"]) == {
        "events": N // 100,
        "indexes": N // 100,
        "declared_chunks": N // 100,
        "record_count": N,
        "amount_fen": N * intake.amount,
        "records": N,
        "largest": 100,
    }
