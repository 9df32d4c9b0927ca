"""A settled batch in chunks, then batch.completed: one publication, masked on every channel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from ykt_disclosure.domain.display import yuan
from ykt_kit.masking import mask_id, mask_name
from ykt_kit.testing import EventRecorder


async def test_settled_chunks_then_completed_publish_once_with_masked_pages(
    disclosure, batch_of: Callable, kafka_bootstrap: str
) -> None:
    batch = batch_of(230)  # three payment.settled chunks: 100 + 100 + 30
    async with EventRecorder(kafka_bootstrap, "disclosure.published") as rec:
        settled = batch.settled()
        assert len(settled) == 3
        await disclosure.publish(*settled, batch.completed(), batch_id=batch.batch_id)
        await rec.wait_for(
            lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
        )

    [env] = rec.of("disclosure.published", batch.batch_id)
    event = env.payload
    assert env.producer == "disclosure"
    assert event["batch_id"] == batch.batch_id
    assert event["program_code"] == "HM10"
    assert event["period"] == "2025-03"
    assert event["totals"] == {"record_count": 230, "amount_fen": batch.amount_fen}
    assert event["path"] == f"/public/publications/{event['publication_id']}"
    assert await disclosure.published_count(batch.batch_id) == 1

    # the list of current publications names the program, the unit and the totals in yuan
    listing = await disclosure.client.get("/public")
    assert listing.status_code == 200
    html = listing.text
    assert event["path"] in html
    assert "困难群众救助补助——城乡居民最低生活保障金" in html
    assert "区民政局" in html
    assert f"{yuan(batch.amount_fen)} 元" in html
    assert re.search(r"\d,\d{3}\.\d{2} 元", html)

    # the publication: title, masked names and IDs, never a full ID or account, complaint lines
    page = await disclosure.client.get(event["path"])
    assert page.status_code == 200
    html = page.text
    assert "惠民惠农财政补贴资金发放公示" in html
    assert "监督电话：12345（政务服务便民热线）、12388（纪检监察举报电话）" in html
    assert "2025年3月" in html
    assert html.count('data-label="姓名"') == 50
    first_page = sorted(batch.records, key=lambda r: (r.town_code, r.village, r.record_id))[:50]
    for r in first_page:
        assert mask_id(r.id_number) in html
        assert mask_name(r.name) in html
    for p in batch.people:
        assert p.id_number not in html
        assert p.id_number[:-1] not in html
        assert p.account_no not in html
        if len(p.name) >= 3:
            assert p.name not in html

    # the JSON API: same masking, the same totals, nothing in full
    api = await disclosure.client.get(
        "/api/public/v1/publications", params={"program": "HM10", "period": "2025-03"}
    )
    assert api.status_code == 200
    [item] = [i for i in api.json()["items"] if i["publication_id"] == event["publication_id"]]
    assert item["record_count"] == 230
    assert item["amount_yuan"] == f"{batch.amount_fen // 100}.{batch.amount_fen % 100:02d}"
    assert item["url"].endswith(event["path"])
    assert item["open"] is True
    records = await disclosure.client.get(f"/api/public/v1/publications/{event['publication_id']}/records")
    assert records.status_code == 200
    body = records.json()
    assert body["total_items"] == 230
    assert body["total_amount_fen"] == batch.amount_fen
    assert len(body["items"]) == 50
    assert set(body["items"][0]) == {
        "town_code",
        "town_name",
        "village",
        "name_masked",
        "id_masked",
        "amount_fen",
        "amount_yuan",
        "settled_on",
    }
    text = records.text
    for p in batch.people:
        assert p.id_number not in text
        assert p.account_no not in text

    # the window is the configured seven days
    window = await disclosure.scalar(
        "SELECT window_end - window_start FROM publications WHERE batch_id = :b AND status = 'published'",
        b=batch.batch_id,
    )
    assert window == timedelta(days=7)

    # nothing but masked values is stored
    stored_ids = await disclosure.scalar(
        "SELECT string_agg(id_masked || name_masked, '') FROM disclosed_records WHERE batch_id = :b",
        b=batch.batch_id,
    )
    assert all(p.id_number not in stored_ids for p in batch.people)

    metrics = (await disclosure.client.get("/metrics")).text
    assert re.search(r"^ykt_disclosure_publications_total [1-9]", metrics, re.M)
    assert 'ykt_records_total{outcome="disclosed",service="disclosure",stage="disclosure"}' in metrics
