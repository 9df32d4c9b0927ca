"""Validation rules: small pure functions that pass or reject with a stable code and a Chinese
message, grouped into a versioned rule set. No I/O here; the duplicate-enjoyment rule needs the
ledger and is decided in `enjoyment.py` from what the ledger answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from ykt_contracts import Totals
from ykt_contracts.events import PaymentRecord
from ykt_kit import idcard

OK = "OK"
OK_MESSAGE = "校验通过"


@dataclass(frozen=True)
class Decision:
    """The result of one rule (or of all of them) for one record."""

    outcome: Literal["pass", "reject"]
    code: str
    message: str

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"


PASS = Decision("pass", OK, OK_MESSAGE)


def reject(code: str, message: str) -> Decision:
    """A rejection with a stable English code and a Chinese message for the clerk."""
    return Decision("reject", code, message)


@dataclass(frozen=True)
class RuleContext:
    """What a record rule may know besides the record: the chunk's program, period and today."""

    program_code: str
    period: str
    today: date


RecordCheck = Callable[[PaymentRecord, RuleContext], Decision]
ChunkCheck = Callable[[Totals, Sequence[PaymentRecord]], Decision]


@dataclass(frozen=True)
class RecordRule:
    """A rule applied to each record; `codes` lists what it may answer, for the rule-set listing."""

    name: str
    check: RecordCheck
    codes: Mapping[str, str]


@dataclass(frozen=True)
class ChunkRule:
    """A rule over a whole chunk; a rejection applies to every record of the chunk."""

    name: str
    check: ChunkCheck
    codes: Mapping[str, str]


# ------------------------------------------------------------------ record rules

_ID_CODES = {
    "ID_FORMAT": "身份证号码应为18位，前17位为数字，末位为数字或X（含港澳台居民居住证81/82/83开头）",
    "ID_CHECKSUM": "身份证号码校验位错误",
    "ID_BIRTH_DATE": "身份证号码中的出生日期不存在或不合理",
}


def identity(record: PaymentRecord, ctx: RuleContext) -> Decision:
    """The ID number is a well-formed GB 11643 number (or 81/82/83 residence permit) with a real birth date."""
    try:
        idcard.parse(record.id_number, today=ctx.today)
    except idcard.InvalidId as exc:
        return reject(exc.code, exc.message)
    return PASS


AMOUNT_INVALID = "AMOUNT_INVALID"
AMOUNT_INVALID_MESSAGE = "发放金额必须大于0"


def amount_positive(record: PaymentRecord, ctx: RuleContext) -> Decision:
    """The amount to pay is more than zero fen."""
    if record.amount_fen <= 0:
        return reject(AMOUNT_INVALID, AMOUNT_INVALID_MESSAGE)
    return PASS


# ------------------------------------------------------------------ chunk rules

CHUNK_TOTALS_MISMATCH = "CHUNK_TOTALS_MISMATCH"


def yuan(fen: int) -> str:
    """12345 → '123.45'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def chunk_totals(declared: Totals, records: Sequence[PaymentRecord]) -> Decision:
    """The chunk's declared record count and amount equal those of its records."""
    count = len(records)
    amount = sum(r.amount_fen for r in records)
    if declared.record_count == count and declared.amount_fen == amount:
        return PASS
    return reject(
        CHUNK_TOTALS_MISMATCH,
        f"本块申报合计{declared.record_count}条、{yuan(declared.amount_fen)}元，"
        f"与明细合计{count}条、{yuan(amount)}元不符，整块退回",
    )


# ------------------------------------------------------------------ duplicate enjoyment (ledger)

DUPLICATE_ENJOYMENT = "DUPLICATE_ENJOYMENT"
DUPLICATE_ENJOYMENT_MESSAGE = "该对象本期已享受（或正在发放）此项补贴，不得重复享受"


# ------------------------------------------------------------------ the rule set


@dataclass(frozen=True)
class RuleSet:
    """A versioned set of rules: chunk rules first, then record rules in order, first rejection wins;
    records that pass them all then claim the duplicate-enjoyment ledger (when `ledger` is on)."""

    version: str
    chunk_rules: tuple[ChunkRule, ...]
    record_rules: tuple[RecordRule, ...]
    ledger: bool = True
    ledger_codes: Mapping[str, str] = field(
        default_factory=lambda: {DUPLICATE_ENJOYMENT: DUPLICATE_ENJOYMENT_MESSAGE}
    )

    def evaluate(
        self, declared: Totals, records: Sequence[PaymentRecord], ctx: RuleContext
    ) -> list[Decision]:
        """One decision per record, in input order, from the chunk and record rules (not the ledger)."""
        for chunk_rule in self.chunk_rules:
            verdict = chunk_rule.check(declared, records)
            if not verdict.passed:
                return [verdict] * len(records)
        return [self.evaluate_record(r, ctx) for r in records]

    def evaluate_record(self, record: PaymentRecord, ctx: RuleContext) -> Decision:
        for rule in self.record_rules:
            verdict = rule.check(record, ctx)
            if not verdict.passed:
                return verdict
        return PASS

    def describe(self) -> list[dict[str, str]]:
        """Every code the rule set may answer, with its rule, scope and Chinese description."""
        out: list[dict[str, str]] = []
        for scope, rules in (("chunk", self.chunk_rules), ("record", self.record_rules)):
            for rule in rules:
                out += [
                    {"rule": rule.name, "scope": scope, "code": c, "description": d}
                    for c, d in rule.codes.items()
                ]
        if self.ledger:
            out += [
                {"rule": "duplicate_enjoyment", "scope": "ledger", "code": c, "description": d}
                for c, d in self.ledger_codes.items()
            ]
        return out


RULE_SET_V1 = RuleSet(
    version="v1",
    chunk_rules=(
        ChunkRule(
            "chunk_totals",
            chunk_totals,
            {CHUNK_TOTALS_MISMATCH: "本块申报的记录数、金额与明细合计不符，整块退回"},
        ),
    ),
    record_rules=(
        RecordRule("identity", identity, _ID_CODES),
        RecordRule("amount", amount_positive, {AMOUNT_INVALID: AMOUNT_INVALID_MESSAGE}),
    ),
)

#: Rule sets by version; the current one decides new submissions.
RULE_SETS: dict[str, RuleSet] = {RULE_SET_V1.version: RULE_SET_V1}
CURRENT = RULE_SET_V1
