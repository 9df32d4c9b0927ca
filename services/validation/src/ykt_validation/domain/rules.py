"""Validation rules: small pure functions that pass or reject with a stable code and a Chinese
message, grouped into a versioned rule set. No I/O here; the duplicate-enjoyment rule needs the
ledger and is decided in `enjoyment.py` from what the ledger answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ykt_contracts import Totals
from ykt_contracts.events import (
    FixedStandardRule,
    PaymentRecord,
    PerUnitStandardRule,
    ProgramRules,
    TieredStandardRule,
)
from ykt_kit import idcard

from .registers import (
    DEFAULT_RED_FLAG_POLICY,
    REGISTER_NAMES,
    FlagPolicy,
    Membership,
    Memberships,
    ProgramRegisters,
    RedFlagPolicy,
    RegisterImportRef,
    RegisterKind,
)

OK = "OK"
OK_MESSAGE = "校验通过"


@dataclass(frozen=True)
class Decision:
    """The result of one rule (or of all of them) for one record. A warning passes (the record
    may be paid) but carries a code and message for the clerk to look at."""

    outcome: Literal["pass", "warn", "reject"]
    code: str
    message: str

    @property
    def passed(self) -> bool:
        """The record may be paid: a pass or a warning."""
        return self.outcome != "reject"

    @property
    def warned(self) -> bool:
        return self.outcome == "warn"


PASS = Decision("pass", OK, OK_MESSAGE)


def reject(code: str, message: str) -> Decision:
    """A rejection with a stable English code and a Chinese message for the clerk."""
    return Decision("reject", code, message)


def warn(code: str, message: str) -> Decision:
    """A warning: the record passes, with a stable code and a Chinese message for the clerk."""
    return Decision("warn", code, message)


@dataclass(frozen=True)
class RuleContext:
    """What a record rule may know besides the record: the chunk's program, period and today, the
    register imports consulted for the chunk (kind → import; a kind never imported is absent),
    the program's rules as the registry sent them (None from old producers: the program rules are
    then skipped) and the chunk's people's register memberships (loaded once per chunk)."""

    program_code: str
    period: str
    today: date
    registers: Mapping[RegisterKind, RegisterImportRef] = field(default_factory=dict)
    program: ProgramRules | None = None
    memberships: Memberships = field(default_factory=dict)


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


# ------------------------------------------------------------------ program standard

AMOUNT_NOT_STANDARD = "AMOUNT_NOT_STANDARD"
AMOUNT_OVER_CEILING = "AMOUNT_OVER_CEILING"
_STANDARD_CODES = {
    AMOUNT_NOT_STANDARD: "发放金额与项目补贴标准不符（定额：等于标准；按单位：数量×单位标准，四舍五入到分；分档：等于所属档次金额）",
    AMOUNT_OVER_CEILING: "发放金额超过项目每人每期发放上限",
}


def per_unit_amount(quantity: Decimal, amount_fen_per_unit: int) -> int:
    """quantity × the standard per unit, rounded half up to the fen (as the registry prices it)."""
    return int((quantity * amount_fen_per_unit).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _standard_amount(record: PaymentRecord, program: ProgramRules) -> Decision:
    std = program.standard
    amount = record.amount_fen
    if isinstance(std, FixedStandardRule) and amount != std.amount_fen:
        return reject(
            AMOUNT_NOT_STANDARD, f"发放金额{yuan(amount)}元与本项目定额标准{yuan(std.amount_fen)}元不符"
        )
    if isinstance(std, PerUnitStandardRule) and record.quantity is not None:
        expected = per_unit_amount(record.quantity, std.amount_fen_per_unit)
        if amount != expected:
            return reject(
                AMOUNT_NOT_STANDARD,
                f"发放金额{yuan(amount)}元与数量{record.quantity.normalize():f}{std.unit}"
                f"×标准{yuan(std.amount_fen_per_unit)}元/{std.unit}={yuan(expected)}元不符",
            )
    if isinstance(std, TieredStandardRule):
        tiers = {t.category: t.amount_fen for t in std.tiers}
        if record.category is not None:
            if record.category not in tiers:
                return reject(
                    AMOUNT_NOT_STANDARD, f"类别“{record.category}”不在本项目的档次中（{'、'.join(tiers)}）"
                )
            if amount != tiers[record.category]:
                return reject(
                    AMOUNT_NOT_STANDARD,
                    f"发放金额{yuan(amount)}元与“{record.category}”档标准{yuan(tiers[record.category])}元不符",
                )
        elif amount not in tiers.values():
            listed = "、".join(f"{c}{yuan(a)}元" for c, a in tiers.items())
            return reject(
                AMOUNT_NOT_STANDARD, f"发放金额{yuan(amount)}元不是本项目任一档次的标准（{listed}）"
            )
    return PASS


def amount_standard(record: PaymentRecord, ctx: RuleContext) -> Decision:
    """The amount is the program's standard (fixed: equal; per unit: quantity × standard, when a
    quantity is given; tiered: one of the tiers, or the record's own category's) and not over
    the program's ceiling. Skipped when the event carries no program rules or no standard."""
    if ctx.program is None or ctx.program.standard is None:
        return PASS
    verdict = _standard_amount(record, ctx.program)
    if not verdict.passed:
        return verdict
    ceiling = ctx.program.standard.ceiling_fen
    if ceiling is not None and record.amount_fen > ceiling:
        return reject(
            AMOUNT_OVER_CEILING, f"发放金额{yuan(record.amount_fen)}元超过本项目每人每期上限{yuan(ceiling)}元"
        )
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


# ------------------------------------------------------------------ reference registers (not yet in CURRENT)
#
# Called per record with the person's memberships (`memberships(session, keys)[record.person_key]`,
# empty when in no register), the program's register requirements from the catalogue, and
# `ctx.registers`, the imports consulted, so a message can name the register's date even for
# someone who is not in it.

REGISTER_REQUIRED_MISSING = "REGISTER_REQUIRED_MISSING"
REGISTER_UNAVAILABLE = "REGISTER_UNAVAILABLE"
RED_FLAG_CODES: Mapping[RegisterKind, str] = {k: f"RED_FLAG_{k.value.upper()}" for k in RegisterKind}
RED_FLAG_DECEASED = RED_FLAG_CODES[RegisterKind.DECEASED]
RED_FLAG_STATE_SALARIED = RED_FLAG_CODES[RegisterKind.STATE_SALARIED]
# the worst first: when a person is in several excluded registers, the message names this one
_FLAG_ORDER = (
    RegisterKind.DECEASED,
    RegisterKind.STATE_SALARIED,
    RegisterKind.STATE_SUPPORT,
    RegisterKind.POVERTY,
    RegisterKind.DISABLED,
)

REGISTER_CODES: Mapping[str, str] = {
    REGISTER_REQUIRED_MISSING: "本项目要求对象在某名册中（如残疾人两项补贴须在残疾人名册中），对象不在其当前版本中",
    REGISTER_UNAVAILABLE: "本项目要求的名册尚未导入，无法核对资格",
    **{
        RED_FLAG_CODES[k]: f"{REGISTER_NAMES[k]}中有此人，本项目不得发放给该名册人员（按配置退回或提示核实）"
        for k in _FLAG_ORDER
    },
}


def register_required(
    record: PaymentRecord,
    ctx: RuleContext,
    memberships: Mapping[RegisterKind, Membership],
    program: ProgramRegisters,
) -> Decision:
    """The person is in every register the program requires (e.g. 残疾人 for the disability allowances)."""
    for kind in _FLAG_ORDER:
        if kind not in program.requires or kind in memberships:
            continue
        ref = ctx.registers.get(kind)
        if ref is None:
            return reject(REGISTER_UNAVAILABLE, f"{REGISTER_NAMES[kind]}尚未导入，无法核对本项目的资格条件")
        return reject(
            REGISTER_REQUIRED_MISSING,
            f"不在{REGISTER_NAMES[kind]}中（名册日期{ref.as_of.isoformat()}），不符合本项目发放条件",
        )
    return PASS


def _red_flag_message(m: Membership, policy: FlagPolicy) -> str:
    name = REGISTER_NAMES[m.kind]
    facts = [f"名册日期{m.as_of.isoformat()}"]
    if m.kind is RegisterKind.DECEASED and m.attributes.get("date_of_death"):
        facts.insert(0, f"死亡日期{m.attributes['date_of_death']}")
    if m.kind is RegisterKind.STATE_SALARIED and m.attributes.get("employer"):
        facts.insert(0, f"工作单位：{m.attributes['employer']}")
    tail = "不得发放" if policy is FlagPolicy.REJECT else "请核实后再发放"
    return f"{name}中有此人（{'，'.join(facts)}），{tail}"


def red_flags(
    record: PaymentRecord,
    ctx: RuleContext,
    memberships: Mapping[RegisterKind, Membership],
    program: ProgramRegisters,
    policy: RedFlagPolicy = DEFAULT_RED_FLAG_POLICY,
) -> Decision:
    """The person is in no register the program excludes (死亡人员, 财政供养人员 for 低保, ...);
    each such membership rejects or warns as `policy` says for this program. A rejection wins
    over a warning; the worst register is named."""
    warning: Decision | None = None
    for kind in _FLAG_ORDER:
        m = memberships.get(kind)
        if kind not in program.excludes or m is None:
            continue
        action = policy.for_(program.code, kind)
        if action is FlagPolicy.REJECT:
            return reject(RED_FLAG_CODES[kind], _red_flag_message(m, action))
        warning = warning or warn(RED_FLAG_CODES[kind], _red_flag_message(m, action))
    return warning or PASS


def program_registers(record: PaymentRecord, ctx: RuleContext) -> Decision:
    """The program's register requirements and red flags, from the memberships loaded for the
    chunk; skipped when the event carries no program rules."""
    if ctx.program is None:
        return PASS
    program = ProgramRegisters.of(
        ctx.program.code, requires=ctx.program.requires_registers, excludes=ctx.program.excludes_registers
    )
    mine = ctx.memberships.get(record.person_key, {})
    verdict = register_required(record, ctx, mine, program)
    if not verdict.passed:
        return verdict
    return red_flags(record, ctx, mine, program)


# ------------------------------------------------------------------ exclusive programs (ledger)

EXCLUSIVE_PROGRAM = "EXCLUSIVE_PROGRAM"
EXCLUSIVE_PROGRAM_MESSAGE = "该对象本期已享受（或正在发放）与本项目互斥的补贴项目，不得同时享受"


def exclusive_program(other_program: str) -> Decision:
    """The person holds (or is being paid) `other_program` for the period, which excludes this one."""
    return reject(
        EXCLUSIVE_PROGRAM, f"该对象本期已享受（或正在发放）互斥项目 {other_program}，不得同时享受本项目补贴"
    )


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
    #: records of a program with mutually exclusive programs also claim each exclusive pair
    exclusions: bool = False

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
        """The first rejection; else the first warning; else a pass."""
        warning: Decision | None = None
        for rule in self.record_rules:
            verdict = rule.check(record, ctx)
            if not verdict.passed:
                return verdict
            if verdict.warned and warning is None:
                warning = verdict
        return warning or PASS

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

#: v2 adds the program's rules, when the registry sends them: the payment standard and ceiling,
#: register requirements and red flags, and mutually exclusive programs (claimed in the ledger).
RULE_SET_V2 = RuleSet(
    version="v2",
    chunk_rules=RULE_SET_V1.chunk_rules,
    record_rules=(
        *RULE_SET_V1.record_rules,
        RecordRule("amount_standard", amount_standard, _STANDARD_CODES),
        RecordRule("registers", program_registers, REGISTER_CODES),
    ),
    ledger_codes={
        DUPLICATE_ENJOYMENT: DUPLICATE_ENJOYMENT_MESSAGE,
        EXCLUSIVE_PROGRAM: EXCLUSIVE_PROGRAM_MESSAGE,
    },
    exclusions=True,
)

#: Rule sets by version; the current one decides new submissions.
RULE_SETS: dict[str, RuleSet] = {r.version: r for r in (RULE_SET_V1, RULE_SET_V2)}
CURRENT = RULE_SET_V2
