"""What a bank core decides for one credit instruction, and the notice it sends the holder.

Pure functions and value types; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

#: China Standard Time has no daylight saving: a fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

BANK_NAMES: dict[str, str] = {
    "CQRCB": "重庆农村商业银行",
    "ICBC": "中国工商银行",
    "CCB": "中国建设银行",
    "ABC": "中国农业银行",
    "BOC": "中国银行",
}


def bank_name(code: str) -> str:
    """Display name of a bank; an unknown code stands for itself."""
    return BANK_NAMES.get(code, code)


class AccountState(StrEnum):
    """State of an account in the bank's book."""

    NORMAL = "normal"
    CLOSED = "closed"
    FROZEN = "frozen"
    INBOUND_ONLY = "inbound_only"
    NON_SETTLEMENT = "non_settlement"
    MEDIUM_ABNORMAL = "medium_abnormal"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A failure reason: stable English code, the bank's Chinese wording."""

    code: str
    reason: str


ACCOUNT_NOT_FOUND = Rejection("ACCOUNT_NOT_FOUND", "卡号不存在")
NAME_MISMATCH = Rejection("NAME_MISMATCH", "户名不符")
#: Only account verification compares the ID number; a credit is decided on account and name.
ID_MISMATCH = Rejection("ID_MISMATCH", "证件号码不符")
STATE_REJECTIONS: dict[AccountState, Rejection] = {
    AccountState.CLOSED: Rejection("ACCOUNT_CLOSED", "已销户"),
    AccountState.FROZEN: Rejection("ACCOUNT_FROZEN", "完全冻结"),
    AccountState.INBOUND_ONLY: Rejection("ONLY_IN_NO_OUT", "只进不出"),
    AccountState.NON_SETTLEMENT: Rejection("NOT_SETTLEMENT_ACCOUNT", "非结算户"),
    AccountState.MEDIUM_ABNORMAL: Rejection("MEDIUM_ABNORMAL", "介质状态异常"),
}


@dataclass(slots=True)
class Account:
    """One entry of a bank's account book."""

    account_no: str
    holder_name: str
    holder_id_number: str
    state: AccountState


def decide(account: Account | None, payee_name: str) -> Rejection | None:
    """The bank core's verdict on a credit: a rejection, or None when it can be booked."""
    if account is None:
        return ACCOUNT_NOT_FOUND
    rejection = STATE_REJECTIONS.get(account.state)
    if rejection is not None:
        return rejection
    if account.holder_name.strip() != payee_name.strip():
        return NAME_MISMATCH
    return None


def same_id_number(a: str, b: str) -> bool:
    """ID numbers compared trimmed, with the check character's x and X the same."""
    return a.strip().upper() == b.strip().upper()


def verify(account: Account | None, holder_name: str, holder_id_number: str) -> Rejection | None:
    """The bank's answer to "does this account exist, is it this person's, can it be credited?":
    the same checks in the same order as a credit (`decide`), then the ID number, which is
    compared only when the book holds one (an old passbook record may not)."""
    rejection = decide(account, holder_name)
    if rejection is not None or account is None:
        return rejection
    if account.holder_id_number.strip() and not same_id_number(account.holder_id_number, holder_id_number):
        return ID_MISMATCH
    return None


def yuan(amount_fen: int) -> str:
    """123456 → '1234.56' (exact: no floating point)."""
    sign = "-" if amount_fen < 0 else ""
    fen = abs(amount_fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def account_tail(account_no: str) -> str:
    """The last four characters of an account number, all a notice may show."""
    return account_no.strip()[-4:]


def sms_text(*, bank_code: str, account_no: str, amount_fen: int, on: date, memo: str | None) -> str:
    """The notice the bank texts the holder after a credit."""
    note = f"（{memo.strip()}）" if memo and memo.strip() else ""
    return (
        f"【{bank_name(bank_code)}】您尾号{account_tail(account_no)}的账户于{on.month}月{on.day}日"
        f"收到惠民惠农补贴资金{yuan(amount_fen)}元{note}。"
    )


def china_now() -> datetime:
    """Current time in China."""
    return datetime.now(CHINA_TZ)
