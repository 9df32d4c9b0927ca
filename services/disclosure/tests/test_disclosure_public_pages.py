"""The public pages: filters by program, town and village, pagination, accessibility basics."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import quote_plus

from ykt_contracts.reference import TOWNS
from ykt_disclosure.domain.display import yuan
from ykt_kit.testing import EventRecorder

T_A, T_B, T_ELSEWHERE = TOWNS[0].code, TOWNS[5].code, TOWNS[7].code
V_A, V_B = "新山村社区", "八桥村"


def villages_shown(html: str) -> list[str]:
    return re.findall(r'data-label="村（社区）">([^<]*)<', html)


def assert_accessible(html: str) -> None:
    assert '<html lang="zh-CN">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html.lower()
    assert re.search(r"<h1>[^<]+</h1>", html)
    controls = re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', html)
    assert controls
    for control in controls:
        assert f'<label for="{control}">' in html


async def test_disclosure_village_filter_and_pagination(
    disclosure, batch_of: Callable, kafka_bootstrap: str
) -> None:
    batch = batch_of(120, places=[(T_A, V_A), (T_B, V_B)])
    in_b = [r for r in batch.records if r.village == V_B]
    assert len(in_b) > 50
    async with EventRecorder(kafka_bootstrap, "disclosure.published") as rec:
        await disclosure.publish(*batch.settled(size=40), batch.completed(), batch_id=batch.batch_id)
        await rec.wait_for(
            lambda r: r.of("disclosure.published", batch.batch_id), what="disclosure.published"
        )
    [env] = rec.of("disclosure.published", batch.batch_id)
    path, pid = env.payload["path"], env.payload["publication_id"]
    get = disclosure.client.get

    # 120 rows: pages of 50, 50, 20; out-of-range pages show the last one
    first = (await get(path)).text
    assert_accessible(first)
    assert len(villages_shown(first)) == 50
    assert "第 1 / 3 页" in first
    assert f'href="{path}?page=2"' in first
    assert f'全部名单：120 人，金额 <span class="num">{yuan(batch.amount_fen)}</span> 元' in first
    assert len(villages_shown((await get(path, params={"page": "2"})).text)) == 50
    last = (await get(path, params={"page": "3"})).text
    assert len(villages_shown(last)) == 20
    assert ">101<" in last  # row numbers continue across pages
    assert "第 3 / 3 页" in (await get(path, params={"page": "99"})).text
    assert "第 1 / 3 页" in (await get(path, params={"page": "junk"})).text

    # the village filter: only that village's rows, its own totals, pages that keep the filter
    only_b = (await get(path, params={"village": V_B})).text
    shown = villages_shown(only_b)
    assert len(shown) == 50
    assert set(shown) == {V_B}
    assert (
        f'筛选结果：{len(in_b)} 人，金额 <span class="num">{yuan(sum(r.amount_fen for r in in_b))}</span> 元'
        in only_b
    )
    assert f"village={quote_plus(V_B)}&amp;page=2" in only_b
    page2 = (await get(path, params={"village": V_B, "page": 2})).text
    assert villages_shown(page2) == [V_B] * (len(in_b) - 50)
    assert f'<option value="{V_B}" selected>' in only_b
    assert (await get(path, params={"village": "没有这个村"})).text.count('data-label="姓名"') == 0

    # the town filter
    town_a = (await get(path, params={"town": T_A})).text
    assert set(villages_shown(town_a)) == {V_A}
    assert "新山村街道" in town_a

    # the same filter and pages through the JSON API
    api = (await get(f"/api/public/v1/publications/{pid}/records", params={"village": V_B, "page": 2})).json()
    assert api["total_items"] == len(in_b)
    assert api["page"] == 2
    assert api["total_pages"] == 2
    assert {i["village"] for i in api["items"]} == {V_B}
    assert all(re.fullmatch(r"\d\*{16}[\dX]", i["id_masked"]) for i in api["items"])

    # the list of publications filters by program, town and period
    async def listed(**params: str) -> bool:
        html = (await get("/public", params=params)).text
        assert_accessible(html)
        return path in html

    assert await listed()
    assert await listed(program="HM10", town=T_B, period="2025-03")
    assert not await listed(program="HM01")
    assert not await listed(town=T_ELSEWHERE)
    assert not await listed(period="2024-12")
    api_list = (await get("/api/public/v1/publications", params={"town": T_ELSEWHERE})).json()
    assert pid not in {i["publication_id"] for i in api_list["items"]}


async def test_disclosure_stylesheet_and_headers(disclosure) -> None:
    css = await disclosure.client.get("/public/assets/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    page = await disclosure.client.get("/public")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-robots-tag"].startswith("noindex")
    assert unescape(page.text).count("监督电话：12345（政务服务便民热线）、12388（纪检监察举报电话）") == 1
