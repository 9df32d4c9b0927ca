"""Synthetic form files for tests and benchmarks: valid people (real ID checksums, Luhn-valid
UnionPay numbers, invented names, nobody real), streamed to disk so a million rows never sit in
memory."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from ykt_contracts.reference import DISTRICT_CODE, TOWNS
from ykt_kit import idcard, synthetic

from .. import seed

TOWN_NAMES: dict[str, str] = {t.code: t.name for t in TOWNS}
BANK_NAMES: dict[str, str] = {code: name for code, name, _, _ in seed.BANKS}
BENEFICIARY_HEADER = (
    "序号",
    "姓名",
    "身份证号码",
    "联系电话",
    "镇街",
    "村（社区）",
    "户号",
    "账户载体",
    "代发银行",
    "账号/卡号",
    "账户户名",
)
PAYMENT_HEADER = ("序号", "身份证号码", "姓名", "账号", "代发银行", "发放金额（元）", "镇街", "村（社区）")
# the (synthetic) villages/communities the registry seeds for each town, so generated people
# pass the registry's village check too
_VILLAGES: dict[str, list[str]] = seed.villages_by_town()
_AMOUNTS = ("65.00", "120.50", "240", "1830.00", "95.3", "2,400.00")
_DAYS = 365 * 60


def _village(town: str, serial: int) -> str:
    names = _VILLAGES.get(town) or [""]
    return names[serial % len(names)]


def people(n: int, *, seed: int = 2022, area: str = DISTRICT_CODE) -> Iterator[synthetic.Person]:
    """`n` synthetic people, lazily; ID numbers are unique for n up to 21.9 million."""
    rng = random.Random(seed)
    towns = list(TOWN_NAMES)
    banks = list(BANK_NAMES)
    base = date(1940, 1, 1)
    for serial in range(n):
        # (birth day, sequence) from the serial: a bijection, so no two people share an ID.
        q, seq = divmod(serial, 1000)
        born = base + timedelta(days=(q * 7919) % _DAYS)
        p = synthetic.person(
            rng,
            area=area,
            town_code=towns[serial % len(towns)],
            village=_village(towns[serial % len(towns)], serial),
            bank_code=banks[serial % len(banks)],
            serial=serial,
        )
        yield replace(p, id_number=idcard.make(area, born, seq))


def beneficiary_rows(n: int, *, seed: int = 2022) -> Iterator[list[str]]:
    """Rows in `BENEFICIARY_HEADER` order (Annex 2), all valid."""
    for i, p in enumerate(people(n, seed=seed), start=1):
        yield [
            str(i),
            p.name,
            p.id_number,
            p.phone,
            p.town_code,
            p.village,
            f"H{i:07d}",
            "社保卡" if i % 3 else "银行卡",
            p.bank_code,
            p.account_no,
            p.name,
        ]


def payment_rows(n: int, *, seed: int = 2022) -> Iterator[list[str]]:
    """Rows in `PAYMENT_HEADER` order, all valid."""
    for i, p in enumerate(people(n, seed=seed), start=1):
        yield [
            str(i),
            p.id_number,
            p.name,
            p.account_no,
            BANK_NAMES[p.bank_code] if i % 2 else p.bank_code,
            _AMOUNTS[i % len(_AMOUNTS)],
            TOWN_NAMES[p.town_code] if i % 2 else p.town_code,
            p.village,
        ]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    title: str | None = None,
    delimiter: str = ",",
) -> Path:
    """Stream rows to a CSV file (utf-8-sig as Excel writes it, or gbk / gb18030 / utf-16)."""
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        if title is not None:
            w.writerow([title] + [""] * (len(header) - 1))
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    sheet: str = "Sheet1",
) -> Path:
    """Stream rows to an XLSX file (openpyxl write-only: rows go to disk as they come)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    if title is not None:
        ws.append([title])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


__all__ = [
    "BANK_NAMES",
    "BENEFICIARY_HEADER",
    "PAYMENT_HEADER",
    "TOWN_NAMES",
    "beneficiary_rows",
    "payment_rows",
    "people",
    "write_csv",
    "write_xlsx",
]
