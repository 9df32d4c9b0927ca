"""One disbursement cycle through all six steps, driven through the gateway as the operators
would: seed the catalogue, register beneficiaries, submit, validate, correct, send, review,
fund, pay, feed back, correct and re-issue, disclose. Returns a report that is then checked."""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook
from ykt_contracts.reference import DEPARTMENTS, TOWNS
from ykt_kit import idcard, synthetic
from ykt_registry import seed

PASSWORD = "Demo-Passw0rd!"  # noqa: S105 - the development demo password (refused outside development)
PROGRAM = "HM10"  # 困难群众救助补助——城乡居民最低生活保障金
PERIOD = "2026-11"
AMOUNT_FEN = 65_000
BANKS = {code: name for code, name, _, _ in seed.BANKS}
# people live in the villages/communities the registry was seeded with (synthetic names)
VILLAGES = seed.villages_by_town()


class DemoFailure(Exception):
    """The cycle did not end as it must; the message says why."""


@dataclass
class Report:
    """What happened at each step, for the summary and for the checks."""

    people: int = 0
    batch_id: str = ""
    reissue_batch_id: str = ""
    town_batch_id: str = ""
    submitted: tuple[int, int] = (0, 0)
    rejected_by_code: Counter[str] = field(default_factory=Counter)
    corrected_resubmitted: int = 0
    withdrawn: int = 0
    sent: tuple[int, int] = (0, 0)
    per_bank: dict[str, dict[str, int]] = field(default_factory=dict)
    first_paid: tuple[int, int] = (0, 0)
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    reissued: tuple[int, int] = (0, 0)
    reissue_paid: tuple[int, int] = (0, 0)
    bank_credits: int = 0
    bank_credit_fen: int = 0
    sms: int = 0
    publications: list[dict[str, Any]] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)


class Operator:
    """An operator logged in at the gateway."""

    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.client = httpx.Client(base_url=base, timeout=300)
        r = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        if r.status_code != 200:
            raise DemoFailure(f"login {username} failed: {r.status_code} {r.text[:200]}")
        self.client.headers["authorization"] = f"Bearer {r.json()['access_token']}"
        self.username = username

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        r = self.client.request(method, path, **kw)
        if r.status_code not in expect:
            raise DemoFailure(f"{self.username} {method} {path} → {r.status_code}: {r.text[:400]}")
        return r.json() if r.content else None

    def wait_batch(self, batch_id: str, *statuses: str, timeout: float = 180.0) -> dict[str, Any]:
        """Poll the batch until it reaches one of `statuses` (each change arrives by an event)."""
        deadline = time.monotonic() + timeout
        while True:
            b: dict[str, Any] = self.call("GET", f"/api/v1/batches/{batch_id}")
            if b["status"] in statuses:
                return b
            if time.monotonic() > deadline:
                raise DemoFailure(f"batch {batch_id} stayed '{b['status']}', expected {statuses}")
            time.sleep(0.2)


def seed_reference(admin: Operator) -> None:
    """Step 0, through the gateway as the platform admin: Dadukou's divisions down to villages (from
    the registry's CSV), the agent banks, the organisations, Annex 1's catalogue (with HM10 on
    trial, §五.五) and the agency agreements each paying unit signed (§五.三)."""
    for method, path, kwargs in seed.requests(trial=PROGRAM):
        admin.call(method, path, **kwargs)


def _wrong_check_char(id_number: str) -> str:
    right = idcard.check_char(id_number[:17])
    wrong = next(c for c in "0123456789X" if c != right)
    return id_number[:17] + wrong


def demo_population(people: int, seed: int) -> list[synthetic.Person]:
    """The synthetic people of a demo cycle, spread over every town's villages and four banks."""
    towns = [(t.code, v) for t in TOWNS for v in VILLAGES[t.code]]
    return synthetic.population(
        people, seed=seed, area="500104", towns=towns, bank_codes=["CQRCB", "CQRCB", "ICBC", "CCB"]
    )


def run_cycle(
    gateway_url: str, bank_sim_url: str, disclosure_url: str, *, people: int = 300, seed: int = 20261127
) -> Report:
    """Drive one full cycle; raise DemoFailure with the reason if any step misbehaves."""
    rep = Report(people=people)
    admin = Operator(gateway_url, "admin")
    civil = Operator(gateway_url, "civil")
    town = Operator(gateway_url, "town-xsc")
    finance = Operator(gateway_url, "finance")
    seed_reference(admin)

    rng = random.Random(seed)
    pop = demo_population(people, seed)
    admin.call(
        "POST",
        "/api/v1/beneficiaries",
        json=[
            {
                "id_number": p.id_number,
                "name": p.name,
                "phone": p.phone,
                "town_code": p.town_code,
                "village": p.village,
                "bank_code": p.bank_code,
                "account_no": p.account_no,
            }
            for p in pop
        ],
    )
    # The banks' own books: every registered account, a few in states that refuse credit.
    closed, frozen, inbound_only, name_typo, acct_typo = pop[10], pop[11], pop[12], pop[13], pop[14]
    state = {
        closed.account_no: "closed",
        frozen.account_no: "frozen",
        inbound_only.account_no: "inbound_only",
    }
    for bank in BANKS:
        book = [
            {
                "account_no": p.account_no,
                "holder_name": p.name,
                "holder_id_number": p.id_number,
                "state": state.get(p.account_no, "normal"),
            }
            for p in pop
            if p.bank_code == bank
        ]
        if book:
            httpx.post(
                f"{bank_sim_url}/banks/{bank}/admin/accounts", json=book, timeout=60
            ).raise_for_status()

    # Step 1 提交数据: the civil affairs bureau submits this month's 低保 for 200 people.
    payees = pop[:200]
    wrong_ids = {
        payees[1].id_number: _wrong_check_char(payees[1].id_number),
        payees[2].id_number: _wrong_check_char(payees[2].id_number),
    }
    rows = []
    for p in payees:
        rows.append(
            {
                "id_number": wrong_ids.get(p.id_number, p.id_number),
                "name": p.name + "某" if p is name_typo else p.name,
                "account_no": p.account_no[:-1] + str((int(p.account_no[-1]) + 1) % 10)
                if p is acct_typo
                else p.account_no,
                "bank_code": p.bank_code,
                "amount_fen": AMOUNT_FEN,
                "town_code": p.town_code,
                "village": p.village,
            }
        )
    dup = dict(rows[0])  # the same person twice in one file: duplicate enjoyment
    rows.append(dup)
    # The bureau's clerk fills in the spreadsheet and uploads it, declaring the control totals.
    batch = upload_xlsx(
        civil,
        rows,
        unit_batch_no=f"MZ-{PERIOD}-DB-{rng.randrange(10**6):06d}",
        program_code=PROGRAM,
        period=PERIOD,
        declared_count=len(rows),
        declared_amount_fen=AMOUNT_FEN * len(rows),
    )
    rep.batch_id = bid = batch["batch_id"]
    rep.submitted = (len(rows), AMOUNT_FEN * len(rows))

    # Step 2 验证数据: verdicts come back; fix what can be fixed, withdraw the duplicate.
    civil.wait_batch(bid, "needs_correction", "validated")
    # Then a town submits 低保 for a person the bureau already pays this month: caught across units.
    twin = next(p for p in payees[3:] if p.town_code == "500104001000")
    tb = town.call(
        "POST",
        "/api/v1/batches",
        json={
            "unit_batch_no": f"XSC-{PERIOD}-{rng.randrange(10**6):06d}",
            "program_code": PROGRAM,
            "period": PERIOD,
            "declared": {"record_count": 1, "amount_fen": AMOUNT_FEN},
            "records": [
                {
                    "id_number": twin.id_number,
                    "name": twin.name,
                    "account_no": twin.account_no,
                    "bank_code": twin.bank_code,
                    "amount_fen": AMOUNT_FEN,
                    "town_code": twin.town_code,
                    "village": twin.village,
                }
            ],
        },
    )
    rep.town_batch_id = tb["batch_id"]

    rejected = civil.call("GET", f"/api/v1/batches/{bid}/records", params={"status": "rejected"})
    rep.rejected_by_code.update(r["code"] for r in rejected)
    tbv = town.wait_batch(rep.town_batch_id, "needs_correction", "validated")
    for r in town.call("GET", f"/api/v1/batches/{rep.town_batch_id}/records", params={"status": "rejected"}):
        rep.rejected_by_code.update([r["code"]])
        town.call("POST", f"/api/v1/batches/{rep.town_batch_id}/records/{r['record_id']}/withdrawal")
        rep.withdrawn += 1
    del tbv
    by_seq = {r["seq"]: r for r in rejected}
    for seq, r in by_seq.items():
        payee = payees[seq - 1] if seq <= len(payees) else None
        if r["code"].startswith("ID_") and payee is not None:
            civil.call(
                "POST",
                f"/api/v1/batches/{bid}/records/{r['record_id']}/correction",
                json={"id_number": payee.id_number},
            )
            rep.corrected_resubmitted += 1
        else:
            civil.call("POST", f"/api/v1/batches/{bid}/records/{r['record_id']}/withdrawal")
            rep.withdrawn += 1
    if rep.corrected_resubmitted:
        civil.call("POST", f"/api/v1/batches/{bid}/resubmission")
    b = civil.wait_batch(bid, "validated", "needs_correction")
    if b["status"] != "validated":
        raise DemoFailure(f"corrected batch still has open records: {b['records_by_status']}")

    # Step 3 发送数据 + 财政复核: send; finance reviews and approves (it cannot edit).
    b = civil.call("POST", f"/api/v1/batches/{bid}/sending")
    passed = b["records_by_status"]["passed"]
    rep.sent = (passed["record_count"], passed["amount_fen"])
    wait_review(finance, bid)
    finance.call("POST", f"/api/v1/reviews/{bid}/approve")
    civil.wait_batch(bid, "approved")

    # Step 4 发放资金: the unit files its payment application; the treasury funds the banks.
    civil.call("POST", f"/api/v1/batches/{bid}/funding", json={"budget_doc_no": "渡财社〔2026〕88号"})
    pay = civil.call("GET", f"/api/v1/batches/{bid}/payment")
    rep.per_bank = (
        {
            bank: {"records": v.get("records", 0), "funded_fen": v.get("funded_fen", 0)}
            for bank, v in (pay.get("banks") or {}).items()
        }
        if isinstance(pay.get("banks"), dict)
        else {}
    )

    # Step 5 反馈信息: bank results; failures corrected (new account or data) and re-issued.
    b = civil.wait_batch(bid, "completed", "disclosed")
    settled = b["records_by_status"].get("settled", {"record_count": 0, "amount_fen": 0})
    rep.first_paid = (settled["record_count"], settled["amount_fen"])
    failed = civil.call("GET", f"/api/v1/batches/{bid}/records", params={"status": "failed"})
    rep.failed_by_reason.update(f"{r['code']} {r['message']}" for r in failed)
    fixes = _corrections(pop, failed, payees, closed, frozen, inbound_only, name_typo, acct_typo, rng)
    for bank, book in fixes["book"].items():
        httpx.post(f"{bank_sim_url}/banks/{bank}/admin/accounts", json=book, timeout=60).raise_for_status()
    for record_id, change in fixes["changes"].items():
        civil.call("POST", f"/api/v1/batches/{bid}/records/{record_id}/correction", json=change)
    if failed:
        rb = civil.call("POST", f"/api/v1/batches/{bid}/reissue")
        rep.reissue_batch_id = rid = rb["batch_id"]
        rep.reissued = (rb["declared"]["record_count"], rb["declared"]["amount_fen"])
        civil.wait_batch(rid, "validated", "needs_correction")
        civil.call("POST", f"/api/v1/batches/{rid}/sending")
        wait_review(finance, rid)
        finance.call("POST", f"/api/v1/reviews/{rid}/approve")
        civil.wait_batch(rid, "approved")
        civil.call("POST", f"/api/v1/batches/{rid}/funding", json={"budget_doc_no": "渡财社〔2026〕88号"})
        rb = civil.wait_batch(rid, "disclosed")
        s2 = rb["records_by_status"].get("settled", {"record_count": 0, "amount_fen": 0})
        rep.reissue_paid = (s2["record_count"], s2["amount_fen"])

    # Step 6 公开公示: masked lists published.
    pubs = httpx.get(
        f"{disclosure_url}/api/public/v1/publications", params={"page_size": 100}, timeout=30
    ).json()
    by_id = {p["publication_id"]: p for p in pubs["items"]}
    for batch_id in filter(None, (bid, rep.reissue_batch_id)):
        path = civil.wait_batch(batch_id, "disclosed")["publication_path"] or ""
        pub = by_id.get(path.rsplit("/", 1)[-1])
        if pub is not None:
            rep.publications.append({**pub, "batch_id": batch_id, "path": path})

    _bank_side(rep, bank_sim_url, pop)
    _check(rep, payees)
    return rep


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_HEADINGS = ("身份证号码", "姓名", "一卡通账号", "代发银行", "金额（元）", "镇街代码", "村（社区）")


def upload_xlsx(
    op: Operator,
    rows: list[dict[str, Any]],
    *,
    unit_batch_no: str,
    program_code: str,
    period: str,
    declared_count: int,
    declared_amount_fen: int,
) -> Any:
    """Write `rows` as the clerk's spreadsheet (Chinese headings, amounts in yuan) and upload it
    through the gateway's file route with the batch's control totals."""
    with tempfile.TemporaryDirectory(prefix="ykt-demo-") as d:
        path = Path(d) / f"{unit_batch_no}.xlsx"
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("发放明细")
        ws.append(list(XLSX_HEADINGS))
        for r in rows:
            ws.append(
                [
                    r["id_number"],
                    r["name"],
                    r["account_no"],
                    r["bank_code"],
                    f"{r['amount_fen'] // 100}.{r['amount_fen'] % 100:02d}",
                    r["town_code"],
                    r["village"],
                ]
            )
        wb.save(path)
        return op.call(
            "POST",
            "/api/v1/batches/files",
            params={
                "unit_batch_no": unit_batch_no,
                "program_code": program_code,
                "period": period,
                "declared_count": declared_count,
                "declared_amount": f"{declared_amount_fen // 100}.{declared_amount_fen % 100:02d}",
                "filename": path.name,
            },
            content=path.read_bytes(),
            headers={"content-type": XLSX_TYPE},
        )


def wait_review(finance: Operator, batch_id: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        items = finance.call("GET", "/api/v1/reviews", params={"status": "pending_review"})
        rows = items.get("items", items) if isinstance(items, dict) else items
        if any(r.get("batch_id") == batch_id for r in rows):
            return
        if time.monotonic() > deadline:
            raise DemoFailure(f"batch {batch_id} never reached finance's review list")
        time.sleep(0.2)


def _corrections(
    pop: list[synthetic.Person],
    failed: list[dict[str, Any]],
    payees: list[synthetic.Person],
    closed: Any,
    frozen: Any,
    inbound_only: Any,
    name_typo: Any,
    acct_typo: Any,
    rng: random.Random,
) -> dict[str, Any]:
    """What the clerk does for each failure: a new card for a dead account, the right name or number."""
    book: dict[str, list[dict[str, Any]]] = {}
    changes: dict[str, dict[str, Any]] = {}
    for r in failed:
        p = payees[r["seq"] - 1]
        if p in (closed, frozen, inbound_only):
            body = "62" + f"{rng.randrange(10**16):016d}"
            new_account = body + synthetic.luhn_digit(body)
            book.setdefault(p.bank_code, []).append(
                {
                    "account_no": new_account,
                    "holder_name": p.name,
                    "holder_id_number": p.id_number,
                    "state": "normal",
                }
            )
            changes[r["record_id"]] = {"account_no": new_account}
        elif p is name_typo:
            changes[r["record_id"]] = {"name": p.name}
        elif p is acct_typo:
            changes[r["record_id"]] = {"account_no": p.account_no}
    return {"book": book, "changes": changes}


def _bank_side(rep: Report, bank_sim_url: str, pop: list[synthetic.Person]) -> None:
    owner = {p.account_no: p.id_number for p in pop}
    credited: Counter[str] = Counter()
    for bank in BANKS:
        credits = httpx.get(f"{bank_sim_url}/banks/{bank}/admin/credits", timeout=30).json()
        rep.bank_credits += credits["count"]
        rep.bank_credit_fen += credits["amount_fen"]
        for c in credits["credits"]:
            credited[owner.get(c["account_no"], c["account_no"])] += 1
        rep.sms += len(httpx.get(f"{bank_sim_url}/banks/{bank}/admin/sms", timeout=30).json()["messages"])
    rep.checks.append(
        ("nobody credited twice for the period / 无人重复到账", max(credited.values(), default=0) <= 1)
    )


def _check(rep: Report, payees: list[synthetic.Person]) -> None:
    c = rep.checks
    c.append(("validation rejected something / 校验发现问题", sum(rep.rejected_by_code.values()) >= 4))
    c.append(
        (
            "duplicate enjoyment caught across units / 跨单位重复享受被拦截",
            rep.rejected_by_code.get("DUPLICATE_ENJOYMENT", 0) >= 2,
        )
    )
    c.append(
        (
            "every bank failure has a reason / 失败均有原因",
            all(k.split(" ", 1)[1] for k in rep.failed_by_reason),
        )
    )
    c.append(
        (
            "first attempt: paid + failed = sent / 首次发放：成功+失败=发送",
            rep.first_paid[0] + sum(rep.failed_by_reason.values()) == rep.sent[0],
        )
    )
    c.append(("re-issued records all paid / 重新发放全部成功", rep.reissued[0] == rep.reissue_paid[0] > 0))
    c.append(
        (
            "every payee paid exactly once / 每人恰好到账一次",
            rep.first_paid[0] + rep.reissue_paid[0] == len(payees) and rep.bank_credits == len(payees),
        )
    )
    c.append(
        (
            "bank credits equal settled amounts / 银行到账金额与结算一致",
            rep.bank_credit_fen == rep.first_paid[1] + rep.reissue_paid[1],
        )
    )
    c.append(
        ("both batches disclosed / 两批均已公示", len(rep.publications) == (2 if rep.reissue_batch_id else 1))
    )


def failures(rep: Report) -> list[str]:
    return [name for name, ok in rep.checks if not ok]


__all__ = ["DEPARTMENTS", "DemoFailure", "Report", "failures", "run_cycle", "seed_reference"]
