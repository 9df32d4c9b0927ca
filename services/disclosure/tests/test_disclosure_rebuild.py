"""Rebuilding the read model from the event stream reproduces the published lists exactly:
publications (ids, windows, totals, withdrawals, corrections), their masked rows in order, and
the failed records the personal query reads."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from ykt_disclosure import rebuild
from ykt_disclosure.config import Settings
from ykt_kit.actor import Role

from .conftest import failed

ADMIN = (Role.ADMIN, "FIN-500104", "admin")


async def published_history(disclosure, batch_of: Callable) -> list[str]:
    """Several batches through the live service: failures, a correction, a withdrawal, late rows."""
    plain = batch_of(130)  # two settled chunks
    with_failures = batch_of(3)
    await disclosure.handled(
        failed(with_failures.batch_id, batch_of(2).people), batch_id=with_failures.batch_id
    )
    corrected, withdrawn, late_rows = batch_of(4), batch_of(2), batch_of(3)
    ids = {}
    for b in (plain, with_failures, corrected, withdrawn, late_rows):
        ids[b.batch_id] = (await disclosure.publish_batch(b))["publication_id"]
    stray = batch_of(1).settled()[0].model_copy(update={"batch_id": late_rows.batch_id})
    await disclosure.handled(stray, batch_id=late_rows.batch_id)
    r = await disclosure.client.post(
        f"/api/v1/disclosure/publications/{ids[corrected.batch_id]}/corrections",
        json={"reason": "更正", "statement": "公示内容已更正。"},
        headers=disclosure.as_actor(*ADMIN),
    )
    assert r.status_code == 200
    r = await disclosure.client.post(
        f"/api/v1/disclosure/publications/{ids[withdrawn.batch_id]}/withdrawal",
        json={"reason": "撤回"},
        headers=disclosure.as_actor(*ADMIN),
    )
    assert r.status_code == 200
    return list(ids)


async def test_rebuild_from_events_reproduces_the_published_lists(disclosure, batch_of: Callable) -> None:
    batches = await published_history(disclosure, batch_of)
    scratch = f"disclosure_rb_{uuid.uuid4().hex[:12]}"
    report = await rebuild.run(Settings(), scratch=scratch, batch_ids=batches, keep=True)
    assert report.differences == []
    assert report.publications == 5
    assert report.rows == 130 + 3 + 4 + 2 + 4
    assert report.processed > 0

    # compared again here, field by field, with personal data never in clear in either
    async with disclosure.app.state.db.engine.connect() as conn:
        live = await rebuild.published_lists(conn, "disclosure", batches)
        rebuilt = await rebuild.published_lists(conn, scratch, batches)
        await conn.execute(sa.text(f'DROP SCHEMA "{scratch}" CASCADE'))
        await conn.commit()
    assert rebuilt == live
    statuses = sorted(p["publication"][9] for p in rebuilt["publications"].values())
    assert statuses == ["published"] * 4 + ["withdrawn"]
    assert len(rebuilt["failed"]) == 2

    # the command says the same, with its exit status
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ykt_disclosure",
        "rebuild",
        *[a for b in batches for a in ("--batch", b)],
        "--schema",
        f"disclosure_rb_{uuid.uuid4().hex[:12]}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "differences from the live lists: 0" in out.decode()
    assert "rebuilt: 5 publications, 143 rows" in out.decode()


async def test_rebuild_replace_swaps_tables_and_the_consumer_carries_on(
    disclosure, batch_of: Callable
) -> None:
    batches = await published_history(disclosure, batch_of)
    async with disclosure.app.state.db.engine.connect() as conn:
        before = await rebuild.published_lists(conn, "disclosure", batches)
    report = await rebuild.run(Settings(), scratch=f"disclosure_rb_{uuid.uuid4().hex[:12]}", replace=True)
    assert report.replaced
    async with disclosure.app.state.db.engine.connect() as conn:
        after = await rebuild.published_lists(conn, "disclosure", batches)
    assert after == before
    # the live consumer now writes to the swapped-in tables
    batch = batch_of(3)
    event = await disclosure.publish_batch(batch)
    page = await disclosure.client.get(event["path"])
    assert page.status_code == 200 and "3 人" in page.text
    assert await disclosure.published_count(batch.batch_id) == 1
