"""Citizen ID numbers (GB 11643-1999) and HK/Macau/Taiwan residence permits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# 港澳台居民居住证: the first six digits are fixed per region (GB 11643 checksum unchanged).
RESIDENCE_PERMIT_REGIONS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says about its holder."""

    area_code: str
    birth_date: date
    gender: str  # "M" / "F"
    residence_permit: bool


class InvalidId(ValueError):
    """The ID number is invalid; `code` says why (stable) and `message` in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(id_number: str, *, today: date | None = None) -> IdInfo:
    """Validate an 18-character ID (checksum, real birth date) and return what it encodes."""
    s = id_number.strip().upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        raise InvalidId("ID_FORMAT", "身份证号码应为18位，前17位为数字，末位为数字或X")
    if check_char(s[:17]) != s[17]:
        raise InvalidId("ID_CHECKSUM", "身份证号码校验位错误")
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError as exc:
        raise InvalidId("ID_BIRTH_DATE", "身份证号码中的出生日期不存在") from exc
    if born > (today or date.today()) or born.year < 1880:
        raise InvalidId("ID_BIRTH_DATE", "身份证号码中的出生日期不合理")
    return IdInfo(
        area_code=s[:6],
        birth_date=born,
        gender="M" if int(s[16]) % 2 else "F",
        residence_permit=s[:2] in ("81", "82", "83"),
    )


def residence_permit_region(id_number: str) -> str | None:
    """香港 / 澳门 / 台湾 for a residence permit number (810000/820000/830000…), else None."""
    return RESIDENCE_PERMIT_REGIONS.get(id_number.strip()[:6])


def is_valid(id_number: str) -> bool:
    try:
        parse(id_number)
    except InvalidId:
        return False
    return True


def make(area: str, born: date, seq: int) -> str:
    """Build a valid synthetic ID number from an area code, a birth date and a sequence (0-999)."""
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
