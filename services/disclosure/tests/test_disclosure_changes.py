"""Withdrawals and corrections (audited: who, when, why; shown as 更正于 …), who may make them,
masking rules per channel (stricter freely, looser only through an audited change), and the
window per program."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from ykt_disclosure.config import Settings
from ykt_kit.actor import Role
from ykt_kit.masking import mask_id, mask_name

from .conftest import service_running

CIVIL = (Role.DEPARTMENT, "DEPT-CIVIL", "civil")
AGRI = (Role.DEPARTMENT, "DEPT-AGRI", "agri")
FINANCE = (Role.FINANCE, "FIN-500104", "finance")
ADMIN = (Role.ADMIN, "FIN-500104", "admin")
AUDIT = (Role.SUPERVISOR, "AUDIT-500104", "audit")
TOWN = (Role.TOWN, "500104001000", "town-xsc")


async def test_correction_and_withdrawal_are_audited_scoped_and_shown(disclosure, batch_of: Callable) -> None:
    batch = batch_of(6)
    pid = (await disclosure.publish_batch(batch))["publication_id"]
    base = f"/api/v1/disclosure/publications/{pid}"
    post = disclosure.client.post
    correction = {"reason": "金额复核后更正公示期", "statement": "经复核，公示期延长至15天。"}

    # who may act: not a town, not a supervisor, not another department, not without a signature
    assert (await post(f"{base}/corrections", json=correction)).status_code == 401
    for who, code in (
        (TOWN, "ROLE_FORBIDDEN"),
        (AUDIT, "ROLE_FORBIDDEN"),
        (AGRI, "PUBLICATION_OUT_OF_SCOPE"),
    ):
        r = await post(f"{base}/corrections", json=correction, headers=disclosure.as_actor(*who))
        assert r.status_code == 403, who
        assert r.json()["error"]["code"] == code
    # a statement may not carry personal data
    bad = correction | {"statement": f"第2行身份证号{batch.people[1].id_number}有误"}
    r = await post(f"{base}/corrections", json=bad, headers=disclosure.as_actor(*CIVIL))
    assert r.status_code == 422 and r.json()["error"]["code"] == "PERSONAL_DATA_IN_TEXT"

    # the competent department corrects: a longer window and a public statement
    detail = (await disclosure.client.get(base, headers=disclosure.as_actor(*AUDIT))).json()
    start = datetime.fromisoformat(detail["window_start"])
    new_end = start + timedelta(days=15)
    r = await post(
        f"{base}/corrections",
        json=correction | {"window_end": new_end.isoformat()},
        headers=disclosure.as_actor(*CIVIL),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert datetime.fromisoformat(body["window_end"]) == new_end
    [change] = body["changes"]
    assert change["kind"] == "correction"
    assert (change["actor_user"], change["actor_role"], change["actor_org"]) == (
        "civil",
        "department",
        "DEPT-CIVIL",
    )
    assert change["reason"] == "金额复核后更正公示期"
    assert datetime.fromisoformat(change["window_end_after"]) - datetime.fromisoformat(
        change["window_end_before"]
    ) == timedelta(days=8)
    page = (await disclosure.client.get(f"/public/publications/{pid}")).text
    assert "更正于 " in page and "经复核，公示期延长至15天。" in page
    assert "金额复核后更正公示期" not in page  # the internal reason is for the audit only
    api = (await disclosure.client.get(f"/api/public/v1/publications/{pid}/records")).json()
    assert api["publication"]["corrected_at"]
    assert [c["statement"] for c in api["publication"]["corrections"]] == ["经复核，公示期延长至15天。"]

    # finance withdraws it: gone from the lists, the page says so, nothing listed
    r = await post(
        f"{base}/withdrawal",
        json={"reason": "发放单位申请撤回", "statement": "本公示因数据核对需要撤回。"},
        headers=disclosure.as_actor(*FINANCE),
    )
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"
    assert [c["kind"] for c in r.json()["changes"]] == ["correction", "withdrawal"]
    again = await post(f"{base}/withdrawal", json={"reason": "再次"}, headers=disclosure.as_actor(*ADMIN))
    assert again.status_code == 409
    page = await disclosure.client.get(f"/public/publications/{pid}")
    assert page.status_code == 410
    assert "本公示已撤回" in page.text and "本公示因数据核对需要撤回。" in page.text
    assert "更正于" in page.text
    for r in batch.records:
        assert mask_id(r.id_number) not in page.text
    listed = (await disclosure.client.get("/api/public/v1/publications", params={"page_size": 200})).json()
    assert pid not in {i["publication_id"] for i in listed["items"]}
    records = await disclosure.client.get(f"/api/public/v1/publications/{pid}/records")
    assert records.status_code == 410 and records.json()["error"]["code"] == "PUBLICATION_WITHDRAWN"

    # supervisors read everything, including withdrawn publications and their history
    mine = await disclosure.client.get(
        "/api/v1/disclosure/publications", params={"status": "withdrawn"}, headers=disclosure.as_actor(*AUDIT)
    )
    assert pid in {i["publication_id"] for i in mine.json()["items"]}
    agri = await disclosure.client.get(
        "/api/v1/disclosure/publications", params={"program": "HM10"}, headers=disclosure.as_actor(*AGRI)
    )
    assert agri.json()["total_items"] == 0  # another department's programs are not in its scope

    # the audit is append-only
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with disclosure.app.state.db.transaction() as s:
            await s.execute(sa.text("UPDATE publication_changes SET reason = 'x'"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with disclosure.app.state.db.transaction() as s:
            await s.execute(sa.text("DELETE FROM publication_changes"))


async def test_masking_per_channel_stricter_or_audited_looser(disclosure, batch_of: Callable) -> None:
    batch = batch_of(3)
    pid = (await disclosure.publish_batch(batch))["publication_id"]
    records = f"/api/public/v1/publications/{pid}/records"
    put = disclosure.client.put

    def shown() -> Callable:
        async def get() -> list[tuple[str, str]]:
            items = (await disclosure.client.get(records)).json()["items"]
            return sorted((i["name_masked"], i["id_masked"]) for i in items)

        return get

    get = shown()
    assert await get() == sorted((mask_name(r.name), mask_id(r.id_number)) for r in batch.records)

    # only the platform administrator changes masking, always with a reason
    change = {"name": "surname", "id": "hidden", "reason": "自助终端放置于公共场所，从严脱敏"}
    assert (
        await put("/api/v1/disclosure/masking/api", json=change, headers=disclosure.as_actor(*FINANCE))
    ).status_code == 403
    try:
        r = await put("/api/v1/disclosure/masking/api", json=change, headers=disclosure.as_actor(*ADMIN))
        assert r.status_code == 200, r.text
        assert await get() == sorted((r.name[0] + "**", "*" * 18) for r in batch.records)
        web = (await disclosure.client.get(f"/public/publications/{pid}")).text
        assert all(mask_id(r.id_number) in web for r in batch.records)  # other channels unchanged

        # looser than the default: possible, but only like this, and flagged in the audit
        looser = {"name": "full", "id": "region_last4", "reason": "经区政府批准，本渠道显示全名"}
        r = await put("/api/v1/disclosure/masking/api", json=looser, headers=disclosure.as_actor(*ADMIN))
        assert r.status_code == 200
        body = r.json()
        [api_rule] = [x for x in body["rules"] if x["channel"] == "api"]
        assert api_rule["looser_than_default"] is True
        last = body["changes"][-1]
        assert (last["name_before"], last["id_before"], last["name_after"], last["id_after"]) == (
            "surname",
            "hidden",
            "full",
            "region_last4",
        )
        assert last["looser_than_default"] is True and last["actor_user"] == "admin"
        assert await get() == sorted(
            (r.name, r.id_number[:6] + "*" * 8 + r.id_number[-4:]) for r in batch.records
        )
        overview = await disclosure.client.get(
            "/api/v1/disclosure/masking", headers=disclosure.as_actor(*AUDIT)
        )
        assert overview.status_code == 200 and len(overview.json()["changes"]) >= 2
    finally:
        reset = {"name": "default", "id": "default", "reason": "恢复默认脱敏规则"}
        r = await put("/api/v1/disclosure/masking/api", json=reset, headers=disclosure.as_actor(*ADMIN))
        assert r.status_code == 200
    assert await get() == sorted((mask_name(r.name), mask_id(r.id_number)) for r in batch.records)


def test_configuration_may_make_a_channel_stricter_never_looser(platform_env) -> None:
    strict = Settings(masking={"api": {"name": "surname"}, "print": {"id": "hidden"}})
    assert strict.configured_rules()["api"].name == "surname"
    with pytest.raises(ValidationError, match="looser than the default"):
        Settings(masking={"web": {"name": "full"}})
    with pytest.raises(ValidationError, match="looser than the default"):
        Settings(masking={"api": {"id": "region_last4"}})


async def test_window_is_configurable_per_program(
    platform_env, kafka_bootstrap: str, batch_of: Callable
) -> None:
    async with service_running(kafka_bootstrap, program_window_days={"HM10": 15}) as svc:
        batch = batch_of(2)
        event = await svc.publish_batch(batch)
    start = datetime.fromisoformat(str(event["window_start"]))
    end = datetime.fromisoformat(str(event["window_end"]))
    assert end - start == timedelta(days=15)
