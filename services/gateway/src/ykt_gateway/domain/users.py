"""Operator accounts: password hashing and the demo users of every role (DESIGN.md §1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import NamedTuple

from ykt_kit.actor import Role

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def password_acceptable(password: str) -> bool:
    """等保 complexity: at least 10 characters with upper, lower, digit and symbol."""
    return (
        len(password) >= 10
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
        and any(not c.isalnum() for c in password)
    )


class DemoUser(NamedTuple):
    username: str
    display_name: str
    role: Role
    org_code: str
    org_name: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "平台管理员", Role.ADMIN, "FIN-500104", "大渡口区财政局"),
    DemoUser("finance", "财政复核员", Role.FINANCE, "FIN-500104", "大渡口区财政局"),
    DemoUser("civil", "民政局经办员", Role.DEPARTMENT, "DEPT-CIVIL", "区民政局"),
    DemoUser("agri", "农业农村委经办员", Role.DEPARTMENT, "DEPT-AGRI", "区农业农村委"),
    DemoUser("town-xsc", "新山村街道经办员", Role.TOWN, "500104001000", "新山村街道"),
    DemoUser("town-bq", "八桥镇经办员", Role.TOWN, "500104101000", "八桥镇"),
    DemoUser("bank-cqrcb", "重庆农商行代发岗", Role.BANK, "BANK-CQRCB", "重庆农村商业银行"),
    DemoUser("audit", "区审计局审计员", Role.SUPERVISOR, "AUDIT-500104", "区审计局"),
)
