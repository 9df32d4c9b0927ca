"""The printable A4 notice of one village: a real PDF with an embedded CJK font, whose extracted
text (poppler's pdftotext) carries the title, the window, the totals and only masked values."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from ykt_contracts.reference import TOWNS
from ykt_disclosure.adapters.notice_pdf import NoticeFontMissing, check_font
from ykt_disclosure.domain.display import yuan
from ykt_kit.actor import Role
from ykt_kit.masking import mask_id, mask_name

from .conftest import service_running

T_A, T_B = TOWNS[0].code, TOWNS[6].code
V_A, V_B = "大堰村", "金鳌村"


async def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as poppler extracts it (Debian's poppler-utils)."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext not found: install Debian's poppler-utils"
    src = tmp_path / "notice.pdf"
    src.write_bytes(pdf)
    proc = await asyncio.create_subprocess_exec(
        exe, "-layout", "-enc", "UTF-8", str(src), "-", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    return out.decode("utf-8")


async def test_village_notice_pdf_has_title_totals_window_and_only_masked_values(
    disclosure, batch_of: Callable, tmp_path: Path
) -> None:
    batch = batch_of(60, places=[(T_A, V_A), (T_B, V_B)])
    event = await disclosure.publish_batch(batch)
    pid = event["publication_id"]
    in_b = [r for r in batch.records if r.village == V_B]

    # the JSON API names each village's notice; that is the URL the demo prints
    places = (await disclosure.client.get(f"/api/public/v1/publications/{pid}/places")).json()
    [place] = [p for p in places["items"] if p["village"] == V_B]
    assert place["record_count"] == len(in_b)
    notice_url = place["notice_url"]
    assert notice_url.startswith("http://127.0.0.1:8105/public/publications/")

    # a correction before printing: it is shown on the notice
    fix = await disclosure.client.post(
        f"/api/v1/disclosure/publications/{pid}/corrections",
        headers=disclosure.as_actor(Role.DEPARTMENT, "DEPT-CIVIL", "civil"),
        json={"reason": "村名录入有误", "statement": "第3行所在村名称已更正。"},
    )
    assert fix.status_code == 200, fix.text

    r = await disclosure.client.get(notice_url.removeprefix("http://127.0.0.1:8105"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf  # the TrueType CJK font is embedded (subset), not referenced
    (tmp_path / "village-notice.pdf").write_bytes(pdf)

    text = await pdf_text(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "惠民惠农财政补贴资金发放公示" in flat
    assert "困难群众救助补助——城乡居民最低生活保障金" in flat
    assert "发布单位：区民政局" in flat
    assert "发放期间：2025年3月" in flat
    assert f"公示范围：建胜镇{V_B}" in flat
    assert re.search(r"公示期：自\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日", flat)
    assert f"合计：{len(in_b)}人，发放金额{yuan(sum(r.amount_fen for r in in_b))}元" in flat
    assert "12345（政务服务便民热线）" in flat
    assert "12388（纪检监察举报电话）" in flat
    assert "更正于" in flat and "第3行所在村名称已更正。" in flat
    people = {p.id_number: p for p in batch.people}
    for rec in in_b:
        assert mask_id(rec.id_number) in flat
        assert mask_name(rec.name) in flat
    for rec in batch.records:
        p = people[rec.id_number]
        assert p.id_number not in flat
        assert p.account_no not in flat
        assert p.phone not in flat
        if len(p.name) >= 3:
            assert p.name not in flat
    # the other village's rows are not on this village's notice
    for rec in batch.records:
        if rec.village == V_A:
            assert mask_id(rec.id_number) not in flat or any(
                mask_id(o.id_number) == mask_id(rec.id_number) for o in in_b
            )


async def test_notice_of_a_withdrawn_publication_or_unknown_village_is_refused(
    disclosure, batch_of: Callable
) -> None:
    batch = batch_of(4, places=[(T_A, V_A)])
    pid = (await disclosure.publish_batch(batch))["publication_id"]
    missing = await disclosure.client.get(
        f"/public/publications/{pid}/notice.pdf", params={"village": "无此村"}
    )
    assert missing.status_code == 404
    assert "没有这个村（社区）的名单" in missing.text
    withdrawn = await disclosure.client.post(
        f"/api/v1/disclosure/publications/{pid}/withdrawal",
        headers=disclosure.as_actor(Role.FINANCE, "FIN-500104", "finance"),
        json={"reason": "发放单位申请撤回"},
    )
    assert withdrawn.status_code == 200
    r = await disclosure.client.get(f"/public/publications/{pid}/notice.pdf", params={"village": V_A})
    assert r.status_code == 410
    assert "该公示已撤回" in r.text


async def test_configured_stricter_print_channel_hides_the_id_on_the_notice(
    platform_env, kafka_bootstrap: str, batch_of: Callable, tmp_path: Path
) -> None:
    async with service_running(
        kafka_bootstrap, masking={"print": {"id": "hidden", "name": "surname"}}
    ) as svc:
        batch = batch_of(3, places=[(T_A, V_A)])
        pid = (await svc.publish_batch(batch))["publication_id"]
        pdf = (await svc.client.get(f"/public/publications/{pid}/notice.pdf")).content
        web = (await svc.client.get(f"/public/publications/{pid}")).text
    flat = re.sub(r"\s+", "", await pdf_text(pdf, tmp_path))
    assert flat.count("*" * 18) == 3
    for rec in batch.records:
        assert mask_id(rec.id_number) not in flat
        assert rec.name[0] + "**" in flat
        assert mask_id(rec.id_number) in web  # the web channel keeps its default


async def test_missing_font_is_a_clear_error(platform_env, kafka_bootstrap: str, batch_of: Callable) -> None:
    with pytest.raises(NoticeFontMissing) as caught:
        check_font(Path("/nonexistent/fonts/none.ttc"))
    assert "fonts-wqy-microhei" in caught.value.details["hint"]
    assert "/nonexistent/fonts/none.ttc" in caught.value.details["hint"]
    async with service_running(kafka_bootstrap, cjk_font_path="/nonexistent/fonts/none.ttc") as svc:
        batch = batch_of(2, places=[(T_A, V_A)])
        pid = (await svc.publish_batch(batch))["publication_id"]
        r = await svc.client.get(f"/public/publications/{pid}/notice.pdf")
    assert r.status_code == 503
    assert "公告字体文件缺失" in r.text
