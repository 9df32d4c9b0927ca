"""Dadukou's reference data as request bodies of the registry API (the demo and tests load them
through the gateway, as an administrator would).

What is real and what is not:
- programs, their departments and order: Annex 1 of 渡财发〔2022〕32号 (`ykt_contracts.reference`);
- towns/streets and their codes: the Chongqing statistical division list;
- payment standards, registers, exclusions, village/community names and codes, the agent banks'
  institution codes for 重庆农商行, the agency agreements: SYNTHETIC and plausible; the work plan
  gives none of them. Replace them with the district's own before any real use."""

from __future__ import annotations

from importlib import resources
from typing import Any

from ykt_contracts.reference import DEPARTMENTS, PROGRAMS, TOWNS

TRIAL_PROGRAM = "HM10"  # work plan §五.五: one program runs first; 低保 is paid monthly to many people

DIVISIONS_CSV = "dadukou-divisions.csv"

# Synthetic standards (fen). Where a national or Chongqing figure is well known it is used as the
# order of magnitude (e.g. 水库移民 600 元/人/年, 计生奖扶 960 元/人/年), otherwise invented.
_STANDARDS: dict[str, dict[str, Any]] = {
    "HM01": {"kind": "per_unit", "unit": "亩", "amount_fen_per_unit": 10_500},
    "HM02": {
        "kind": "tiered",
        "tiers": [
            {"category": "微耕机", "amount_fen": 80_000},
            {"category": "植保无人机", "amount_fen": 1_200_000},
            {"category": "烘干机", "amount_fen": 2_000_000},
        ],
    },
    "HM03": {"kind": "fixed", "amount_fen": 15_000},  # 600 元/人/年, paid quarterly
    "HM04": {"kind": "per_unit", "unit": "亩", "amount_fen_per_unit": 1_200, "ceiling_fen": 500_000},
    "HM05": {"kind": "per_unit", "unit": "亩", "amount_fen_per_unit": 30_000},
    "HM06": {"kind": "per_unit", "unit": "亩", "amount_fen_per_unit": 40_000},
    "HM07": {"kind": "per_unit", "unit": "亩", "amount_fen_per_unit": 1_600},
    "HM08": {"kind": "fixed", "amount_fen": 96_000},
    "HM09": {
        "kind": "tiered",
        "tiers": [{"category": "伤残", "amount_fen": 177_000}, {"category": "死亡", "amount_fen": 231_000}],
    },
    "HM10": {"kind": "fixed", "amount_fen": 65_000, "ceiling_fen": 65_000},
    "HM11": {"kind": "fixed", "amount_fen": 90_000},
    "HM12": {"kind": "fixed", "amount_fen": 100_000, "ceiling_fen": 600_000},
    "HM13": {
        "kind": "tiered",
        "tiers": [
            {"category": "轻度失能", "amount_fen": 5_000},
            {"category": "中度失能", "amount_fen": 10_000},
            {"category": "重度失能", "amount_fen": 20_000},
        ],
    },
    "HM14": {
        "kind": "tiered",
        "tiers": [{"category": "一级", "amount_fen": 10_000}, {"category": "二级", "amount_fen": 8_000}],
    },
    "HM15": {"kind": "fixed", "amount_fen": 8_000},
    "HM16": {"kind": "fixed", "amount_fen": 150_000},
    "HM17": {
        "kind": "tiered",
        "tiers": [
            {"category": "过渡期生活救助", "amount_fen": 60_000},
            {"category": "冬春救助", "amount_fen": 30_000},
        ],
    },
    "HM18": {
        "kind": "tiered",
        "tiers": [
            {"category": "C级危房", "amount_fen": 1_000_000},
            {"category": "D级危房", "amount_fen": 2_500_000},
        ],
    },
}

_LIVING = ["deceased"]  # nobody is paid after death
_REGISTERS: dict[str, tuple[list[str], list[str]]] = {  # (must be in, must not be in)
    "HM10": ([], ["deceased", "state_support", "state_salaried"]),
    "HM11": (["state_support"], ["deceased", "state_salaried"]),
    "HM13": ([], ["deceased", "state_salaried"]),
    "HM14": (["disabled"], ["deceased"]),
    "HM15": (["disabled"], ["deceased", "state_salaried"]),
    "HM16": ([], ["deceased"]),
}
# pairs not paid to the same person for the same period (synthetic but typical: 特困 vs 低保,
# 特困 vs 困难残疾人生活补贴, 孤儿 vs 困难残疾人生活补贴)
_EXCLUSIVE = [("HM10", "HM11"), ("HM11", "HM15"), ("HM15", "HM16")]


def programs(*, trial: str = TRIAL_PROGRAM) -> list[dict[str, Any]]:
    """Annex 1's 18 programs as `PUT /api/v1/programs` rows."""
    excl: dict[str, list[str]] = {}
    for a, b in _EXCLUSIVE:
        excl.setdefault(a, []).append(b)
        excl.setdefault(b, []).append(a)
    out = []
    for p in PROGRAMS:
        requires, excludes = _REGISTERS.get(p.code, ([], _LIVING))
        out.append(
            {
                "code": p.code,
                "name": p.name,
                "department_code": p.department_code,
                "frequency": p.frequency,
                "standard": _STANDARDS[p.code],
                "requires_registers": requires,
                "excludes_registers": excludes,
                "exclusive_with": sorted(excl.get(p.code, [])),
                "rollout": "trial" if p.code == trial else "not_yet",
            }
        )
    return out


# Agent banks. Institution codes: CNAPS head-office bank numbers of the four state banks; the one
# for 重庆农商行 is a placeholder (SYNTHETIC). All speak the JSON API to the simulator for now.
BANKS: tuple[tuple[str, str, str, str], ...] = (
    ("CQRCB", "重庆农村商业银行", "314653000000", "json_api"),
    ("ICBC", "中国工商银行", "102100099996", "json_api"),
    ("CCB", "中国建设银行", "105100000017", "json_api"),
    ("ABC", "中国农业银行", "103100000026", "json_api"),
    ("BOC", "中国银行", "104100000004", "json_api"),
)


def banks() -> list[dict[str, Any]]:
    return [{"code": c, "name": n, "institution_code": i, "adapter": a} for c, n, i, a in BANKS]


def organisations() -> list[dict[str, Any]]:
    """Departments, towns, the finance bureau, the banks and the supervisors of Dadukou."""
    out: list[dict[str, Any]] = [{"code": d.code, "name": d.name, "kind": "department"} for d in DEPARTMENTS]
    out += [{"code": t.code, "name": t.name, "kind": "town", "division_code": t.code} for t in TOWNS]
    out.append({"code": "FIN-500104", "name": "大渡口区财政局", "kind": "finance"})
    out += [{"code": f"BANK-{c}", "name": n, "kind": "bank", "bank_code": c} for c, n, _, _ in BANKS]
    out.append({"code": "AUDIT-500104", "name": "大渡口区审计局", "kind": "supervisor"})
    out.append({"code": "DISC-500104", "name": "大渡口区纪委监委", "kind": "supervisor"})
    return out


# Which agent bank each paying unit chose (§五.三). SYNTHETIC choices and agreement numbers.
_CHOICES = {
    "DEPT-AGRI": "CQRCB",
    "DEPT-FOREST": "CQRCB",
    "DEPT-HEALTH": "ICBC",
    "DEPT-CIVIL": "CQRCB",
    "DEPT-EMERG": "CCB",
    "DEPT-HOUSING": "ABC",
    "500104001000": "CQRCB",
    "500104002000": "ICBC",
    "500104003000": "CCB",
    "500104004000": "CQRCB",
    "500104005000": "BOC",
    "500104101000": "CQRCB",
    "500104102000": "ABC",
    "500104103000": "CQRCB",
}


def agreements() -> list[dict[str, Any]]:
    return [
        {
            "unit_code": unit,
            "bank_code": bank,
            "agreement_no": f"DDK-DF-2022-{n:03d}",
            "effective_date": "2022-04-15",
        }
        for n, (unit, bank) in enumerate(_CHOICES.items(), start=1)
    ]


def divisions_csv() -> str:
    """Dadukou's district, towns/streets and (SYNTHETIC) villages/communities, as CSV text."""
    return resources.files(__package__).joinpath(DIVISIONS_CSV).read_text(encoding="utf-8")


def villages_by_town() -> dict[str, list[str]]:
    """town code (12 digits) -> its village/community names, from the CSV."""
    import csv
    import io

    out: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(divisions_csv())):
        if len(row["code"]) == 12:
            out.setdefault(row["parent_code"] + "000", []).append(row["name"])
    return out


def requests(*, trial: str = TRIAL_PROGRAM) -> list[tuple[str, str, dict[str, Any]]]:
    """The registry API calls that load the whole reference set, in dependency order, as
    (method, path, httpx request arguments): divisions from the CSV, banks, organisations, the
    Annex 1 catalogue, the agency agreements. The demo, the bench and the tests all load it so."""
    return [
        (
            "POST",
            "/api/v1/divisions/import",
            {"content": divisions_csv().encode(), "headers": {"content-type": "text/csv"}},
        ),
        ("PUT", "/api/v1/banks", {"json": banks()}),
        ("PUT", "/api/v1/organisations", {"json": organisations()}),
        ("PUT", "/api/v1/programs", {"json": programs(trial=trial)}),
        ("PUT", "/api/v1/agency-agreements", {"json": agreements()}),
    ]
