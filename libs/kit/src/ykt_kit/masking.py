"""Masking of personal data for display (safe defaults; channels may be stricter)."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三 → 张*; 张三丰 → 张*丰; 欧阳娜娜 → 欧**娜."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    if len(chars) == 3:
        return chars[0] + "*" + chars[2]
    return chars[0] + "**" + chars[-1]


def mask_id(id_number: str) -> str:
    """First and last character only: 5****************2."""
    s = id_number.strip()
    if len(s) < 3:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 2) + s[-1]


def mask_account(account: str) -> str:
    """Last four digits only: ************1234."""
    s = account.strip()
    return "*" * max(0, len(s) - 4) + s[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    s = phone.strip()
    return s[:3] + "****" + s[-4:] if len(s) >= 11 else "*" * len(s)
