"""Account verification with the agent bank (work plan step 2, 账户与身份一致性): the values and
rules, independent of any bank protocol or store. No I/O.

An item is answered `verified` (the account exists, is the person's by name and ID number, and
can be credited), `rejected` with the bank's reason, `pending` (the bank did not answer: ask
again later; never a failure of the record) or `unsupported` (no way to ask this bank)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

VerificationStatus = Literal["verified", "rejected", "pending", "unsupported"]
BankVerdictStatus = Literal["ok", "failed"]

#: The bank's reasons, the same ones a credit to the account fails for (DESIGN.md §5), plus the
#: ID number, which only verification compares. A bank may answer other codes: passed on as given.
BANK_REASONS: dict[str, str] = {
    "ACCOUNT_NOT_FOUND": "卡号不存在",
    "ACCOUNT_CLOSED": "已销户",
    "ACCOUNT_FROZEN": "完全冻结",
    "ONLY_IN_NO_OUT": "只进不出",
    "NOT_SETTLEMENT_ACCOUNT": "非结算户",
    "MEDIUM_ABNORMAL": "介质状态异常",
    "NAME_MISMATCH": "户名不符",
    "ID_MISMATCH": "证件号码不符",
}

#: Why an item is pending (bank-gateway's own codes; nothing is wrong with the record).
PENDING_REASONS: dict[str, str] = {
    "BANK_TIMEOUT": "银行未在规定时间内答复，稍后将重新核验",
    "BANK_UNAVAILABLE": "暂时无法连接银行，稍后将重新核验",
    "BANK_REFUSED": "银行未受理核验请求，稍后将重新核验",
    "BANK_INCOMPLETE": "银行答复中缺少该账户的结果，稍后将重新核验",
}
#: BankError.outcome → pending reason code.
PENDING_BY_OUTCOME: dict[str, str] = {
    "timeout": "BANK_TIMEOUT",
    "error": "BANK_UNAVAILABLE",
    "rejected": "BANK_REFUSED",
}

#: Why an item is unsupported.
UNSUPPORTED_REASONS: dict[str, str] = {
    "BANK_NOT_CONFIGURED": "本平台未接入该银行，无法核验账户",
    "VERIFICATION_UNSUPPORTED": "该银行的接口不支持账户核验",
}


@dataclass(frozen=True)
class VerificationItem:
    """One account to verify, as the bank receives it (lives only for the request)."""

    item_id: str
    bank_code: str
    account_no: str
    holder_name: str
    id_number: str

    def __repr__(self) -> str:  # never show personal data, whoever prints this
        return f"VerificationItem(item_id={self.item_id!r}, bank_code={self.bank_code!r})"


@dataclass(frozen=True)
class BankVerdict:
    """A bank's answer for one item: `ok`, or `failed` with its reason code and wording."""

    status: BankVerdictStatus
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the caller is told about one item."""

    status: VerificationStatus
    reason_code: str | None
    reason: str | None
    checked_at: datetime | None  # when the bank answered (None when it did not)
    cached: bool = False

    @property
    def final(self) -> bool:
        """Verified or rejected: the bank's word, which may be cached."""
        return self.status in ("verified", "rejected")


def cache_material(item: VerificationItem) -> str:
    """The exact input of the cache key: two items share an answer only when the bank would
    compare them equal. Bank code and ID number are compared case-insensitively (x = X), the
    account and the name exactly as the bank compares them (trimmed): both are hex-encoded so that
    the blind index's upper-casing cannot merge two names that differ only in case."""
    return "\x1f".join(
        (
            "v1",
            item.bank_code.strip().upper(),
            item.account_no.strip().encode().hex(),
            item.holder_name.strip().encode().hex(),
            item.id_number.strip().upper(),
        )
    )


def cache_key(item: VerificationItem, blind_index: Callable[[str], str]) -> str:
    """Keyed digest of (bank, account, holder, ID number): nothing of them readable in the key."""
    return blind_index(cache_material(item))


def from_bank(verdict: BankVerdict, checked_at: datetime) -> Answer:
    """The caller's answer from the bank's verdict."""
    if verdict.status == "ok":
        return Answer("verified", None, None, checked_at)
    code = (verdict.reason_code or "UNKNOWN")[:32]
    reason = (verdict.reason or BANK_REASONS.get(code) or "银行核验未通过")[:200]
    return Answer("rejected", code, reason, checked_at)


def pending(code: str) -> Answer:
    return Answer("pending", code, PENDING_REASONS[code], None)


def unsupported(code: str) -> Answer:
    return Answer("unsupported", code, UNSUPPORTED_REASONS[code], None)


def ttl_seconds(answer: Answer, *, verified: int, rejected: int) -> int:
    """How long an answer may be reused; 0 = not cached (pending and unsupported never are)."""
    if answer.status == "verified":
        return verified
    if answer.status == "rejected":
        return rejected
    return 0
