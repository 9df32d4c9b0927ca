"""The two intake forms and their row checkers (pure: no I/O, no database).

* `BENEFICIARY_FORM`: Annex 2 of the work plan, 个人一卡通账户收集表 (one row per person).
* `PAYMENT_FORM`: a payment batch (one row per payment: who, which account, how much).

A checker is fed row by row (`check(row_number, cells)`) and returns the normalised row, or None
when the row has errors; every problem becomes a `RowIssue` naming the row and the column in
Chinese. Memory stays bounded: issues are kept up to `max_issues` (the rest are only counted) and
duplicate detection keeps one compact slot per person seen.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from ykt_kit import idcard, masking

# ------------------------------------------------------------------ form definitions


class Kind(StrEnum):
    """What a column holds; decides how a quoted value is masked."""

    ID = "id"
    NAME = "name"
    PHONE = "phone"
    ACCOUNT = "account"
    AMOUNT = "amount"
    TEXT = "text"


@dataclass(frozen=True)
class FieldSpec:
    """One column of a form: canonical key, Chinese label, accepted header labels."""

    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class FormSpec:
    """A form: its fields and which columns must be present (`one_of`: at least one of each group)."""

    key: str
    title: str
    fields: tuple[FieldSpec, ...]
    one_of: tuple[tuple[str, ...], ...] = ()

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def label(self, key: str) -> str:
        return self.field(key).label


_NAME = FieldSpec("name", "姓名", ("姓名", "对象姓名", "补贴对象姓名", "受益人姓名", "name"), True, Kind.NAME)
_ID = FieldSpec(
    "id_number",
    "身份证号码",
    (
        "身份证号码",
        "身份证号",
        "身份证",
        "公民身份号码",
        "身份证件号码",
        "证件号码",
        "社会保障号码",
        "社保号码",
        "id_number",
        "idnumber",
        "id",
    ),
    True,
    Kind.ID,
)
_PHONE = FieldSpec(
    "phone",
    "联系电话",
    ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "联系方式", "phone", "mobile"),
    False,
    Kind.PHONE,
)
_TOWN = FieldSpec(
    "town",
    "镇街",
    (
        "镇街",
        "镇(街道)",
        "镇街道",
        "乡镇(街道)",
        "乡镇街道",
        "乡镇",
        "街道",
        "镇街代码",
        "镇街名称",
        "town",
        "town_code",
    ),
    True,
)
_VILLAGE_ALIASES = ("村(社区)", "村社区", "村/社区", "村居", "村、社区", "社区", "村", "village")
_HOUSEHOLD = FieldSpec("household_no", "户号", ("户号", "户编号", "家庭户号", "household", "household_no"))
_CARRIER = FieldSpec(
    "carrier",
    "账户载体",
    ("账户载体", "账户类型", "载体", "卡折类型", "账户介质", "carrier", "account_carrier"),
)
_BANK = FieldSpec(
    "bank",
    "代发银行",
    ("代发银行", "开户银行", "开户行", "银行", "银行名称", "代发银行代码", "银行代码", "bank", "bank_code"),
    True,
)
_ACCOUNT = FieldSpec(
    "account_no",
    "账号",
    (
        "账号/卡号",
        "账号",
        "卡号",
        "银行账号",
        "银行卡号",
        "一卡通账号",
        "账户号码",
        "卡(折)号",
        "卡折号",
        "account",
        "account_no",
    ),
    True,
    Kind.ACCOUNT,
)
_HOLDER = FieldSpec(
    "holder_name",
    "账户户名",
    ("账户户名", "户名", "账户名称", "开户名", "开户人", "holder", "holder_name"),
    False,
    Kind.NAME,
)
_AMOUNT = FieldSpec(
    "amount",
    "发放金额（元）",
    (
        "发放金额(元)",
        "发放金额",
        "金额(元)",
        "金额",
        "补贴金额(元)",
        "补贴金额",
        "应发金额",
        "amount",
        "amount_yuan",
    ),
    False,
    Kind.AMOUNT,
)
_QUANTITY = FieldSpec(
    "quantity",
    "数量",
    ("数量", "面积(亩)", "面积", "亩数", "计补面积", "补贴面积", "补贴数量", "quantity"),
    False,
    Kind.AMOUNT,
)

BENEFICIARY_FORM = FormSpec(
    key="beneficiary",
    title="个人一卡通账户收集表",
    fields=(
        _NAME,
        _ID,
        _PHONE,
        _TOWN,
        FieldSpec("village", "村（社区）", _VILLAGE_ALIASES, True),
        _HOUSEHOLD,
        _CARRIER,
        _BANK,
        _ACCOUNT,
        _HOLDER,
    ),
)

PAYMENT_FORM = FormSpec(
    key="payment",
    title="补贴发放清单",
    fields=(
        _ID,
        _NAME,
        _ACCOUNT,
        _BANK,
        _AMOUNT,
        _QUANTITY,
        _TOWN,
        FieldSpec("village", "村（社区）", _VILLAGE_ALIASES, False),
    ),
    one_of=(("amount", "quantity"),),
)

FORMS: tuple[FormSpec, ...] = (PAYMENT_FORM, BENEFICIARY_FORM)


# ------------------------------------------------------------------ issues and rows


class Severity(StrEnum):
    ERROR = "error"  # the row is not accepted
    WARNING = "warning"  # accepted, but worth a look


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A problem of one row and column, for the clerk who fixes the file.

    `column` is the Chinese label, `message` names row and column (第12行【身份证号码】：校验位错误),
    `value` quotes the cell masked (never a full ID, account or phone number).
    """

    row: int
    column: str
    code: str
    message: str
    severity: Severity = Severity.ERROR
    value: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "severity": str(self.severity),
            "value": self.value,
        }


class AccountCarrier(StrEnum):
    """账户载体 of Annex 2."""

    SOCIAL_SECURITY_CARD = "social_security_card"  # 社保卡（金融账户）
    BANK_CARD = "bank_card"  # 银行卡
    PASSBOOK = "passbook"  # 存折（不是卡：不做卡号校验）


@dataclass(frozen=True, slots=True)
class BeneficiaryRow:
    """One accepted row of the collection form, normalised (codes resolved, ID upper-case)."""

    row: int
    name: str
    id_number: str
    phone: str | None
    town_code: str
    village: str
    household_no: str | None
    carrier: AccountCarrier | None
    bank_code: str
    account_no: str
    holder_name: str


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One accepted row of a payment batch; `amount_fen` is exact (from yuan or quantity × rate)."""

    row: int
    id_number: str
    name: str
    account_no: str
    bank_code: str
    amount_fen: int
    quantity: Decimal | None
    town_code: str
    village: str


@dataclass
class CheckSummary:
    """Counters of a checker run (control totals for the accepted rows)."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    warnings: int = 0
    issues_dropped: int = 0
    amount_fen: int = 0


# ------------------------------------------------------------------ reference look-ups


def _norm_label(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


class Reference:
    """Known codes with their names: a cell may hold the code or the name (or a unique short name).

    Town names may be given without their 街道/镇/乡 suffix when that is unambiguous.
    """

    _SUFFIXES = ("街道办事处", "街道", "镇", "乡", "街")

    def __init__(self, items: Mapping[str, str], *, aliases: Mapping[str, str] | None = None) -> None:
        self._codes = {code.strip().casefold(): code for code in items}
        by_name: dict[str, set[str]] = {}
        for code, name in items.items():
            n = _norm_label(name)
            by_name.setdefault(n, set()).add(code)
            for suffix in self._SUFFIXES:
                if n.endswith(suffix) and len(n) > len(suffix) + 1:
                    by_name.setdefault(n[: -len(suffix)], set()).add(code)
                    break
        for alias, code in (aliases or {}).items():
            by_name.setdefault(_norm_label(alias), set()).add(code)
        # An ambiguous name resolves to nothing rather than to a guess.
        self._names = {n: next(iter(c)) for n, c in by_name.items() if len(c) == 1}

    def resolve(self, text: str) -> str | None:
        key = text.strip().casefold()
        if key in self._codes:
            return self._codes[key]
        return self._names.get(_norm_label(text))

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.resolve(text) is not None


# ------------------------------------------------------------------ value rules


_T = TypeVar("_T")


class _Bad(Exception):
    """A cell failed a rule (internal: becomes a RowIssue)."""

    def __init__(self, code: str, text: str, severity: Severity = Severity.ERROR) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.severity = severity


_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_NAME_CHARS = re.compile(f"[{_CJK}A-Za-z\u00c0-\u024f·' .-]+")
_CJK_SPACE = re.compile(f"(?<=[{_CJK}·])\\s+|\\s+(?=[{_CJK}·])")
# Dots people type for the middle dot of minority and foreign names (《少数民族姓名》用 U+00B7).
_DOTS = str.maketrans(dict.fromkeys("•・･‧∙⋅．。", "·"))
_ASCII_DOT_NEXT_TO_CJK = re.compile(f"(?<=[{_CJK}])\\.|\\.(?=[{_CJK}])")
_FULLWIDTH_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")
_AMOUNT_RE = re.compile(r"(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d+))?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_CARRIERS = {
    "社保卡": AccountCarrier.SOCIAL_SECURITY_CARD,
    "社会保障卡": AccountCarrier.SOCIAL_SECURITY_CARD,
    "社保卡金融账户": AccountCarrier.SOCIAL_SECURITY_CARD,
    "社会保障卡金融账户": AccountCarrier.SOCIAL_SECURITY_CARD,
    "第三代社保卡": AccountCarrier.SOCIAL_SECURITY_CARD,
    "social_security_card": AccountCarrier.SOCIAL_SECURITY_CARD,
    "银行卡": AccountCarrier.BANK_CARD,
    "借记卡": AccountCarrier.BANK_CARD,
    "储蓄卡": AccountCarrier.BANK_CARD,
    "bank_card": AccountCarrier.BANK_CARD,
    "存折": AccountCarrier.PASSBOOK,
    "一折通": AccountCarrier.PASSBOOK,
    "passbook": AccountCarrier.PASSBOOK,
}
_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
NAME_MAX = 40
TEXT_MAX = 40
ACCOUNT_MIN, ACCOUNT_MAX = 10, 30
QUANTITY_DECIMALS = 4
DEFAULT_MAX_AMOUNT_FEN = 100_000_000  # 100万元 per record: anything larger is a typo
DEFAULT_MAX_ISSUES = 10_000


def _ascii(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (IDs, accounts, phones, amounts)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        total += _LUHN_DOUBLE[d] if i % 2 else d
    return total % 10 == 0


def normalise_name(raw: str) -> str:
    """Full-width letters to ASCII, dot variants to ·, no spaces next to Chinese characters."""
    s = raw if raw.isascii() else raw.translate(_DOTS).translate(_FULLWIDTH_ASCII)
    s = " ".join(s.split())
    s = _CJK_SPACE.sub("", s)
    return _ASCII_DOT_NEXT_TO_CJK.sub("·", s) if "." in s else s


def check_name(raw: str) -> str:
    """A person's name: Chinese characters (any plane), letters, the middle dot; no digits."""
    if _CONTROL.search(raw):
        raise _Bad("NAME_CHARS", "含有控制字符或不可见字符")
    s = normalise_name(raw)
    if not s:
        raise _Bad("REQUIRED_MISSING", "不能为空")
    if not _NAME_CHARS.fullmatch(s):
        if any(c.isdigit() for c in s):
            raise _Bad("NAME_CHARS", "不能包含数字")
        bad = next(c for c in s if not _NAME_CHARS.fullmatch(c))
        raise _Bad("NAME_CHARS", f"含有不允许的字符“{bad}”")
    if s[0] in "·'.-" or s[-1] in "·'.-" or "··" in s:
        raise _Bad("NAME_CHARS", "间隔号“·”只能位于姓名中间")
    if len(s) > NAME_MAX:
        raise _Bad("NAME_TOO_LONG", f"长度不能超过{NAME_MAX}个字（当前{len(s)}个）")
    return s


def check_id(raw: str, *, today: date, lossy: bool) -> str:
    """GB 11643 ID or HK/Macau/Taiwan residence permit; returns it with an upper-case X."""
    s = _ascii(raw).replace(" ", "").upper()
    if lossy or _SCIENTIFIC.match(s):
        raise _Bad("NUMBER_PRECISION_LOST", _PRECISION_LOST)
    if len(s) == 15 and s.isdigit():
        raise _Bad("ID_LEGACY_15", "15位旧身份证号码已停止使用，请填写18位号码")
    if s[:2] in ("81", "82", "83") and idcard.residence_permit_region(s) is None:
        raise _Bad("ID_PERMIT_PREFIX", "港澳台居民居住证号码应以810000、820000或830000开头")
    try:
        idcard.parse(s, today=today)
    except idcard.InvalidId as exc:
        text = {
            "ID_FORMAT": "应为18位，前17位为数字，末位为数字或X",
            "ID_CHECKSUM": "校验位错误",
        }.get(exc.code, exc.message.removeprefix("身份证号码中的"))
        raise _Bad(exc.code, text) from None
    return s


_PRECISION_LOST = "单元格为数值格式，Excel 只保留15位有效数字，号码已失真；请将该列设为文本格式后重新录入"


def check_phone(raw: str) -> str:
    """An 11-digit mainland mobile, or a landline with its area code (023-68812345)."""
    s = re.sub(r"[\s\-()]", "", _ascii(raw))
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    if _MOBILE.fullmatch(s):
        return s
    if _LANDLINE.fullmatch(s):
        area = 3 if s[1] in "12" else 4
        local = s[area:]
        if len(local) in (7, 8) and local[0] not in "01":
            return f"{s[:area]}-{local}"
    raise _Bad("PHONE_FORMAT", "应为11位手机号码，或带区号的固定电话（如023-68812345）")


def check_account(raw: str, *, lossy: bool) -> str:
    s = re.sub(r"[\s\-]", "", _ascii(raw))
    if lossy or _SCIENTIFIC.match(s):
        raise _Bad("NUMBER_PRECISION_LOST", _PRECISION_LOST)
    if not s.isdigit() or not s.isascii():
        raise _Bad("ACCOUNT_FORMAT", "只能包含数字")
    if not ACCOUNT_MIN <= len(s) <= ACCOUNT_MAX:
        raise _Bad("ACCOUNT_FORMAT", f"长度应为{ACCOUNT_MIN}至{ACCOUNT_MAX}位（当前{len(s)}位）")
    return s


def parse_yuan(raw: str) -> int:
    """An amount in yuan to integer fen, exactly: '12.3' → 1230, '1,234.50' → 123450.

    At most two decimals (trailing zeros beyond them are fine); thousands separators only in
    proper groups of three; ¥ before or 元 after are tolerated; zero and negatives are refused.
    """
    s = _ascii(raw).replace(" ", "").removeprefix("¥").removesuffix("元")
    negative = s.startswith("-") or (s.startswith("(") and s.endswith(")"))
    body = s.strip("-()") if negative else s.removeprefix("+")
    m = _AMOUNT_RE.fullmatch(body)
    if m is None:
        if "," in body and re.fullmatch(r"[\d,]+(\.\d+)?", body):
            raise _Bad("AMOUNT_FORMAT", "千分位分隔符位置不正确（应每三位一个逗号，小数点用“.”）")
        raise _Bad("AMOUNT_FORMAT", "不是有效的金额数字")
    frac = m.group(2) or ""
    if len(frac) > 2 and frac[2:].strip("0"):
        raise _Bad("AMOUNT_DECIMALS", "金额最多保留两位小数（精确到分）")
    fen = int(m.group(1).replace(",", "")) * 100 + int((frac[:2] or "0").ljust(2, "0"))
    if negative or fen == 0:
        raise _Bad("AMOUNT_NOT_POSITIVE", "金额必须大于0")
    return fen


def parse_quantity(raw: str) -> Decimal:
    s = _ascii(raw).replace(" ", "").replace(",", "")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        raise _Bad("QUANTITY_FORMAT", "不是有效的数量")
    q = Decimal(s)
    if q <= 0:
        raise _Bad("QUANTITY_NOT_POSITIVE", "数量必须大于0")
    exponent = q.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > QUANTITY_DECIMALS:
        raise _Bad("QUANTITY_DECIMALS", f"数量最多保留{QUANTITY_DECIMALS}位小数")
    return q


def check_text(raw: str, *, limit: int = TEXT_MAX) -> str:
    if _CONTROL.search(raw):
        raise _Bad("TEXT_CHARS", "含有控制字符或不可见字符")
    s = " ".join(raw.split())
    if len(s) > limit:
        raise _Bad("TEXT_TOO_LONG", f"长度不能超过{limit}个字（当前{len(s)}个）")
    return s


def check_carrier(raw: str) -> AccountCarrier:
    carrier = _CARRIERS.get(_norm_label(raw).replace("(", "").replace(")", ""))
    if carrier is None:
        raise _Bad("CARRIER_UNKNOWN", "应为社保卡、银行卡或存折")
    return carrier


# for other forms built on these checks (validation's register files)
CellError = _Bad
to_ascii = _ascii
CONTROL_CHARS = _CONTROL


def mask_value(kind: Kind, value: str) -> str:
    """A quoted cell as it may appear in a report: personal numbers masked, long text cut."""
    if not value:
        return ""
    if kind is Kind.ID:
        return masking.mask_id(value)
    if kind is Kind.ACCOUNT:
        return masking.mask_account(value)
    if kind is Kind.PHONE:
        return masking.mask_phone(value)
    if kind is Kind.NAME:
        return masking.mask_name(value)
    # An ID or account typed into the wrong column must not leak either.
    return re.sub(r"\d{6,}[\dXx]*", lambda m: masking.mask_id(m.group()), value)[:60]


# ------------------------------------------------------------------ duplicate detection


class SeenIds:
    """ID number → first row, in ~12 bytes a slot (open addressing over two arrays).

    A dict of a million ints costs ~100 MB; this costs ~25 MB. Keys are the 17 digits before the
    check character (which they determine), so there are no false duplicates.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self._bits = capacity.bit_length() - 1
        self._mask = capacity - 1
        self._keys = array("q", bytes(8 * capacity))
        self._rows = array("l", bytes(array("l").itemsize * capacity))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def _slot(self, key: int) -> int:
        return ((key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> (64 - self._bits)

    def add(self, id_number: str, row: int) -> int | None:
        """Remember `row` for this ID; return the earlier row if it was already there."""
        k = int(id_number[:17]) + 1  # 0 marks an empty slot
        keys, mask = self._keys, self._mask
        i = self._slot(k)
        while True:
            found = keys[i]
            if found == 0:
                break
            if found == k:
                return int(self._rows[i])
            i = (i + 1) & mask
        keys[i] = k
        self._rows[i] = row
        self._n += 1
        if self._n * 2 > len(keys):
            self._grow()
        return None

    def _grow(self) -> None:
        old_keys, old_rows = self._keys, self._rows
        self._alloc(len(old_keys) * 2)
        keys, rows, mask = self._keys, self._rows, self._mask
        for k, r in zip(old_keys, old_rows, strict=True):
            if k:
                i = self._slot(k)
                while keys[i]:
                    i = (i + 1) & mask
                keys[i] = k
                rows[i] = r
                self._n += 1


# ------------------------------------------------------------------ checkers


class _Checker:
    """Shared machinery: issues with a cap, counters, the duplicate set."""

    form: FormSpec

    def __init__(self, *, today: date | None, max_issues: int) -> None:
        self.today = today or date.today()
        self.max_issues = max_issues
        self.issues: list[RowIssue] = []
        self.summary = CheckSummary()
        self._seen = SeenIds()
        self._kinds = {f.key: f.kind for f in self.form.fields}
        self._labels = {f.key: f.label for f in self.form.fields}
        self._row_errors = 0

    def issue(
        self,
        row: int,
        key: str,
        code: str,
        text: str,
        severity: Severity = Severity.ERROR,
        value: str = "",
    ) -> None:
        """Record one problem (also usable by callers for their own rules)."""
        if severity is Severity.ERROR:
            self.summary.errors += 1
            self._row_errors += 1
        else:
            self.summary.warnings += 1
        if len(self.issues) >= self.max_issues:
            self.summary.issues_dropped += 1
            return
        label = self._labels.get(key, key)
        prefix = f"第{row}行【{label}】：" if label else f"第{row}行："
        self.issues.append(
            RowIssue(
                row, label, code, prefix + text, severity, mask_value(self._kinds.get(key, Kind.TEXT), value)
            )
        )

    def _begin(self) -> None:
        self.summary.rows += 1
        self._row_errors = 0

    def _end(self) -> bool:
        """Count the row: accepted when no rule recorded an error for it."""
        ok = self._row_errors == 0
        if ok:
            self.summary.accepted += 1
        else:
            self.summary.rejected += 1
        return ok

    def _field(
        self, row: int, cells: Mapping[str, str], key: str, rule: Callable[..., _T], **kw: Any
    ) -> _T | None:
        """Run `rule` on the cell; on failure record the issue and return None."""
        raw = cells.get(key, "")
        if not raw:
            if self.form.field(key).required:
                self.issue(row, key, "REQUIRED_MISSING", "不能为空")
            return None
        try:
            return rule(raw, **kw)
        except _Bad as bad:
            self.issue(row, key, bad.code, bad.text, bad.severity, raw)
            return None

    def _person(self, row: int, cells: Mapping[str, str]) -> tuple[str | None, str | None]:
        lossy = getattr(cells, "lossy", ())
        id_number = self._field(
            row, cells, "id_number", check_id, today=self.today, lossy="id_number" in lossy
        )
        name = self._field(row, cells, "name", check_name)
        if isinstance(id_number, str):
            earlier = self._seen.add(id_number, row)
            if earlier is not None:
                self.issue(
                    row,
                    "id_number",
                    "PERSON_DUPLICATE",
                    f"与第{earlier}行为同一人（身份证号码重复）",
                    value=id_number,
                )
                id_number = None
        return id_number, name

    def _account(self, row: int, cells: Mapping[str, str], carrier: AccountCarrier | None) -> str | None:
        lossy = getattr(cells, "lossy", ())
        account = self._field(row, cells, "account_no", check_account, lossy="account_no" in lossy)
        if not isinstance(account, str):
            return None
        # Cards carry a Luhn digit (ISO/IEC 7812), passbooks do not; some real UnionPay cards fail it.
        card_like = carrier is not AccountCarrier.PASSBOOK and (
            carrier is not None or 16 <= len(account) <= 19
        )
        if card_like and not luhn_ok(account):
            self.issue(
                row,
                "account_no",
                "ACCOUNT_LUHN",
                "卡号校验位（Luhn）未通过，请核对卡号（少数银联卡不适用此校验）",
                Severity.WARNING,
                account,
            )
        return account

    def _lookup(
        self, row: int, cells: Mapping[str, str], key: str, ref: Reference, code: str, what: str
    ) -> str | None:
        raw = cells.get(key, "")
        if not raw:
            if self.form.field(key).required:
                self.issue(row, key, "REQUIRED_MISSING", "不能为空")
            return None
        resolved = ref.resolve(raw)
        if resolved is None:
            quoted = mask_value(Kind.TEXT, raw)[:20]
            self.issue(row, key, code, f"{what}“{quoted}”不存在（请填写代码或全称）", value=raw)
        return resolved


class BeneficiaryChecker(_Checker):
    """Checks rows of Annex 2 (个人一卡通账户收集表) against the known towns and banks."""

    form = BENEFICIARY_FORM

    def __init__(
        self,
        *,
        towns: Mapping[str, str],
        banks: Mapping[str, str],
        bank_aliases: Mapping[str, str] | None = None,
        today: date | None = None,
        max_issues: int = DEFAULT_MAX_ISSUES,
    ) -> None:
        super().__init__(today=today, max_issues=max_issues)
        self.towns = Reference(towns)
        self.banks = Reference(banks, aliases=bank_aliases)

    def check(self, row: int, cells: Mapping[str, str]) -> BeneficiaryRow | None:
        """Check one data row (row = its row number in the file); None when it has errors."""
        self._begin()
        id_number, name = self._person(row, cells)
        phone = self._field(row, cells, "phone", check_phone)
        town = self._lookup(row, cells, "town", self.towns, "TOWN_UNKNOWN", "镇街")
        village = self._field(row, cells, "village", check_text)
        household = self._field(row, cells, "household_no", check_text, limit=32)
        carrier = self._field(row, cells, "carrier", check_carrier)
        bank = self._lookup(row, cells, "bank", self.banks, "BANK_UNKNOWN", "代发银行")
        account = self._account(row, cells, carrier)
        holder = self._field(row, cells, "holder_name", check_name)
        if holder is not None and name is not None and holder != name:
            self.issue(
                row,
                "holder_name",
                "HOLDER_MISMATCH",
                "账户户名与姓名不一致（一人一卡：账户须在本人名下）",
                value=holder,
            )
        if not self._end() or not (id_number and name and town and bank and account):
            return None
        return BeneficiaryRow(
            row=row,
            name=name,
            id_number=id_number,
            phone=phone,
            town_code=town,
            village=village or "",
            household_no=household,
            carrier=carrier,
            bank_code=bank,
            account_no=account,
            holder_name=holder or name,
        )


class PaymentChecker(_Checker):
    """Checks rows of a payment batch; amounts in yuan, or a quantity × `rate_yuan` per unit."""

    form = PAYMENT_FORM

    def __init__(
        self,
        *,
        towns: Mapping[str, str],
        banks: Mapping[str, str],
        bank_aliases: Mapping[str, str] | None = None,
        rate_yuan: Decimal | str | None = None,
        max_amount_fen: int = DEFAULT_MAX_AMOUNT_FEN,
        today: date | None = None,
        max_issues: int = DEFAULT_MAX_ISSUES,
    ) -> None:
        super().__init__(today=today, max_issues=max_issues)
        self.towns = Reference(towns)
        self.banks = Reference(banks, aliases=bank_aliases)
        self.rate_yuan = Decimal(rate_yuan) if rate_yuan is not None else None
        self.max_amount_fen = max_amount_fen

    def check(self, row: int, cells: Mapping[str, str]) -> PaymentRow | None:
        """Check one data row (row = its row number in the file); None when it has errors."""
        self._begin()
        id_number, name = self._person(row, cells)
        account = self._account(row, cells, None)
        bank = self._lookup(row, cells, "bank", self.banks, "BANK_UNKNOWN", "代发银行")
        amount_fen, quantity = self._amount(row, cells)
        town = self._lookup(row, cells, "town", self.towns, "TOWN_UNKNOWN", "镇街")
        village = self._field(row, cells, "village", check_text)
        if not self._end() or not (id_number and name and account and bank and amount_fen and town):
            return None
        self.summary.amount_fen += amount_fen
        return PaymentRow(
            row=row,
            id_number=id_number,
            name=name,
            account_no=account,
            bank_code=bank,
            amount_fen=amount_fen,
            quantity=quantity,
            town_code=town,
            village=village or "",
        )

    def _amount(self, row: int, cells: Mapping[str, str]) -> tuple[int | None, Decimal | None]:
        raw_amount, raw_quantity = cells.get("amount", ""), cells.get("quantity", "")
        if not raw_amount and not raw_quantity:
            self.issue(row, "amount", "REQUIRED_MISSING", "发放金额与数量不能同时为空")
            return None, None
        quantity = self._field(row, cells, "quantity", parse_quantity) if raw_quantity else None
        amount = self._field(row, cells, "amount", parse_yuan) if raw_amount else None
        if (raw_quantity and quantity is None) or (raw_amount and amount is None):
            return None, None
        computed: int | None = None
        if quantity is not None:
            if self.rate_yuan is None:
                if amount is None:
                    self.issue(
                        row, "quantity", "RATE_MISSING", "未设置补贴标准（元/单位），无法按数量计算金额"
                    )
                    return None, None
            else:
                computed = int((quantity * self.rate_yuan).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)
                if computed <= 0:
                    self.issue(row, "quantity", "AMOUNT_NOT_POSITIVE", "按数量计算的金额必须大于0")
                    return None, None
        if amount is not None and computed is not None and amount != computed:
            self.issue(
                row,
                "amount",
                "AMOUNT_MISMATCH",
                f"发放金额与数量×补贴标准（{computed // 100}.{computed % 100:02d}元）不一致",
                value=raw_amount,
            )
            return None, None
        fen = amount if amount is not None else computed
        if fen is not None and fen > self.max_amount_fen:
            self.issue(
                row,
                "amount",
                "AMOUNT_TOO_LARGE",
                f"单笔金额超过上限{self.max_amount_fen // 100}元，请核对",
                value=raw_amount or raw_quantity,
            )
            return None, None
        return fen, quantity


Checker = BeneficiaryChecker | PaymentChecker


def checker_for(
    form: FormSpec,
    *,
    towns: Mapping[str, str],
    banks: Mapping[str, str],
    rate_yuan: Decimal | str | None = None,
    today: date | None = None,
    max_issues: int = DEFAULT_MAX_ISSUES,
) -> Checker:
    """The checker of a form (as detected by `readers.open_table`)."""
    if form.key == PAYMENT_FORM.key:
        return PaymentChecker(
            towns=towns, banks=banks, rate_yuan=rate_yuan, today=today, max_issues=max_issues
        )
    return BeneficiaryChecker(towns=towns, banks=banks, today=today, max_issues=max_issues)


def missing_columns(form: FormSpec, present: Collection[str]) -> list[str]:
    """Chinese labels of the required columns (or column groups) not present."""
    out = [f.label for f in form.fields if f.required and f.key not in present]
    for group in form.one_of:
        if not any(k in present for k in group):
            out.append("或".join(form.label(k) for k in group))
    return out


__all__ = [
    "BENEFICIARY_FORM",
    "FORMS",
    "PAYMENT_FORM",
    "AccountCarrier",
    "BeneficiaryChecker",
    "BeneficiaryRow",
    "CheckSummary",
    "Checker",
    "FieldSpec",
    "FormSpec",
    "Kind",
    "PaymentChecker",
    "PaymentRow",
    "Reference",
    "RowIssue",
    "SeenIds",
    "Severity",
    "checker_for",
    "luhn_ok",
    "mask_value",
    "missing_columns",
    "parse_yuan",
]
