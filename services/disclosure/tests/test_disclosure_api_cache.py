"""The kiosk / mini-program JSON API: answers cached in Redis, ETags and 304s, and a change of
what the public sees (a correction) makes every cached answer stale at once."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from redis.asyncio import Redis
from ykt_kit.actor import Role


async def test_etag_304_redis_cache_and_invalidation(disclosure, batch_of: Callable) -> None:
    batch = batch_of(5)
    pid = (await disclosure.publish_batch(batch))["publication_id"]
    url = f"/api/public/v1/publications/{pid}/records"
    get = disclosure.client.get

    first = await get(url, params={"page_size": 3})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"].startswith("public, max-age=")
    # the same question again: the same bytes and tag; with the tag, 304 and no body
    again = await get(url, params={"page_size": 3})
    assert again.content == first.content and again.headers["etag"] == etag
    not_modified = await get(url, params={"page_size": 3}, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b"" and not_modified.headers["etag"] == etag
    assert (
        await get(url, params={"page_size": 3}, headers={"If-None-Match": f'"other", W/{etag}'})
    ).status_code == 304
    assert (await get(url, params={"page_size": 4}, headers={"If-None-Match": etag})).status_code == 200

    # the answer is served from Redis: a change the service was not told about is not seen
    async with disclosure.app.state.db.transaction() as s:
        await s.execute(
            sa.text("UPDATE disclosed_records SET village = '缓存检查' WHERE batch_id = :b"),
            {"b": batch.batch_id},
        )
    cached = await get(url, params={"page_size": 3})
    assert cached.content == first.content
    redis: Redis = disclosure.app.state.store.redis
    keys = [
        k async for k in redis.scan_iter(match=f"{disclosure.app.state.settings.redis_prefix}api:*{pid}*")
    ]
    assert keys

    # a correction bumps the public version: the next answer is fresh and tagged anew
    r = await disclosure.client.post(
        f"/api/v1/disclosure/publications/{pid}/corrections",
        json={"reason": "村名更正", "statement": "村（社区）名称已更正。"},
        headers=disclosure.as_actor(Role.ADMIN, "FIN-500104", "admin"),
    )
    assert r.status_code == 200
    fresh = await get(url, params={"page_size": 3}, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    body = fresh.json()
    assert {i["village"] for i in body["items"]} == {"缓存检查"}
    assert body["publication"]["corrections"][0]["statement"] == "村（社区）名称已更正。"

    # the list and the places are cached and tagged the same way
    for path in ("/api/public/v1/publications", f"/api/public/v1/publications/{pid}/places"):
        one = await get(path)
        assert one.status_code == 200
        assert (await get(path, headers={"If-None-Match": one.headers["etag"]})).status_code == 304
