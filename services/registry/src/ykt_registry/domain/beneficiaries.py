"""Beneficiaries and their one-card accounts (Annex 2): states and rules (pure: no I/O)."""

from __future__ import annotations

from enum import StrEnum

from ykt_kit.errors import Conflict, DomainError, NotFound


class PersonStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # 不再享受（迁出、停发等）
    DECEASED = "deceased"


class Carrier(StrEnum):
    """What the one-card account sits on (Chongqing pays most subsidies to the social security card)."""

    SOCIAL_SECURITY_CARD = "social_security_card"  # 社会保障卡金融账户
    BANK_CARD = "bank_card"  # 银行卡
    PASSBOOK = "passbook"  # 存折


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PersonNotFound(NotFound):
    code = "PERSON_NOT_FOUND"


class ChangeNotFound(NotFound):
    code = "ACCOUNT_CHANGE_NOT_FOUND"


class ChangeState(Conflict):
    code = "ACCOUNT_CHANGE_STATE"


class RegistrationConflict(Conflict):
    code = "REGISTRATION_CONFLICT"


class AccountInvalid(DomainError):
    status = 422
    code = "ACCOUNT_INVALID"


def account_tail(account_no: str) -> str:
    return account_no[-4:]
