"""Synthetic people for demos, tests and benchmarks: valid ID checksums, invented names,
UnionPay-like card numbers with a Luhn digit. Nobody here is real."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .idcard import make

# Common surnames and given-name characters; combinations are invented.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文玉兰红梅志强春燕海燕晓东云飞德华"


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str
    account_no: str
    bank_code: str
    town_code: str
    village: str


def person(
    rng: random.Random, *, area: str, town_code: str, village: str, bank_code: str, serial: int
) -> Person:
    """One synthetic person; `serial` keeps ID numbers unique within a generated population."""
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
    id_number = make(area, born, serial % 1000)
    surname = rng.choice(_SURNAMES)
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    body = "62" + f"{rng.randrange(10**15):015d}" + f"{serial % 10}"
    account = body[:18] + luhn_digit(body[:18])
    phone = "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}"
    return Person(surname + given, id_number, phone, account, bank_code, town_code, village)


def population(
    n: int, *, seed: int, area: str, towns: list[tuple[str, str]], bank_codes: list[str]
) -> list[Person]:
    """`n` distinct synthetic people spread over `towns` [(code, village)] and `bank_codes`."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[Person] = []
    serial = 0
    while len(out) < n:
        serial += 1
        town, village = towns[serial % len(towns)]
        p = person(
            rng,
            area=area,
            town_code=town,
            village=village,
            bank_code=bank_codes[serial % len(bank_codes)],
            serial=serial,
        )
        if p.id_number in seen:
            continue
        seen.add(p.id_number)
        out.append(p)
    return out
